/**
 * Run state shown on the canvas. The run views (live canvas, a past run, a test run) fold traces
 * and API snapshots into `runs` (see runs/traceState.ts); the store derives, for the run being
 * shown, what the canvas paints: `runStatus[nodeId]` (each node's `data-status`: running,
 * succeeded, failed, waiting, skipped), `nodeInfo` (resume time, attempts), `edgeTaken[edgeId]`
 * and, when a window is chosen, per-node `counts`.
 */
import { create } from "zustand";
import type { NodeCounts, StatsWindow } from "../runs/api";
import {
  applyTraces, mergeExecutions, nodeStatuses, prune, takenEdges,
  type EdgeRef, type ExecutionJson, type NodeView, type RunMap, type Trace,
} from "../runs/traceState";

export type RunStatus = "running" | "succeeded" | "failed" | "waiting" | "skipped" | string;
export type LiveState = "idle" | "connecting" | "live" | "offline" | "denied";

/** How many runs a long-open page keeps. */
export const KEEP_RUNS = 200;
/** While following, a run still going is kept on the canvas this long before a newer one replaces it. */
export const HOLD_MS = 1000;

interface RunsState {
  runStatus: Record<string, RunStatus>;
  nodeInfo: Record<string, NodeView>;
  edgeTaken: Record<string, boolean>;
  counts: Record<string, NodeCounts> | null;
  countsWindow: StatsWindow | null;
  runs: RunMap;
  edges: EdgeRef[];
  /** The run the canvas paints; with `follow`, always the newest one. */
  shown: number | null;
  /** When `shown` last changed (client clock, ms). */
  shownAt: number;
  follow: boolean;
  live: LiveState;
  setRunStatus: (statuses: Record<string, RunStatus>) => void;
  clearRunStatus: () => void;
  /** Start over for a page: no runs, these edges, follow the newest run. */
  reset: (edges: EdgeRef[]) => void;
  setEdges: (edges: EdgeRef[]) => void;
  ingest: (traces: Trace[]) => void;
  merge: (list: ExecutionJson[]) => void;
  /** Drop one run (a test run being replaced by the next). */
  forget: (id: number) => void;
  show: (id: number | null, follow?: boolean) => void;
  setLive: (state: LiveState) => void;
  setCounts: (window: StatsWindow | null, counts: Record<string, NodeCounts> | null) => void;
}

function sameFlat<T>(a: Record<string, T>, b: Record<string, T>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

function sameInfo(a: Record<string, NodeView>, b: Record<string, NodeView>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] && a[k].status === b[k].status && a[k].resumeAt === b[k].resumeAt
    && a[k].attempts === b[k].attempts);
}

function newestId(runs: RunMap): number | null {
  let best: number | null = null;
  for (const key in runs) if (best === null || Number(key) > best) best = Number(key);
  return best;
}

/**
 * The run to paint while following: the newest, except that a run still going stays up to
 * HOLD_MS so each run's path can be seen (and the canvas is not repainted at the stream's rate).
 */
function followed(prev: RunsState, runs: RunMap, now: number): number | null {
  const current = prev.shown !== null ? runs[prev.shown] : undefined;
  const going = current && (current.status === "running" || current.status === "pending");
  return going && now - prev.shownAt < HOLD_MS ? prev.shown : newestId(runs);
}

/** The painted state for `next`, reusing the old objects where nothing changed. */
function derive(prev: RunsState, next: Partial<RunsState>, now = Date.now()): Partial<RunsState> {
  const runs = next.runs ?? prev.runs;
  const follow = next.follow ?? prev.follow;
  const picked = next.shown !== undefined ? next.shown : prev.shown;
  const shown = !follow ? picked : next.follow ? newestId(runs) : followed(prev, runs, now);
  const run = shown !== null ? runs[shown] : undefined;
  const edges = next.edges ?? prev.edges;
  const info = run ? nodeStatuses(run, edges) : {};
  const status: Record<string, RunStatus> = {};
  for (const id in info) status[id] = info[id].status;
  const taken: Record<string, boolean> = {};
  if (run) for (const id of takenEdges(run, edges)) taken[id] = true;
  return {
    ...next,
    shown,
    shownAt: shown !== prev.shown ? now : prev.shownAt,
    runStatus: sameFlat(status, prev.runStatus) ? prev.runStatus : status,
    nodeInfo: sameInfo(info, prev.nodeInfo) ? prev.nodeInfo : info,
    edgeTaken: sameFlat(taken, prev.edgeTaken) ? prev.edgeTaken : taken,
  };
}

export const useRuns = create<RunsState>()((set) => ({
  runStatus: {},
  nodeInfo: {},
  edgeTaken: {},
  counts: null,
  countsWindow: null,
  runs: {},
  edges: [],
  shown: null,
  shownAt: 0,
  follow: true,
  live: "idle",
  setRunStatus: (statuses) => set({ runStatus: statuses }),
  clearRunStatus: () => set({ runStatus: {}, nodeInfo: {}, edgeTaken: {} }),
  reset: (edges) =>
    set({ runs: {}, edges, shown: null, shownAt: 0, follow: true, runStatus: {}, nodeInfo: {}, edgeTaken: {},
      counts: null, countsWindow: null, live: "idle" }),
  setEdges: (edges) => set((s) => derive(s, { edges })),
  ingest: (traces) =>
    set((s) => {
      const runs = applyTraces(s.runs, traces);
      return runs === s.runs ? {} : derive(s, { runs: prune(runs, KEEP_RUNS, s.shown) });
    }),
  merge: (list) => set((s) => derive(s, { runs: prune(mergeExecutions(s.runs, list), KEEP_RUNS, s.shown) })),
  forget: (id) =>
    set((s) => {
      const { [id]: _gone, ...runs } = s.runs;
      return derive(s, { runs, shown: s.shown === id ? null : s.shown });
    }),
  show: (id, follow = false) => set((s) => derive(s, { shown: id, follow })),
  setLive: (live) => set({ live }),
  setCounts: (countsWindow, counts) => set({ countsWindow, counts }),
}));
