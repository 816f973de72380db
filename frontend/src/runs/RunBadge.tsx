/**
 * The run overlay on a node card: when the shown run waits there, when it resumes; when a
 * counts window is chosen, how many runs entered the node and how they left it.
 */
import { useRuns } from "../store/runs";
import { clock, fromNow } from "./format";

export function RunBadge({ nodeId }: { nodeId: string }) {
  const resumeAt = useRuns((s) => (s.runStatus[nodeId] === "waiting" ? s.nodeInfo[nodeId]?.resumeAt ?? null : null));
  const counts = useRuns((s) => s.counts?.[nodeId]);
  const span = useRuns((s) => s.countsWindow);
  if (!resumeAt && !span) return null;
  return (
    <div className="run-badge" data-counts-window={span ?? undefined}>
      {resumeAt && (
        <span className="resume" data-resume-at={resumeAt} title={`resumes ${clock(resumeAt)}`}>⏸ {fromNow(resumeAt)}</span>
      )}
      {span && (
        <span className="counts" data-entered={counts?.entered ?? 0} title={`last ${span}: entered / succeeded / failed / waiting`}>
          <b className="c-in">{counts?.entered ?? 0}</b> · <b className="c-ok">{counts?.succeeded ?? 0}</b>
          {" · "}<b className="c-fail">{counts?.failed ?? 0}</b> · <b className="c-wait">{counts?.waiting ?? 0}</b>
          {(counts?.converted ?? 0) > 0 && <> · <b className="c-conv" data-converted={counts?.converted} title="conversions: runs a goal ended here">★{counts?.converted}</b></>}
        </span>
      )}
    </div>
  );
}
