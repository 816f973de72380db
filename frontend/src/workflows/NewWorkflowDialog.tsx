/**
 * "New workflow": the templates gallery (GET /workflow-templates/) next to an empty canvas.
 * One click creates a valid draft from a template (POST /workflow-templates/<key>/create/, which
 * also registers its custom event types) and opens it in the editor.
 */
import { useEffect, useState } from "react";
import { api, ApiError, request } from "../api";
import { navigate } from "../router";
import type { Workflow, WorkflowGraph } from "../store/types";
import { EMPTY_GRAPH } from "../store/types";
import { Dialog } from "../ui/Dialog";

export interface Template {
  key: string;
  name: string;
  description: string;
  graph: WorkflowGraph;
  event_types: string[];
}

export const templatesApi = {
  list: () => request<Template[]>("GET", "/workflow-templates/"),
  create: (key: string) => request<Workflow>("POST", `/workflow-templates/${encodeURIComponent(key)}/create/`, {}),
};

/** The trigger types a template starts from, in words ("message received", "tag added"). */
export function triggerWords(graph: WorkflowGraph): string[] {
  return graph.nodes
    .filter((n) => n.type.startsWith("trigger."))
    .map((n) => n.type.slice("trigger.".length).replace(/_/g, " "));
}

export function NewWorkflowDialog({ onClose }: { onClose: () => void }) {
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    templatesApi.list().then(setTemplates, (e: Error) => (setTemplates([]), setError(e.message)));
  }, []);
  const create = async (key: string | null) => {
    setBusy(key ?? "empty");
    setError(null);
    try {
      const wf = key ? await templatesApi.create(key) : await api.create({ name: "Untitled workflow", graph: { ...EMPTY_GRAPH, name: "Untitled workflow" } });
      navigate(`/workflows/${wf.id}`);
    } catch (e) {
      setBusy(null);
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <Dialog title="New workflow" onClose={onClose} wide id="new-workflow-dialog">
      <p className="muted small">Start from a ready workflow (it opens as a draft you can change) or from an empty canvas.</p>
      {error && <p className="error">{error}</p>}
      <div className="template-grid" id="template-gallery">
        <button type="button" className="template-card empty" id="new-empty" disabled={busy !== null} onClick={() => void create(null)}>
          <strong>Empty canvas</strong>
          <span className="muted small">Start from scratch</span>
        </button>
        {(templates ?? []).map((t) => (
          <button type="button" key={t.key} className="template-card" data-template={t.key} data-sample={t.key}
            disabled={busy !== null} onClick={() => void create(t.key)}>
            <strong dir="auto">{t.name}</strong>
            <span className="muted small" dir="auto">{t.description}</span>
            <span className="template-meta small">
              {triggerWords(t.graph).map((w) => <span key={w} className="chip">when {w}</span>)}
              <span className="chip">{t.graph.nodes.length} steps</span>
              {busy === t.key && <span className="chip">creating…</span>}
            </span>
          </button>
        ))}
        {templates === null && <p className="muted">Loading the templates…</p>}
      </div>
    </Dialog>
  );
}
