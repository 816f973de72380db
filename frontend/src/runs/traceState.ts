/**
 * Trace-to-canvas state: folds live Socket.IO traces and API snapshots of runs into one model,
 * and derives what the canvas paints (a status per node, the edges on the path taken).
 *
 * Every merge is idempotent and independent of arrival order: steps are keyed by their sequence
 * number (a finished record beats a "started" one), and a run"s status carries a version
 * `(steps taken, rank)` so a late or duplicated trace never rolls a run back.
 */

export type NodeStatus = "running" | "succeeded" | "failed" | "waiting" | "skipped" | "converted";
export type RunStatus = "pending" | "running" | "waiting" | "succeeded" | "failed" | "cancelled" | "converted";

/** One `trace` event as backend/events.py emits it. */
export interface Trace {
  kind: "run_started" | "step_started" | "step_finished" | "run_waiting" | "run_finished";
  execution_id: number;
  workflow_id: number;
  ts: number;
  node_id?: string;
  step?: number;
  steps?: number;
  status?: string;
  port?: string | null;
  duration_ms?: number | null;
  attempt?: number;
  error?: string | null;
  output_preview?: string;
  resume_at?: string | null;
}

/** A step record from GET /workflow-executions/<id>/ or POST /workflows/test-run/. */
export interface StepJson {
  id?: number;
  seq: number;
  node_id: string;
  node_type?: string;
  status: string;
  port?: string | null;
  input?: unknown;
  output?: unknown;
  error?: string | { type?: string; message?: string } | null;
  attempt?: number;
  attempts?: number;
  started_at?: string | null;
  finished_at?: string | null;
  duration_ms?: number | null;
  resume_at?: string | null;
}

/** A run from GET /workflow-executions/ (list item or detail). */
export interface ExecutionJson {
  id: number;
  workflow_id: number;
  workflow_name?: string | null;
  status: RunStatus;
  step_count?: number;
  contact_id?: number | null;
  contact_external_id?: string | null;
  error?: string | null;
  resume_at?: string | null;
  created_at?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  duration_ms?: number | null;
  steps?: StepJson[];
}

export interface StepInfo {
  seq: number;
  nodeId: string;
  finished: boolean;
  status: string;
  port: string | null;
  attempt: number;
  durationMs: number | null;
  error: string | null;
  resumeAt: string | null;
  outputPreview?: string;
  record?: StepJson;
}

export interface RunInfo {
  id: number;
  workflowId: number;
  status: RunStatus;
  /** `[steps taken, rank]` of the report that set `status` (see {@link statusRank}). */
  version: [number, number];
  error: string | null;
  resumeAt: string | null;
  contact: string | null;
  contactId: number | null;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** Client clock (ms) of the first report about this run: live durations count from it. */
  seenAt: number;
  /** Whether an API snapshot (contact, times) has been merged. */
  summary: boolean;
  steps: Record<number, StepInfo>;
}

export type RunMap = Record<number, RunInfo>;

export interface EdgeRef {
  id: string;
  source: string;
  target: string;
  source_port?: string | null;
}

/** "converted": a goal ended the run while it waited (issue 13's journey goals). */
const TERMINAL: RunStatus[] = ["succeeded", "failed", "cancelled", "converted"];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL.includes(status);
}

/** Order of statuses reached after the same number of steps. */
export function statusRank(status: RunStatus): number {
  if (status === "pending") return 0;
  if (status === "running") return 1;
  if (status === "waiting") return 2;
  return 3;
}

function newer(a: [number, number], b: [number, number]): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

export function emptyRun(id: number, workflowId: number, now = Date.now()): RunInfo {
  return {
    id, workflowId, status: "pending", version: [-1, 0], error: null, resumeAt: null,
    contact: null, contactId: null, createdAt: null, startedAt: null, finishedAt: null,
    durationMs: null, seenAt: now, summary: false, steps: {},
  };
}

function maxSeq(run: RunInfo): number {
  let best = 0;
  for (const key in run.steps) if (run.steps[key].finished) best = Math.max(best, Number(key));
  return best;
}

function setStatus(run: RunInfo, status: RunStatus, version: [number, number]): RunInfo {
  if (!newer(version, run.version)) return run;
  return { ...run, status, version };
}

function putStep(run: RunInfo, step: StepInfo): RunInfo {
  const old = run.steps[step.seq];
  if (old && old.finished && !step.finished) return run;
  const merged = old && old.finished && step.finished
    ? { ...old, ...step, outputPreview: step.outputPreview ?? old.outputPreview,
        record: step.record ?? old.record, resumeAt: step.resumeAt ?? old.resumeAt }
    : step;
  return { ...run, steps: { ...run.steps, [step.seq]: merged } };
}

