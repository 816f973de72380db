/**
 * The editor's store: the open workflow's graph (with undo history via zundo), the selection,
 * measured node sizes and the server's validation report. Every graph edit goes through `edit`,
 * so each is one undo step; a drag is recorded once, when it ends.
 */
import { temporal } from "zundo";
import { create } from "zustand";
import { connectionProblem, edgeFor, freshId, type Connection } from "../canvas/ports";
import * as ops from "./graphOps";
import type { GraphNode, Issue, NodeType, ValidationReport, Workflow, WorkflowGraph, XY } from "./types";
import { EMPTY_GRAPH } from "./types";

export interface EditorState {
  workflow: Workflow | null;
  graph: WorkflowGraph;
  savedGraph: WorkflowGraph;
  readOnly: boolean;
  selected: Record<string, boolean>;
  measured: Record<string, { width: number; height: number }>;
  report: ValidationReport | null;
  openNodeId: string | null;
  notice: string | null;
  addFrom: { node: string; port: string } | null;

  open: (workflow: Workflow, options?: { readOnly?: boolean; graph?: WorkflowGraph }) => void;
  edit: (change: (graph: WorkflowGraph) => WorkflowGraph, coalesceKey?: string) => void;
  markSaved: (workflow: Workflow) => void;
  setReport: (report: ValidationReport | null) => void;
  select: (ids: string[], additive?: boolean) => void;
  setSelected: (id: string, on: boolean) => void;
  setMeasured: (id: string, size: { width: number; height: number }) => void;
  setOpenNode: (id: string | null) => void;
  setNotice: (text: string | null) => void;
  setAddFrom: (from: { node: string; port: string } | null) => void;
  dragMove: (positions: Map<string, XY>, done: boolean) => void;
  addNode: (type: NodeType, position: XY, from?: { node: string; port: string }) => string;
  connect: (conn: Connection, types: Record<string, NodeType>) => string | null;
  updateNode: (id: string, patch: Partial<GraphNode>) => void;
  toggleDisabled: (ids?: string[]) => void;
  removeSelected: () => void;
  pasteGraph: (clip: WorkflowGraph, offset: XY) => void;
}

let dragSnapshot: WorkflowGraph | null = null;
// Typing into one field is one undo step: edits with the same key within COALESCE_MS merge.
const COALESCE_MS = 1500;
let lastEdit = { key: "", at: 0 };

type SetState = (partial: Partial<EditorState>) => void;
type GetState = () => EditorState;

const INITIAL = {
  workflow: null, graph: EMPTY_GRAPH, savedGraph: EMPTY_GRAPH, readOnly: false, selected: {}, measured: {},
  report: null, openNodeId: null, notice: null, addFrom: null,
};

/** Opening, saving, selection and the other view state (none of it is in the undo history). */
function viewSlice(set: SetState, get: GetState) {
  return {
    open: (workflow: Workflow, options: { readOnly?: boolean; graph?: WorkflowGraph } = {}) => {
      const graph = options.graph ?? normalise(workflow.graph);
      set({ workflow, graph, savedGraph: graph, readOnly: !!options.readOnly, selected: {}, report: workflow.validation ?? null, openNodeId: null });
      useEditor.temporal.getState().clear();
    },
    markSaved: (workflow: Workflow) => set({ workflow, savedGraph: get().graph, report: workflow.validation ?? null }),
    setReport: (report: ValidationReport | null) => set({ report }),
    select: (ids: string[], additive = false) =>
      set({ selected: { ...(additive ? get().selected : {}), ...Object.fromEntries(ids.map((id) => [id, true])) } }),
    setSelected: (id: string, on: boolean) => {
      const selected = { ...get().selected };
      if (on) selected[id] = true;
      else delete selected[id];
      set({ selected });
    },
    setMeasured: (id: string, size: { width: number; height: number }) => set({ measured: { ...get().measured, [id]: size } }),
    setOpenNode: (id: string | null) => set({ openNodeId: id }),
    setNotice: (notice: string | null) => set({ notice }),
    setAddFrom: (addFrom: { node: string; port: string } | null) => set({ addFrom }),
  };
}

