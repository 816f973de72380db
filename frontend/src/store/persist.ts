/** Talking to the server about the open workflow: save (with conflict detection), validate, activate / pause. */
import { api, ApiError } from "../api";
import { useEditor } from "./editor";
import type { Issue, Workflow, WorkflowGraph } from "./types";

export interface Conflict {
  current_version: number;
  updated_at?: string;
  updated_by_email?: string | null;
  detail?: string;
}

export type SaveResult = { ok: true; workflow: Workflow } | { ok: false; conflict?: Conflict; error?: string };

/** The graph as it is saved: the workflow's name inside it too. */
export function graphForSave(): WorkflowGraph {
  const { graph, workflow } = useEditor.getState();
  return { ...graph, name: graph.name ?? workflow?.name };
}

/** PUT the graph as a new version; a 409 (someone saved meanwhile) comes back as `conflict`. */
export async function save(options: { force?: boolean; baseVersion?: number } = {}): Promise<SaveResult> {
  const { workflow, graph } = useEditor.getState();
  if (!workflow) return { ok: false, error: "nothing open" };
  const sent = graph;
  try {
    const saved = await api.save(workflow.id, {
      name: graph.name?.trim() || workflow.name,
      description: workflow.description ?? "",
      graph: graphForSave(),
      base_version: options.baseVersion ?? workflow.version,
    });
    // Edits made while the request was in flight stay unsaved.
    useEditor.setState({ workflow: saved, savedGraph: sent, report: saved.validation ?? null });
    return { ok: true, workflow: saved };
  } catch (e) {
    if (e instanceof ApiError && e.status === 409 && e.body.error === "conflict") {
      return { ok: false, conflict: e.body as unknown as Conflict };
    }
    return { ok: false, error: e instanceof ApiError ? describe(e) : String(e) };
  }
}

/** Ask the server to validate the current (unsaved) graph; the report lands in the store. */
export async function validateNow(): Promise<void> {
  try {
    useEditor.getState().setReport(await api.validate(graphForSave()));
  } catch {
    /* the server could not check it: keep the last report */
  }
}

export async function setActive(active: boolean): Promise<string | null> {
  const { workflow } = useEditor.getState();
  if (!workflow) return null;
  try {
    const wf = await (active ? api.activate(workflow.id) : api.pause(workflow.id));
    useEditor.setState({ workflow: { ...workflow, status: wf.status }, report: wf.validation ?? useEditor.getState().report });
    return null;
  } catch (e) {
    if (e instanceof ApiError && Array.isArray(e.body.errors)) {
      useEditor.getState().setReport({ ok: false, errors: e.body.errors as Issue[], warnings: [] });
    }
    return e instanceof ApiError ? describe(e) : String(e);
  }
}

export function describe(e: ApiError): string {
  const field = e.body.field ? ` (${e.body.field})` : "";
  return `${e.message}${field}`;
}
