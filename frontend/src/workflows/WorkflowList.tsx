/** `/workflows`: every workflow with its status and run figures; create, duplicate, delete, activate, import. */
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError } from "../api";
import { Link, navigate } from "../router";
import type { Workflow } from "../store/types";
import { ImportDialog } from "./ImportDialog";
import { NewWorkflowDialog } from "./NewWorkflowDialog";
import { relativeTime } from "../lib/format";
import { ModeChip } from "../ui/ModeChip";

function useWorkflows() {
  const [workflows, setWorkflows] = useState<Workflow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [conversions, setConversions] = useState<Record<number, number>>({});
  const reload = useCallback(() => {
    api.workflows().then(setWorkflows, (e) => setError(String(e.message)));
    api.conversions(7).then(setConversions, () => setConversions({}));
  }, []);
  useEffect(() => {
    reload();
  }, [reload]);
  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      reload();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return { workflows, conversions, error, act };
}

export function WorkflowList() {
  const { workflows, conversions, error, act } = useWorkflows();
  const [search, setSearch] = useState("");
  const [importing, setImporting] = useState(false);
  const [creating, setCreating] = useState(false);
  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    return (workflows ?? []).filter((w) => !q || w.name.toLowerCase().includes(q));
  }, [workflows, search]);
  return (
    <div className="page list-page">
      <header className="list-head">
        <div>
          <h1>Workflows</h1>
          <p className="muted small">
            Automations that react to your customers. Drive everything from the <a href="/api/v1/workflow/api/docs/">REST API</a> too.
          </p>
        </div>
        <div className="list-actions">
          <input type="search" className="search" placeholder="Search workflows…" aria-label="Search workflows" value={search}
            onChange={(e) => setSearch(e.target.value)} />
          <button className="btn" id="import-workflow" onClick={() => setImporting(true)}>
            Import
          </button>
          <ModeChip />
          <button className="btn primary" id="new-workflow" onClick={() => setCreating(true)}>
            New workflow
          </button>
        </div>
      </header>
      {error && <div className="error">{error}</div>}
      {workflows === null ? (
        <p className="muted">Loading…</p>
      ) : workflows.length === 0 ? (
        <EmptyState />
      ) : (
        <WorkflowTable
          workflows={shown}
          conversions={conversions}
          onToggle={(w) => act(() => (w.status === "active" ? api.pause(w.id) : api.activate(w.id)))}
          onDuplicate={(w) => act(() => api.duplicate(w.id))}
          onDelete={(w) => window.confirm(`Delete “${w.name}”? This cannot be undone.`) && act(() => api.remove(w.id))}
        />
      )}
      {creating && <NewWorkflowDialog onClose={() => setCreating(false)} />}
      {importing && <ImportDialog onClose={() => setImporting(false)} onImported={(wf) => navigate(`/workflows/${wf.id}`)} />}
    </div>
  );
}

interface TableProps {
  workflows: Workflow[];
  conversions: Record<number, number>;
  onToggle: (w: Workflow) => void;
  onDuplicate: (w: Workflow) => void;
  onDelete: (w: Workflow) => void;
}

function WorkflowTable({ workflows, conversions, onToggle, onDuplicate, onDelete }: TableProps) {
  return (
    <table className="grid" id="workflow-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Status</th>
          <th>Version</th>
          <th>Last run</th>
          <th>Runs today</th>
          <th>Success (7 d)</th>
          <th title="Runs a goal ended (7 days)">Conversions (7 d)</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {workflows.map((w) => (
          <tr key={w.id} data-workflow-id={w.id}>
            <td>
              <Link href={`/workflows/${w.id}`} dir="auto">
                {w.name}
              </Link>
              {w.description && <div className="muted small" dir="auto">{w.description}</div>}
            </td>
            <td>
              <span className={`status status-${w.status}`}>{w.status}</span>
            </td>
            <td>v{w.version}</td>
            <td className="muted small">{w.last_run_at ? relativeTime(w.last_run_at) : "—"}</td>
            <td>{w.runs_today ?? "—"}</td>
            <td>{w.success_rate == null ? "—" : `${Math.round(w.success_rate * 100)} %`}</td>
            <td data-conversions={conversions[w.id] ?? 0}>{conversions[w.id] ?? 0}</td>
            <td>
              <div className="row-actions">
              <button className="btn small" data-action="toggle" onClick={() => onToggle(w)}>
                {w.status === "active" ? "Pause" : "Activate"}
              </button>
              <button className="btn small" data-action="duplicate" onClick={() => onDuplicate(w)}>
                Duplicate
              </button>
              <button className="btn small danger" data-action="delete" onClick={() => onDelete(w)}>
                Delete
              </button>
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function EmptyState() {
  return (
    <section className="card empty">
      <h2>No workflows yet</h2>
      <p>
        Press <strong>New workflow</strong> to draw one, or load the two standard examples with{" "}
        <code>flask --app backend setup-sample-workflows</code>.
      </p>
    </section>
  );
}
