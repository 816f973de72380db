/**
 * `/wake-ups`: every run waiting to resume, grouped by workflow and hour, with the soonest ones
 * listed. A wait well past its time is flagged overdue: a sign the workers are behind or down.
 */
import { useEffect, useState } from "react";
import { Link } from "../router";
import { clock, fromNow } from "../runs/format";
import { barHeights, hourLabel, wakeupsApi, type Wakeups, type WorkflowWakeups } from "./wakeups";
import "../runs/runs.css";
import "./wakeups.css";

const REFRESH_MS = 10_000;

export default function WakeupsPage() {
  const [data, setData] = useState<Wakeups | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const load = () => wakeupsApi.get().then((d) => (setData(d), setError(null)), (e: Error) => setError(e.message));
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  if (!data) return <div className={`page-message ${error ? "error" : "muted"}`}>{error ?? "Loading…"}</div>;
  const names = Object.fromEntries(data.workflows.map((w) => [w.workflow_id, w.workflow_name]));
  return (
    <div className="page wakeups-page" id="wakeups-page">
      <h1>Wake-ups</h1>
      <p className="muted">
        Runs waiting to resume (a wait, a retry, quiet hours). A wait more than {data.overdue_after_seconds ?? 60} s past its time is
        overdue: the workers are behind or down. Refreshes every {REFRESH_MS / 1000} s.
      </p>
      {error && <p className="error">{error}</p>}
      <div className="wk-figures">
        <div className="figure" id="wk-pending" data-value={data.pending}><b>{data.pending.toLocaleString()}</b><span className="muted small">pending</span></div>
        <div className={`figure${data.overdue ? " bad" : ""}`} id="wk-overdue" data-value={data.overdue}><b>{data.overdue.toLocaleString()}</b><span className="muted small">overdue</span></div>
      </div>
      {data.pending === 0 && <p className="card empty" id="wk-empty">Nothing is waiting.</p>}
      {data.workflows.map((w) => <WorkflowHours key={w.workflow_id} w={w} />)}
      {data.soonest.length > 0 && (
        <>
          <h2>Soonest</h2>
          <table className="grid" id="wk-soonest">
            <thead><tr><th>Run</th><th>Workflow</th><th>Contact</th><th>Waiting at</th><th>Resumes</th></tr></thead>
            <tbody>
              {data.soonest.map((s) => (
                <tr key={s.execution_id} data-execution-id={s.execution_id} className={s.overdue ? "overdue" : ""}>
                  <td><Link href={`/workflows/${s.workflow_id}/runs/${s.execution_id}`}>#{s.execution_id}</Link></td>
                  <td dir="auto">{names[s.workflow_id] ?? s.workflow_id}</td>
                  <td>{s.contact_id ? <Link href={`/contacts/${s.contact_id}`}>#{s.contact_id}</Link> : "–"}</td>
                  <td><code>{s.node_id ?? "?"}</code></td>
                  <td>
                    {clock(s.resume_at)} <span className="muted small">({fromNow(s.resume_at)})</span>
                    {s.overdue && <span className="overdue-pill">overdue</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

function WorkflowHours({ w }: { w: WorkflowWakeups }) {
  const heights = barHeights(w.hours);
  return (
    <section className="card wk-workflow" data-workflow-id={w.workflow_id}>
      <header>
        <Link href={`/workflows/${w.workflow_id}`} dir="auto"><b>{w.workflow_name}</b></Link>
        <span className="muted small" data-pending={w.pending}>{w.pending} pending</span>
        {w.overdue > 0 && <span className="overdue-pill" data-overdue={w.overdue}>{w.overdue} overdue</span>}
      </header>
      <div className="wk-hours" role="list">
        {w.hours.map((h, i) => (
          <div key={h.hour} className={`wk-hour${h.overdue ? " overdue" : ""}`} role="listitem" data-hour={h.hour} data-count={h.count}
            title={`${hourLabel(h.hour)}: ${h.count} waiting${h.overdue ? `, ${h.overdue} overdue` : ""}`}>
            <span className="n">{h.count}</span>
            <span className="bar" style={{ height: heights[i] }} />
            <span className="label muted small">{hourLabel(h.hour)}</span>
          </div>
        ))}
      </div>
    </section>
  );
}
