/** Version history: every saved version with time and author; view one read-only on the canvas, restore it. */
import { useEffect, useState } from "react";
import { api, type VersionInfo } from "../api";
import { useEditor } from "../store/editor";
import { PanelHeader } from "../ui/PanelHeader";
import type { VersionViewer } from "./useVersionViewer";

export function HistoryPanel({ onClose, viewer }: { onClose: () => void; viewer: VersionViewer }) {
  const workflow = useEditor((s) => s.workflow)!;
  const readOnly = useEditor((s) => s.readOnly);
  const [versions, setVersions] = useState<VersionInfo[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  useEffect(() => {
    api.versions(workflow.id).then(setVersions, (e) => setLoadError(String(e.message)));
  }, [workflow.id, workflow.version]);
  const current = viewer.currentVersion ?? workflow.version;
  return (
    <aside className="inspector history-panel" aria-label="Version history" id="history-panel">
      <PanelHeader title="Version history" subtitle="Each save is a version" onClose={onClose} />
      <div className="panel-body">
        {(loadError || viewer.error) && <div className="error">{loadError || viewer.error}</div>}
        {readOnly && viewer.viewing !== null && (
          <button className="btn small" id="history-back" onClick={viewer.backToCurrent}>
            Back to the current version
          </button>
        )}
        {versions === null ? (
          <p className="muted">Loading…</p>
        ) : (
          <ul className="versions">
            {versions.map((v) => (
              <VersionRow key={v.version} version={v} current={v.version === current} viewing={viewer.viewing === v.version}
                onView={() => viewer.view(v.version)} onRestore={() => viewer.restore(v.version)} />
            ))}
          </ul>
        )}
      </div>
    </aside>
  );
}

interface RowProps {
  version: VersionInfo;
  current: boolean;
  viewing: boolean;
  onView: () => void;
  onRestore: () => void;
}

function VersionRow({ version: v, current, viewing, onView, onRestore }: RowProps) {
  return (
    <li data-version={v.version} className={viewing ? "viewing" : ""}>
      <div>
        <strong>v{v.version}</strong>
        {current && <span className="status status-active">current</span>}
        <div className="muted small">
          {new Date(v.created_at).toLocaleString()}
          {v.created_by_email ? ` · ${v.created_by_email}` : ""}
        </div>
      </div>
      <div className="version-actions">
        <button className="btn small" data-action="view" onClick={onView}>
          View
        </button>
        <button className="btn small" data-action="restore" onClick={onRestore}>
          Restore
        </button>
      </div>
    </li>
  );
}
