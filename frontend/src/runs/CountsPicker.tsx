/** Per-node counts on the canvas for a chosen window (GET /workflows/<id>/node-stats/). */
import { useEffect } from "react";
import { useRuns } from "../store/runs";
import { runsApi, type StatsWindow } from "./api";

const WINDOWS: StatsWindow[] = ["24h", "7d", "30d"];
const REFRESH_MS = 15_000;

export function CountsPicker({ workflowId }: { workflowId: number }) {
  const span = useRuns((s) => s.countsWindow);
  useEffect(() => {
    if (!span) return undefined;
    const load = () =>
      runsApi.nodeStats(workflowId, span).then(
        (out) => useRuns.getState().countsWindow === span && useRuns.getState().setCounts(span, out.nodes),
        () => undefined,
      );
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
  }, [workflowId, span]);
  const pick = (w: StatsWindow | null) => useRuns.getState().setCounts(w, w === span ? useRuns.getState().counts : null);
  return (
    <div className="counts-picker" role="group" aria-label="Counts per node">
      <span className="muted">counts</span>
      <button type="button" className={span === null ? "active" : ""} onClick={() => pick(null)}>off</button>
      {WINDOWS.map((w) => (
        <button key={w} type="button" data-window={w} className={span === w ? "active" : ""} onClick={() => pick(w)}>{w}</button>
      ))}
    </div>
  );
}
