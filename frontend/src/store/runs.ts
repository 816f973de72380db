/**
 * Run state shown on the canvas: `runStatus[nodeId]` becomes each node's `data-status`
 * (running, succeeded, failed, waiting, skipped). Empty in the editor; the run views fill it.
 */
import { create } from "zustand";

export type RunStatus = "running" | "succeeded" | "failed" | "waiting" | "skipped" | string;

interface RunsState {
  runStatus: Record<string, RunStatus>;
  setRunStatus: (statuses: Record<string, RunStatus>) => void;
  clearRunStatus: () => void;
}

export const useRuns = create<RunsState>()((set) => ({
  runStatus: {},
  setRunStatus: (statuses) => set({ runStatus: statuses }),
  clearRunStatus: () => set({ runStatus: {} }),
}));
