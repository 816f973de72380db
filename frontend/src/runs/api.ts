/** REST calls of the run views: runs, steps, retry / cancel, node counts, test runs, contacts. */
import { itemsOf, request, type Page } from "../api";
import type { WorkflowGraph } from "../store/types";
import type { ExecutionJson, StepJson } from "./traceState";

export type StatsWindow = "24h" | "7d" | "30d";

export interface NodeCounts {
  entered: number;
  succeeded: number;
  failed: number;
  waiting: number;
  skipped: number;
  /** Runs a goal ended while they waited here. */
  converted?: number;
}

export interface ExecutionDetail extends ExecutionJson {
  event_id?: number | null;
  graph?: WorkflowGraph;
  graph_version?: number;
  workflow_version?: number;
  trigger_node_id?: string;
  state?: unknown;
}

export interface RunFilters {
  workflow?: number;
  status?: string;
  contact?: string;
  contact_id?: number;
  created_after?: string;
  created_before?: string;
  page_size?: number;
  page?: number;
}

export interface CapturedMessage {
  channel: string;
  to?: string | null;
  text?: string | null;
  subject?: string | null;
  body?: string | null;
  html?: string | null;
  node_id?: string | null;
}

export interface TestRunResult {
  result: { status: string; waiting_until?: string | null; error?: string | null };
  steps: StepJson[];
  edges_taken: string[];
  messages: CapturedMessage[];
  effects: unknown[];
}

export interface Me {
  id: number;
  email: string;
  role: "admin" | "editor" | "viewer" | string;
}

export interface Contact {
  id: number;
  external_id: string;
  first_name?: string | null;
  last_name?: string | null;
  email?: string | null;
  phone?: string | null;
  channel?: string | null;
  tags?: (string | { name: string })[];
  fields?: Record<string, unknown>;
  custom_fields?: Record<string, unknown>;
  created_at?: string | null;
  updated_at?: string | null;
}

export interface TimelineItem {
  kind: "event" | "run" | "message" | "note" | "tag_added" | "tag_removed" | string;
  at: string;
  links?: { execution_id?: number | null; workflow_id?: number | null; event_id?: number | null };
  [key: string]: unknown;
}

export function query(params: object): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

export const runsApi = {
  list: (filters: RunFilters) =>
    request<Page<ExecutionJson>>("GET", `/workflow-executions/${query(filters)}`),
  listItems: (filters: RunFilters) => runsApi.list(filters).then(itemsOf),
  get: (id: number) => request<ExecutionDetail>("GET", `/workflow-executions/${id}/`),
  retry: (id: number) => request<ExecutionDetail>("POST", `/workflow-executions/${id}/retry/`),
  cancel: (id: number) => request<ExecutionDetail>("POST", `/workflow-executions/${id}/cancel/`),
  nodeStats: (workflowId: number, window: StatsWindow) =>
    request<{ window: string; nodes: Record<string, NodeCounts> }>(
      "GET",
      `/workflows/${workflowId}/node-stats/?window=${window}`,
    ),
  testRun: (body: { graph: WorkflowGraph; event: unknown; contact: unknown; fast_forward?: boolean }) =>
    request<TestRunResult>("POST", "/workflows/test-run/", body),
  me: () => request<Me>("GET", "/users/me/"),
  contacts: (params: { search?: string; page?: number; page_size?: number }) =>
    request<Page<Contact>>("GET", `/contacts/${query(params)}`),
  contact: (id: number) => request<Contact>("GET", `/contacts/${id}/`),
  timeline: (id: number, page = 1) =>
    request<Page<TimelineItem>>("GET", `/contacts/${id}/timeline/${query({ page, page_size: 50 })}`),
};
