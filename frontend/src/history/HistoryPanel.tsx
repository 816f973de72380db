/** Version history: every saved version with time and author; view one read-only on the canvas, restore it. */
import { X } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { api, ApiError, type VersionInfo } from "../api";
import { isDirty, normalise, useEditor } from "../store/editor";
import type { Workflow, WorkflowGraph } from "../store/types";

interface Stash {
  workflow: Workflow;
  graph: WorkflowGraph;
  savedGraph: WorkflowGraph;
}

export function HistoryPanel({ onClose }: { onClose: () => void }) {
  const workflow = useEditor((s) => s.workflow)!;
  const readOnly = useEditor((s) => s.readOnly);
  const [versions, setVersions] = useState<VersionInfo[] | null>(null);
  const [viewing, setViewing] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const stash = useRef<Stash | null>(null);

  useEffect(() => {
    api.versions(workflow.id).then(setVersions, (e) => setError(String(e.message)));
  }, [workflow.id, workflow.version]);

  const backToCurrent = () => {
    if (stash.current) {
      const { workflow: wf, graph, savedGraph } = stash.current;
      useEditor.setState({ workflow: wf, graph, savedGraph, readOnly: false, selected: {}, openNodeId: null });
      stash.current = null;
    }
    setViewing(null);
  };
  useEffect(() => () => backToCurrent(), []); // eslint-disable-line react-hooks/exhaustive-deps

  const view = async (n: number) => {
    const state = useEditor.getState();
    stash.current ??= { workflow: state.workflow!, graph: state.graph, savedGraph: state.savedGraph };
    const detail = await api.version(workflow.id, n);
    const graph = normalise(detail.graph);
    useEditor.setState({ graph, savedGraph: graph, readOnly: true, selected: {}, openNodeId: null, report: null });
    setViewing(n);
  };
  const restore = async (n: number) => {
    if (isDirty(stash.current ? { ...useEditor.getState(), ...stash.current } : useEditor.getState()) &&
      !window.confirm("Restoring replaces your unsaved changes. Continue?")) return;
    try {
      const wf = await api.restore(workflow.id, n);
      stash.current = null;
      setViewing(null);
      useEditor.getState().open(wf);
      useEditor.getState().setNotice(`Version ${n} restored as version ${wf.version}.`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };

  return (
    <aside className="inspector history-panel" aria-label="Version history" id="history-panel">
      <header className="panel-head">
        <div className="panel-title">
          <strong>Version history</strong>
          <span className="muted small">Each save is a version</span>
        </div>
        <button className="icon-btn" aria-label="Close panel" onClick={onClose}>
          <X size={16} />
        </button>
      </header>
      <div className="panel-body">
        {error && <div className="error">{error}</div>}
        {readOnly && viewing !== null && (
          <button className="btn small" id="history-back" onClick={backToCurrent}>
            Back to the current version
          </button>
        )}
        {versions === null ? (
          <p className="muted">Loading…</p>
        ) : (
          <ul className="versions">
            {versions.map((v) => (
              <li key={v.version} data-version={v.version} className={viewing === v.version ? "viewing" : ""}>
                <div>
                  <strong>v{v.version}</strong>
                  {v.version === (stash.current?.workflow ?? workflow).version && <span className="status status-active">current</span>}
                  <div className="muted small">
                    {new Date(v.created_at).toLocaleString()}
                    {v.created_by_email ? ` · ${v.created_by_email}` : ""}
                  </div>
                </div>
                <div className="version-actions">
                  <button className="btn small" data-action="view" onClick={() => view(v.version)}>
                    View
                  </button>
                  <button className="btn small" data-action="restore" onClick={() => restore(v.version)}>
                    Restore
                  </button>
                </div>
              </li>
            ))}
          </ul>
        )}
      </div>
    </aside>
  );
}
