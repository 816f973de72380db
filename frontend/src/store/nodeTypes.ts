/** The node-type registry from the API, loaded once and indexed by type name. */
import { create } from "zustand";
import { api } from "../api";
import type { NodeType } from "./types";

interface NodeTypesState {
  list: NodeType[];
  byType: Record<string, NodeType>;
  loaded: boolean;
  load: () => Promise<void>;
}

export const useNodeTypes = create<NodeTypesState>()((set, get) => ({
  list: [],
  byType: {},
  loaded: false,
  load: async () => {
    if (get().loaded) return;
    const list = await api.nodeTypes();
    set({ list, byType: Object.fromEntries(list.map((t) => [t.type, t])), loaded: true });
  },
}));