function errorText(error: StepJson["error"]): string | null {
  if (!error) return null;
  if (typeof error === "string") return error;
  return `${error.type ?? "Error"}: ${error.message ?? ""}`;
}

/** Fold one trace into a run (a new run when `run` is undefined). */
export function applyTrace(run: RunInfo | undefined, trace: Trace, now = Date.now()): RunInfo {
  let out = run ?? emptyRun(trace.execution_id, trace.workflow_id, now);
  switch (trace.kind) {
    case "run_started":
      return setStatus(out, "running", [0, 1]);
    case "step_started": {
      const seq = trace.step ?? maxSeq(out) + 1;
      if (!trace.node_id) return out;
      out = putStep(out, { seq, nodeId: trace.node_id, finished: false, status: "running",
        port: null, attempt: trace.attempt ?? 1, durationMs: null, error: null, resumeAt: null });
      // ranks between "running" and "waiting" after step seq-1: a step that then finds nothing
      // ready (the run ends or waits with seq-1 steps) must not leave the run "running"
      return setStatus(out, "running", [seq - 1, 1.5]);
    }
    case "step_finished": {
      if (!trace.node_id || trace.step === undefined) return out;
      out = putStep(out, {
        seq: trace.step, nodeId: trace.node_id, finished: true,
        status: trace.status ?? "succeeded", port: trace.port ?? null,
        attempt: trace.attempt ?? 1, durationMs: trace.duration_ms ?? null,
        error: trace.error ?? null, resumeAt: trace.resume_at ?? null,
        outputPreview: trace.output_preview,
      });
      // a step that waits (or will retry later) leaves the run waiting unless more steps follow
      const waits = trace.status === "waiting" || trace.status === "retrying";
      out = setStatus(out, waits ? "waiting" : "running", [trace.step, waits ? 2 : 1]);
      if (waits && out.status === "waiting" && trace.resume_at) return { ...out, resumeAt: trace.resume_at };
      return out;
    }
    case "run_waiting":
      out = setStatus(out, "waiting", [maxSeq(out), 2]);
      return out.status === "waiting" ? { ...out, resumeAt: trace.resume_at ?? out.resumeAt } : out;
    case "run_finished": {
      const status = (trace.status ?? "succeeded") as RunStatus;
      out = setStatus(out, status, [trace.steps ?? maxSeq(out), 3]);
      return out === run ? out : { ...out, error: trace.error ?? out.error };
    }
    default:
      return out;
  }
}

/** Fold an API snapshot of a run (list item or detail with `steps`) into the model. */
export function mergeExecution(run: RunInfo | undefined, ex: ExecutionJson, now = Date.now()): RunInfo {
  let out = run ?? emptyRun(ex.id, ex.workflow_id, now);
  for (const step of ex.steps ?? []) {
    out = putStep(out, {
      seq: step.seq, nodeId: step.node_id, finished: true, status: step.status,
      port: step.port ?? null, attempt: step.attempt ?? step.attempts ?? 1,
      durationMs: step.duration_ms ?? null, error: errorText(step.error),
      resumeAt: step.resume_at ?? null, record: step,
    });
  }
  const steps = ex.step_count ?? (ex.steps ? ex.steps.length : maxSeq(out));
  out = setStatus(out, ex.status, [steps, statusRank(ex.status)]);
  return {
    ...out,
    summary: true,
    contact: ex.contact_external_id ?? out.contact,
    contactId: ex.contact_id ?? out.contactId,
    createdAt: ex.created_at ?? out.createdAt,
    startedAt: ex.started_at ?? out.startedAt,
    finishedAt: ex.finished_at ?? out.finishedAt,
    durationMs: ex.duration_ms ?? out.durationMs,
    error: out.status === ex.status ? ex.error ?? out.error : out.error,
    resumeAt: out.status === "waiting" ? ex.resume_at ?? out.resumeAt : out.resumeAt,
  };
}

/** Fold a batch of traces into a map of runs; returns the same map when nothing changed. */
export function applyTraces(runs: RunMap, traces: Trace[], now = Date.now()): RunMap {
  let out = runs;
  for (const trace of traces) {
    const before = out[trace.execution_id];
    const after = applyTrace(before, trace, now);
    if (after !== before) {
      if (out === runs) out = { ...runs };
      out[trace.execution_id] = after;
    }
  }
  return out;
}

