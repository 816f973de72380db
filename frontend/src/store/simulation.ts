/**
 * The simulation the canvas shows as a funnel: its result's per-node counts (badges) and the
 * stroke width of each edge. Cleared when the panel closes or another workflow opens.
 */
import { create } from "zustand";
import { edgeWidths, type SimResult } from "../simulate/simulate";

interface SimulationState {
  result: SimResult | null;
  widths: Record<string, number>;
  show: (result: SimResult | null) => void;
}

export const useSimulation = create<SimulationState>()((set) => ({
  result: null,
  widths: {},
  show: (result) => set({ result, widths: result?.edges ? edgeWidths(result.edges) : {} }),
}));
