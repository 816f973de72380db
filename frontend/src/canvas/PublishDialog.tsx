/**
 * After a save publishes a new version: runs still waiting on older versions stay there unless
 * moved. The dialog offers both — let them finish on the version they started on, or move the
 * ones whose waiting node still exists to the new version (POST /workflows/<id>/migrate-runs/).
 * It lists only versions not asked about before (askedVersions), and moves runs of those only.
 */
import { useState } from "react";
import { request } from "../api";
import { Dialog } from "../ui/Dialog";
import { olderVersions, rememberAsked } from "./askedVersions";

export interface WaitingVersions {
  current_version: number;
  versions: { version: number; waiting: number; movable: number; pinned: { execution_id: number; missing_nodes?: string[]; reason?: string }[] }[];
}

export const runVersionsApi = {
  waiting: (workflowId: number) => request<WaitingVersions>("GET", `/workflows/${workflowId}/waiting-runs/`),
  migrate: (workflowId: number, fromVersion: number) =>
    request<{ current_version: number; migrated: number[]; pinned: unknown[] }>("POST", `/workflows/${workflowId}/migrate-runs/`, { from_version: fromVersion }),
};

/** Move the movable runs of the listed older versions (one call per version); how many moved. */
async function moveListed(workflowId: number, waiting: WaitingVersions): Promise<number> {
  let moved = 0;
  for (const v of waiting.versions) {
    if (v.version === waiting.current_version || v.movable === 0) continue;
    moved += (await runVersionsApi.migrate(workflowId, v.version)).migrated.length;
  }
  return moved;
}

/** Totals over the older versions: how many runs wait, how many could move. */
export function waitingTotals(w: WaitingVersions): { waiting: number; movable: number } {
  const older = w.versions.filter((v) => v.version !== w.current_version);
  return {
    waiting: older.reduce((n, v) => n + v.waiting, 0),
    movable: older.reduce((n, v) => n + v.movable, 0),
  };
}

export function PublishDialog({ workflowId, waiting, onClose }: { workflowId: number; waiting: WaitingVersions; onClose: (message: string | null) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { waiting: total, movable } = waitingTotals(waiting);
  const older = waiting.versions.filter((v) => v.version !== waiting.current_version);
  // A choice (not a dismissal) is remembered for the versions listed: the next save will not ask again.
  const decided = () => rememberAsked(workflowId, olderVersions(waiting));
  const keep = () => {
    decided();
    onClose("Waiting runs finish on the version they started on.");
  };
  const move = async () => {
    setBusy(true);
    try {
      const moved = await moveListed(workflowId, waiting);
      decided();
      onClose(`Moved ${moved} waiting ${moved === 1 ? "run" : "runs"} to version ${waiting.current_version}.`);
    } catch (e) {
      setBusy(false);
      setError((e as Error).message);
    }
  };
  return (
    <Dialog title="Runs are waiting on older versions" onClose={() => onClose(null)} id="publish-dialog">
      <p>
        Version {waiting.current_version} is saved. <b id="publish-waiting">{total}</b> {total === 1 ? "run is" : "runs are"} still waiting on an older version:
      </p>
      <ul className="publish-versions">
        {older.map((v) => (
          <li key={v.version} data-version={v.version}>
            v{v.version}: {v.waiting} waiting, {v.movable} can move
            {v.pinned.length > 0 && <span className="muted small"> ({v.pinned.length} stay: {v.pinned[0].reason ?? `node ${v.pinned[0].missing_nodes?.join(", ")} is gone`})</span>}
          </li>
        ))}
      </ul>
      <p className="muted small">Runs stay pinned to the version they started on unless you move them. A run can move only where the node it waits at still exists.</p>
      {error && <p className="error">{error}</p>}
      <footer className="dialog-actions">
        <button className="btn" id="runs-keep" disabled={busy} onClick={keep}>
          Let them finish on their version
        </button>
        <button className="btn primary" id="runs-migrate" disabled={busy || movable === 0} onClick={() => void move()}>
          Move {movable} to v{waiting.current_version}
        </button>
      </footer>
    </Dialog>
  );
}
