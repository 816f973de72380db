/** The REST client: one `request` helper (session cookie + CSRF header), typed calls per endpoint. */
import type { NodeType, ValidationReport, Workflow, WorkflowGraph } from "./store/types";

const mount = typeof document !== "undefined" ? document.getElementById("app") : null;
export const API_BASE = mount?.dataset.apiBase ?? "/api/v1/workflow/api";

let csrfToken: string | undefined =
  mount?.dataset.csrf ||
  (typeof document !== "undefined"
    ? document.querySelector<HTMLMetaElement>("meta[name=csrf-token]")?.content
    : undefined) ||
  undefined;

/** An API answer other than 2xx: `status` and the JSON body (`error`, `detail`, ...). */
export class ApiError extends Error {
  constructor(
    public status: number,
    public body: Record<string, unknown>,
  ) {
    super(String(body.detail ?? body.error ?? `HTTP ${status}`));
  }
}

async function token(): Promise<string> {
  if (!csrfToken) {
    // Dev server (vite) pages carry no token: ask the backend for the session's one.
    const res = await fetch("/session.json", { credentials: "same-origin" });
    if (res.ok) csrfToken = (await res.json()).csrf_token;
  }
  return csrfToken ?? "";
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = await token();
  const res = await fetch(API_BASE + path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401 && typeof window !== "undefined") {
    window.location.href = `/login?next=${encodeURIComponent(window.location.pathname)}`;
  }
  const text = await res.text();
  const data = text ? JSON.parse(text) : {};
  if (!res.ok) throw new ApiError(res.status, data);
  return data as T;
}

export interface Page<T> {
  items?: T[];
  results?: T[];
  count?: number;
}

/** Lists come paginated (`{items|results}`) or bare: always hand back the array. */
export function itemsOf<T>(data: Page<T> | T[]): T[] {
  return Array.isArray(data) ? data : (data.items ?? data.results ?? []);
}

export interface VersionInfo {
  version: number;
  created_at: string;
  created_by?: number | null;
  created_by_email?: string | null;
  name?: string;
  graph?: WorkflowGraph;
}

export interface ContextPath {
  path: string;
  type: string;
  description?: string;
}

export interface Sample {
  key: string;
  name: string;
  description: string;
  graph: WorkflowGraph;
}

export const api = {
  nodeTypes: () => request<NodeType[]>("GET", "/node-types/"),
  workflows: () => request<Page<Workflow> | Workflow[]>("GET", "/workflows/?page_size=200").then(itemsOf),
  workflow: (id: number) => request<Workflow>("GET", `/workflows/${id}/`),
  create: (body: Partial<Workflow>) => request<Workflow>("POST", "/workflows/", body),
  save: (id: number, body: Partial<Workflow> & { base_version?: number }) =>
    request<Workflow>("PUT", `/workflows/${id}/`, body),
  remove: (id: number) => request<unknown>("DELETE", `/workflows/${id}/`),
  activate: (id: number) => request<Workflow>("POST", `/workflows/${id}/activate/`),
  pause: (id: number) => request<Workflow>("POST", `/workflows/${id}/pause/`),
  duplicate: (id: number) => request<Workflow>("POST", `/workflows/${id}/duplicate/`),
  exportGraph: (id: number) => request<WorkflowGraph>("GET", `/workflows/${id}/export/`),
  importGraph: (body: unknown) => request<Workflow>("POST", "/workflows/import/", body),
  validate: (graph: WorkflowGraph) => request<ValidationReport>("POST", "/workflows/validate/", graph),
  versions: (id: number) =>
    request<Page<VersionInfo> | VersionInfo[]>("GET", `/workflows/${id}/versions/`).then(itemsOf),
  version: (id: number, n: number) => request<VersionInfo>("GET", `/workflows/${id}/versions/${n}/`),
  restore: (id: number, n: number) =>
    request<Workflow>("POST", `/workflows/${id}/versions/${n}/restore/`),
  samples: () => request<Sample[]>("GET", "/workflow-samples/"),
  /** Runs a goal ended (`converted`) in the last `days`, per workflow id. */
  conversions: (days: number) =>
    request<{ per_workflow: { workflow_id: number; by_status: Record<string, number> }[] }>(
      "GET",
      `/workflows/statistics/?created_after=${encodeURIComponent(new Date(Date.now() - days * 86_400_000).toISOString())}`,
    ).then((s) => Object.fromEntries(s.per_workflow.map((w) => [w.workflow_id, w.by_status.converted ?? 0]))),
  contextPaths: (workflowId?: number) =>
    request<ContextPath[]>("GET", `/context-paths/${workflowId ? `?workflow_id=${workflowId}` : ""}`),
  renderTemplate: (template: string, context: Record<string, unknown>) =>
    request<{ ok: boolean; text: string }>("POST", "/tools/render-template/", { template, context }),
  checkCode: (code: string) =>
    request<{ ok: boolean; errors: { line: number; column: number; message: string }[] }>(
      "POST",
      "/tools/check-code/",
      { code },
    ),
};