/** `edit` (one undo step, or merged with the previous one of the same key) and drags (one step each). */
function historySlice(set: SetState, get: GetState) {
  return {
    edit: (change: (graph: WorkflowGraph) => WorkflowGraph, coalesceKey?: string) => {
      if (get().readOnly) return;
      const now = Date.now();
      const merge = !!coalesceKey && coalesceKey === lastEdit.key && now - lastEdit.at < COALESCE_MS;
      lastEdit = { key: coalesceKey ?? "", at: now };
      const history = useEditor.temporal.getState();
      if (merge) history.pause();
      set({ graph: change(get().graph) });
      if (merge) history.resume();
    },
    dragMove: (positions: Map<string, XY>, done: boolean) => {
      if (get().readOnly) return;
      const history = useEditor.temporal.getState();
      if (!dragSnapshot) {
        dragSnapshot = get().graph;
        history.pause();
      }
      const moved = ops.setPositions(get().graph, positions);
      if (!done) {
        set({ graph: moved });
        return;
      }
      // Record the whole drag as one step: restore the pre-drag graph unrecorded, then set the result.
      set({ graph: dragSnapshot });
      dragSnapshot = null;
      history.resume();
      set({ graph: moved });
    },
  };
}

/** Graph edits from the canvas: add, connect, update, disable / enable, remove, paste. */
function graphSlice(set: SetState, get: GetState) {
  return {
    addNode: (type: NodeType, position: XY, from?: { node: string; port: string }) => {
      const graph = get().graph;
      const id = freshId(type.type.split(".").pop() ?? "node", ops.allIds(graph));
      const node: GraphNode = { id, type: type.type, position, params: ops.defaultParams(type.params_schema) };
      let next: WorkflowGraph = { ...graph, nodes: [...graph.nodes, node] };
      if (from) next = { ...next, edges: [...next.edges, edgeFor(next, { source: from.node, sourceHandle: from.port, target: id })] };
      get().edit(() => next);
      set({ selected: { [id]: true } });
      return id;
    },
    connect: (conn: Connection, types: Record<string, NodeType>) => {
      const problem = connectionProblem(get().graph, types, conn);
      if (problem) {
        set({ notice: problem });
        return problem;
      }
      get().edit((g) => ({ ...g, edges: [...g.edges, edgeFor(g, conn)] }));
      return null;
    },
    updateNode: (id: string, patch: Partial<GraphNode>) =>
      get().edit((g) => ops.patchNode(g, id, (n) => ({ ...n, ...patch })), `node:${id}:${Object.keys(patch).join()}`),
    /** Disable the nodes (default: the selected ones), or enable them when all are disabled already. */
    toggleDisabled: (ids?: string[]) => {
      const graph = get().graph;
      const wanted = new Set(ids ?? Object.keys(get().selected));
      const nodes = graph.nodes.filter((n) => wanted.has(n.id));
      if (!nodes.length) return;
      const disable = nodes.some((n) => !n.disabled);
      get().edit((g) => ops.setDisabled(g, wanted, disable));
    },
    removeSelected: () => {
      const ids = new Set(Object.keys(get().selected));
      if (!ids.size) return;
      get().edit((g) => ops.removeIds(g, ids));
      set({ selected: {}, openNodeId: ids.has(get().openNodeId ?? "") ? null : get().openNodeId });
    },
    pasteGraph: (clip: WorkflowGraph, offset: XY) => {
      const { graph, ids } = ops.pasteInto(get().graph, clip, offset);
      get().edit(() => graph);
      set({ selected: Object.fromEntries(ids.map((id) => [id, true])) });
    },
  };
}

export const useEditor = create<EditorState>()(
  temporal((set, get) => ({ ...INITIAL, ...viewSlice(set, get), ...historySlice(set, get), ...graphSlice(set, get) }), {
    partialize: (state) => ({ graph: state.graph }),
    equality: (a, b) => a.graph === b.graph,
    limit: 200,
  }),
);

/** The graph with the envelope filled in (format, lists) so the editor can rely on it. */
export function normalise(graph: Partial<WorkflowGraph> | null | undefined): WorkflowGraph {
  return {
    ...(graph ?? {}),
    format: "workflow-graph/v1",
    nodes: Array.isArray(graph?.nodes) ? graph.nodes : [],
    edges: Array.isArray(graph?.edges) ? graph.edges : [],
  } as WorkflowGraph;
}

export const undo = () => {
  lastEdit = { key: "", at: 0 };
  useEditor.temporal.getState().undo();
};
export const redo = () => {
  lastEdit = { key: "", at: 0 };
  useEditor.temporal.getState().redo();
};

export function isDirty(state: EditorState): boolean {
  return state.graph !== state.savedGraph;
}

export function issuesOf(report: ValidationReport | null): Issue[] {
  return report ? [...report.errors, ...report.warnings] : [];
}
