/**
 * The runs panel beside the canvas: the workflow's runs newest first (status, contact, started,
 * duration), updating live; filters by status, date range and contact (matching runs are fetched
 * from the API too, so older ones show). A click paints a run on the canvas; "open" goes to its page.
 */
import { memo, useEffect, useMemo, useRef, useState } from "react";
import { Link } from "../router";
import { useRuns } from "../store/runs";
import { runsApi, type RunFilters } from "./api";
import { clock, duration } from "./format";
import { isTerminal, newestFirst, runDuration, type RunInfo } from "./traceState";
import "./runs.css";

const STATUSES = ["", "running", "waiting", "succeeded", "failed", "cancelled", "converted", "pending"];

export interface PanelFilters {
  status: string;
  from: string;
  to: string;
  contact: string;
}

const NO_FILTERS: PanelFilters = { status: "", from: "", to: "", contact: "" };

function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The API query for the panel's filters. */
export function apiFilters(workflowId: number, f: PanelFilters): RunFilters {
  return {
    workflow: workflowId, status: f.status || undefined, contact: f.contact.trim() || undefined,
    created_after: toIso(f.from), created_before: toIso(f.to), page_size: 50,
  };
}

/** Whether a run passes the panel's filters (client side, for runs arriving live). */
export function matches(run: RunInfo, f: PanelFilters): boolean {
  if (f.status && run.status !== f.status) return false;
  if (f.contact.trim() && !(run.contact ?? "").includes(f.contact.trim())) return false;
  const at = run.createdAt ? Date.parse(run.createdAt) : run.seenAt;
  if (f.from && at < Date.parse(f.from)) return false;
  if (f.to && at >= Date.parse(f.to)) return false;
  return true;
}

function useTick(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

/** `value`, updated at most every `ms` (the list need not re-render at 60 Hz under a stream). */
function useThrottled<T>(value: T, ms: number): T {
  const [current, setCurrent] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - Date.now();
    const apply = () => {
      last.current = Date.now();
      setCurrent(value);
    };
    if (wait <= 0) {
      apply();
      return undefined;
    }
    const timer = setTimeout(apply, wait);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return current;
}

const RunRow = memo(function RunRow({ run, workflowId, shown, now }: { run: RunInfo; workflowId: number; shown: boolean; now: number }) {
  return (
    <tr
      className={shown ? "run-row shown" : "run-row"}
      data-run-id={run.id}
      data-run-status={run.status}
      onClick={() => useRuns.getState().show(run.id)}
    >
      <td><span className={`status-pill status-${run.status}`}>{run.status}</span></td>
      <td className="run-contact" dir="auto">
        {run.contactId ? (
          <Link href={`/contacts/${run.contactId}`} onClick={(e) => e.stopPropagation()}>{run.contact}</Link>
        ) : (run.contact ?? "…")}
      </td>
      <td title={run.createdAt ?? ""}>{run.createdAt ? clock(run.createdAt) : "just now"}</td>
      <td className="num">{duration(runDuration(run, now))}</td>
      <td>
        <Link href={`/workflows/${workflowId}/runs/${run.id}`} className="run-open" onClick={(e) => e.stopPropagation()}>
          #{run.id}
        </Link>
      </td>
    </tr>
  );
});

function FilterBar({ value, onChange }: { value: PanelFilters; onChange: (f: PanelFilters) => void }) {
  const set = (patch: Partial<PanelFilters>) => onChange({ ...value, ...patch });
  return (
    <div className="runs-filters">
      <select aria-label="Status" value={value.status} onChange={(e) => set({ status: e.target.value })}>
        {STATUSES.map((s) => <option key={s} value={s}>{s || "any status"}</option>)}
      </select>
      <input aria-label="Contact" placeholder="contact id" value={value.contact} onChange={(e) => set({ contact: e.target.value })} />
      <div className="runs-dates">
        <input type="datetime-local" aria-label="From" title="created from" value={value.from} onChange={(e) => set({ from: e.target.value })} />
        <span className="muted">–</span>
        <input type="datetime-local" aria-label="To" title="created before" value={value.to} onChange={(e) => set({ to: e.target.value })} />
      </div>
      {value !== NO_FILTERS && <button type="button" className="link" onClick={() => onChange(NO_FILTERS)}>clear</button>}
    </div>
  );
}

export function RunsPanel({ workflowId }: { workflowId: number }) {
  const runs = useThrottled(useRuns((s) => s.runs), 250);
  const shown = useRuns((s) => s.shown);
  const follow = useRuns((s) => s.follow);
  const live = useRuns((s) => s.live);
  const [filters, setFilters] = useState<PanelFilters>(NO_FILTERS);
  const now = useTick(1000);
  useEffect(() => {
    if (filters === NO_FILTERS) return;
    const timer = setTimeout(() => {
      runsApi.listItems(apiFilters(workflowId, filters)).then((list) => useRuns.getState().merge(list), () => undefined);
    }, 300);
    return () => clearTimeout(timer);
  }, [workflowId, filters]);
  const list = useMemo(
    () => newestFirst(runs).filter((r) => r.id > 0 && r.workflowId === workflowId && matches(r, filters)).slice(0, 100),
    [runs, filters, workflowId],
  );
  return (
    <aside className="runs-panel" aria-label="Runs">
      <header>
        <h3>Runs</h3>
        <span className={`live-dot live-${live}`} title={`live updates: ${live}`}>{live === "live" ? "live" : live}</span>
        <label className="follow">
          <input type="checkbox" checked={follow} onChange={(e) => useRuns.getState().show(shown, e.target.checked)} />
          follow newest
        </label>
      </header>
      <FilterBar value={filters} onChange={setFilters} />
      {list.length === 0 ? (
        <p className="muted empty-runs">No runs yet. Runs appear here as they happen.</p>
      ) : (
        <div className="runs-scroll">
        <table className="runs-table" id="runs-table">
          <thead><tr><th>Status</th><th>Contact</th><th>Started</th><th>Duration</th><th /></tr></thead>
          <tbody>
            {list.map((run) => (
              <RunRow key={run.id} run={run} workflowId={workflowId} shown={run.id === shown} now={isTerminal(run.status) ? 0 : now} />
            ))}
          </tbody>
        </table>
        </div>
      )}
    </aside>
  );
}
