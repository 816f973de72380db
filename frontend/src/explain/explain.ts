/**
 * Explain: "why did / didn't this run for this contact?" (GET /contacts/<id>/explain/), and
 * the pure helpers that turn each workflow's verdict into one sentence a support person reads.
 */
import { request } from "../api";
import { query } from "../runs/api";
import { ruleText, skipLabel, type FailingRule } from "../simulate/simulate";

export interface TriggerVerdict {
  node_id: string | null;
  matched: boolean;
  reason?: "event_type" | "filter" | "error" | null;
  event_type?: string;
  error?: string;
  failing?: FailingRule[];
}

export interface PathStep {
  node_id: string;
  node_type: string;
  status: string;
  port?: string | null;
  error?: string | null;
}

export interface ExplainedRun {
  execution_id: number;
  status: string;
  graph_version?: number;
  created_at?: string;
  error?: string | null;
  path: PathStep[];
  conditions: { node_id: string; port?: string | null; failing?: FailingRule[]; error?: string }[];
  messages: { node_id?: string; kind?: string; channel?: string; to?: string | null; subject?: string | null; text?: string | null; status?: string }[];
  pending: { resume_at: string | null; node_id: string | null } | null;
}

export interface WorkflowVerdict {
  workflow_id: number;
  workflow_name: string;
  workflow_status: string;
  outcome: "ran" | "skipped" | "matched_no_run" | "not_matched";
  reason: string | null;
  triggers: TriggerVerdict[];
  run: ExplainedRun | null;
}

export interface ExplainedEvent {
  event_id: number;
  event_type: string;
  received_at: string;
  status: string;
  data?: Record<string, unknown> | null;
  workflows: WorkflowVerdict[];
}

export interface Explanation {
  contact: { id: number; external_id: string; first_name?: string | null; tags: string[] };
  events: ExplainedEvent[];
  pending: { execution_id: number; workflow_id: number; resume_at: string | null }[];
}

export const explainApi = {
  get: (contactId: number, eventId?: number | null, days = 30) =>
    request<Explanation>("GET", `/contacts/${contactId}/explain/${query({ event_id: eventId ?? undefined, days, limit: 20 })}`),
};

/** The explain page of a contact (one event of theirs when given). */
export function explainHref(contactId: number, eventId?: number | null): string {
  return `/contacts/${contactId}/explain${eventId ? `?event=${eventId}` : ""}`;
}

/** `?event=12` of the page's URL, or null. */
export function eventParam(search: string): number | null {
  const raw = new URLSearchParams(search).get("event");
  const n = raw === null ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : null;
}

const OUTCOME_LABELS: Record<WorkflowVerdict["outcome"], string> = {
  ran: "ran",
  skipped: "skipped",
  matched_no_run: "matched, no run",
  not_matched: "not matched",
};

export function outcomeLabel(v: WorkflowVerdict): string {
  if (v.outcome === "ran" && v.run) return stoppedAt(v.run) ? "ran, stopped early" : `ran (${v.run.status})`;
  return OUTCOME_LABELS[v.outcome] ?? v.outcome;
}

/** The false condition a run stopped at (it took a port with nothing after it), if any. */
export function stoppedAt(run: ExplainedRun): ExplainedRun["conditions"][number] | null {
  const failing = run.conditions.filter((c) => (c.failing?.length ?? 0) > 0 || c.error);
  if (!failing.length || run.messages.length) return null;
  return failing[failing.length - 1];
}

/** Why, in one sentence: the failing trigger rule, the limit, or how the run went. */
export function verdictText(v: WorkflowVerdict): string {
  if (v.outcome === "not_matched") {
    const t = v.triggers.find((x) => !x.matched && x.reason === "filter" && x.failing?.length);
    if (t?.failing) return `The trigger “${t.node_id}” did not match: ${t.failing.map(ruleText).join("; ")}.`;
    const err = v.triggers.find((x) => x.reason === "error");
    if (err) return `The trigger could not be checked: ${err.error ?? "error"}.`;
    if (v.reason === "event_type") return "No trigger of this workflow listens to this event type.";
    return "No trigger matched.";
  }
  if (v.outcome === "skipped") return `The trigger matched, but the run was skipped: ${skipLabel(v.reason ?? "")}.`;
  if (v.outcome === "matched_no_run") return "The trigger matched, but no run was recorded (the workflow may have been paused or the run deleted).";
  const run = v.run!;
  const stop = stoppedAt(run);
  if (stop) {
    const why = stop.error ?? (stop.failing ?? []).map(ruleText).join("; ");
    return `It ran, but the condition “${stop.node_id}” was false: ${why}. Nothing was sent.`;
  }
  const sent = run.messages.length;
  const pending = run.pending ? " It is waiting to go on." : "";
  return `It ran (${run.status}) and rendered ${sent} ${sent === 1 ? "message" : "messages"}.${pending}`;
}
