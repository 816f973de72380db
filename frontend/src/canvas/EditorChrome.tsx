/** Small pieces around the canvas: the notice toast, the shortcuts dialog, the conflict dialog, the read-only banner. */
import { useEffect } from "react";
import { useEditor } from "../store/editor";
import type { Conflict } from "../store/persist";
import { Dialog } from "../ui/Dialog";
import { SHORTCUTS } from "./useShortcuts";

export function Notice() {
  const notice = useEditor((s) => s.notice);
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => useEditor.getState().setNotice(null), 5000);
    return () => clearTimeout(timer);
  }, [notice]);
  if (!notice) return null;
  return (
    <div className="notice" role="status" id="notice">
      {notice}
    </div>
  );
}

export function HelpDialog({ onClose }: { onClose: () => void }) {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose} id="shortcuts-dialog">
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <tr key={keys}>
              <td>
                <kbd>{keys}</kbd>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}

export function ConflictDialog({ conflict, onClose, onOverwrite }: { conflict: Conflict; onClose: () => void; onOverwrite: () => void }) {
  const who = conflict.updated_by_email ? ` by ${conflict.updated_by_email}` : "";
  const when = conflict.updated_at ? ` at ${new Date(conflict.updated_at).toLocaleString()}` : "";
  return (
    <Dialog title="Someone else saved this workflow" onClose={onClose} id="conflict-dialog">
      <p>
        Version {conflict.current_version} was saved{who}
        {when} after you opened this workflow. Saving now would replace their changes.
      </p>
      <footer className="dialog-actions">
        <button className="btn" onClick={() => window.location.reload()}>
          Discard mine and reload
        </button>
        <button className="btn danger" id="conflict-overwrite" onClick={onOverwrite}>
          Save mine anyway
        </button>
      </footer>
    </Dialog>
  );
}

export function ReadOnlyBanner({ onBack }: { onBack?: () => void }) {
  const workflow = useEditor((s) => s.workflow);
  return (
    <div className="readonly-banner" id="readonly-banner">
      Viewing a saved version read-only (current: v{workflow?.version}). Double-click a node to read its settings; restore the version
      from the history panel.
      {onBack && (
        <button className="btn small" id="readonly-back" onClick={onBack}>
          Back to the current version
        </button>
      )}
    </div>
  );
}