/** Fold API snapshots into a map of runs (the catch-up after a socket gap). */
export function mergeExecutions(runs: RunMap, list: ExecutionJson[], now = Date.now()): RunMap {
  const out = { ...runs };
  for (const ex of list) out[ex.id] = mergeExecution(out[ex.id], ex, now);
  return out;
}

/** Runs newest first (by id, which the database hands out in order). */
export function newestFirst(runs: RunMap): RunInfo[] {
  return Object.values(runs).sort((a, b) => b.id - a.id);
}

/** Keep the `keep` newest runs (plus `pinned`) so a long-open page stays small. */
export function prune(runs: RunMap, keep: number, pinned: number | null = null): RunMap {
  const ids = Object.keys(runs).map(Number);
  if (ids.length <= keep) return runs;
  const cut = ids.sort((a, b) => b - a)[keep - 1];
  const out: RunMap = {};
  for (const id of ids) if (id >= cut || id === pinned) out[id] = runs[id];
  return out;
}

export interface NodeView {
  status: NodeStatus;
  seq: number;
  resumeAt: string | null;
  attempts: number;
}

function sortedSteps(run: RunInfo): StepInfo[] {
  return Object.values(run.steps).sort((a, b) => a.seq - b.seq);
}

function portOf(edge: EdgeRef): string {
  return edge.source_port || "out";
}

function finishedStatus(step: StepInfo, run: RunInfo, resumed: boolean): NodeStatus {
  switch (step.status) {
    case "succeeded":
    case "failed":
    case "skipped":
    case "converted": // a goal ended the run at this (wait) node
      return step.status;
    case "waiting":
      return resumed || run.status === "succeeded" ? "succeeded" : "waiting";
    case "retrying":
      return isTerminal(run.status) ? "failed" : "waiting";
    default:
      return "running";
  }
}

/** When the run waits because quiet hours hold a message: the time they end (the step's output). */
export function quietUntil(run: RunInfo): string | null {
  const steps = sortedSteps(run);
  const last = steps[steps.length - 1];
  const output = last?.status === "waiting" ? (last.record?.output as { quiet_hours_until?: string } | undefined) : undefined;
  return output?.quiet_hours_until ?? null;
}

/** What each visited node shows for `run`: the status of its latest step. */
export function nodeStatuses(run: RunInfo, edges: EdgeRef[]): Record<string, NodeView> {
  const steps = sortedSteps(run);
  const lastSeq: Record<string, number> = {};
  let lastFinished = 0;
  for (const s of steps) {
    if (s.finished) {
      lastSeq[s.nodeId] = s.seq;
      lastFinished = s.seq;
    }
  }
  const out: Record<string, NodeView> = {};
  for (const s of steps) {
    const prev = out[s.nodeId];
    const attempts = (prev?.attempts ?? 0) + (s.finished ? 1 : 0);
    if (!s.finished) {
      const live = !isTerminal(run.status) && s.seq > lastFinished;
      if (live) out[s.nodeId] = { status: "running", seq: s.seq, resumeAt: null, attempts };
      continue;
    }
    const resumed = edges.some((e) => e.source === s.nodeId && portOf(e) === (s.port ?? "out")
      && (lastSeq[e.target] ?? 0) > s.seq);
    out[s.nodeId] = {
      status: finishedStatus(s, run, resumed), seq: s.seq, attempts,
      resumeAt: s.status === "waiting" || s.status === "retrying" ? s.resumeAt ?? run.resumeAt : null,
    };
  }
  return out;
}

/** Ids of the edges the run went along: the source left on the edge"s port, then the target ran. */
export function takenEdges(run: RunInfo, edges: EdgeRef[]): Set<string> {
  const firstLeft: Record<string, number> = {};
  const lastRan: Record<string, number> = {};
  for (const s of sortedSteps(run)) {
    lastRan[s.nodeId] = s.seq;
    if (s.finished && s.port) {
      const key = `${s.nodeId}\u0000${s.port}`;
      if (firstLeft[key] === undefined) firstLeft[key] = s.seq;
    }
  }
  const out = new Set<string>();
  for (const e of edges) {
    const left = firstLeft[`${e.source}\u0000${portOf(e)}`];
    if (left !== undefined && (lastRan[e.target] ?? 0) > left) out.add(e.id);
  }
  return out;
}

/** A run"s duration in ms: the recorded one, or the time since it started while it runs. */
export function runDuration(run: RunInfo, now = Date.now()): number | null {
  if (run.durationMs !== null) return run.durationMs;
  if (isTerminal(run.status)) return null;
  const start = run.startedAt ? Date.parse(run.startedAt) : run.seenAt;
  return Number.isNaN(start) ? null : Math.max(0, now - start);
}
