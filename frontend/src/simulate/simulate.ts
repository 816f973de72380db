/**
 * Simulate: replay the stored events of the last N days through the graph being edited
 * (POST /workflows/simulate/, then poll GET /simulations/<id>/), and the pure helpers that turn
 * its result into a funnel on the canvas (badges on nodes, edge widths) and readable reasons.
 */
import { request } from "../api";
import type { WorkflowGraph } from "../store/types";

export interface SimCounts {
  entered: number;
  succeeded: number;
  failed: number;
  waiting: number;
  skipped: number;
}

export interface SimMessage {
  event_id: number;
  contact: string | null;
  effect: string;
  channel: string;
  to?: string | null;
  subject?: string | null;
  text?: string | null;
}

export interface FailingRule {
  field?: string;
  op?: string;
  expected?: unknown;
  actual?: unknown;
  missing?: boolean;
  text?: string;
}

export interface SkipSample {
  event_id: number;
  contact: string | null;
  reason: string;
  failing?: FailingRule[];
}

export interface SimResult {
  events: number;
  runs: number;
  outcomes: Record<string, number>;
  nodes: Record<string, SimCounts>;
  edges?: Record<string, number>;
  contacts_messaged: number;
  messages: number;
  sample_messages: SimMessage[];
  skipped: { reasons: Record<string, number>; samples: SkipSample[] };
  window?: { days: number; since: string; until: string };
  events_per_second?: number | null;
}

export interface Simulation {
  id: string;
  status: "queued" | "running" | "finished" | "failed";
  days: number;
  progress: { done: number; total: number | null };
  error?: string;
  result?: SimResult;
}

export const simulateApi = {
  start: (graph: WorkflowGraph, days: number, workflowId?: number) =>
    request<Simulation>("POST", "/workflows/simulate/", { graph, days, workflow_id: workflowId }),
  get: (id: string) => request<Simulation>("GET", `/simulations/${id}/`),
};

/** The windows offered (days). */
export const WINDOWS = [1, 7, 30, 90];

/** 0..100 for the progress bar; unknown total (still counting) is 0. */
export function progressPercent(p: { done: number; total: number | null }): number {
  if (!p.total) return 0;
  return Math.max(0, Math.min(100, Math.round((p.done / p.total) * 100)));
}

export const MIN_EDGE = 1.5;
export const MAX_EDGE = 12;

/**
 * Stroke width per edge, by how many runs went along it: the busiest edge gets MAX_EDGE, an
 * unused one MIN_EDGE; in between by square root (so a 1 % branch still shows).
 */
export function edgeWidths(counts: Record<string, number>): Record<string, number> {
  const top = Math.max(0, ...Object.values(counts));
  const out: Record<string, number> = {};
  for (const [id, n] of Object.entries(counts)) {
    out[id] = top > 0 && n > 0 ? Math.round((MIN_EDGE + (MAX_EDGE - MIN_EDGE) * Math.sqrt(n / top)) * 10) / 10 : MIN_EDGE;
  }
  return out;
}

export interface FunnelStep {
  nodeId: string;
  entered: number;
  /** Share of the runs that started (the trigger's entries), 0..100. */
  percent: number;
}

/**
 * The graph's nodes in flow order (breadth first from the triggers) with how many runs entered
 * each: the funnel as a list. Nodes no run reached are kept (0), notes are not nodes.
 */
export function funnelSteps(graph: WorkflowGraph, result: SimResult): FunnelStep[] {
  const next = new Map<string, string[]>();
  const incoming = new Set<string>();
  for (const e of graph.edges) {
    next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
    incoming.add(e.target);
  }
  const order: string[] = [];
  const queue = graph.nodes.filter((n) => !incoming.has(n.id)).map((n) => n.id);
  const seen = new Set(queue);
  while (queue.length) {
    const id = queue.shift()!;
    order.push(id);
    for (const t of next.get(id) ?? []) if (!seen.has(t)) (seen.add(t), queue.push(t));
  }
  for (const n of graph.nodes) if (!seen.has(n.id)) order.push(n.id);
  const started = result.runs || 0;
  return order.map((nodeId) => {
    const entered = result.nodes[nodeId]?.entered ?? 0;
    return { nodeId, entered, percent: started ? Math.round((entered / started) * 100) : 0 };
  });
}

/** A skip reason the way a marketer reads it. */
export function skipLabel(reason: string): string {
  if (reason === "not_matched") return "the trigger did not match the event";
  if (reason === "reentry_once") return "already ran for this contact (re-entry: once)";
  if (reason === "max_runs_per_contact_per_day") return "the contact's runs-per-day limit was reached";
  if (reason === "rate_limited") return "too many events from this contact in a minute";
  const hours = /^reentry_once_per_(.+)_hours$/.exec(reason);
  if (hours) return `ran for this contact less than ${hours[1]} h before`;
  if (reason.startsWith("error: ")) return `the graph failed: ${reason.slice(7)}`;
  return reason.replace(/_/g, " ");
}

function shown(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return `“${value}”`;
  return JSON.stringify(value);
}

/** One failing rule as a sentence: `user.tags contains “vip” — saw ["new"]`. */
export function ruleText(rule: FailingRule): string {
  if (rule.text && !rule.field) return rule.text;
  const expected = rule.expected === undefined ? "" : ` ${shown(rule.expected)}`;
  const saw = rule.missing ? "the field is missing" : `saw ${shown(rule.actual)}`;
  return `${rule.field ?? "?"} ${(rule.op ?? "").replace(/_/g, " ")}${expected} — ${saw}`;
}
