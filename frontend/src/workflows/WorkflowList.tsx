/** `/workflows`: every workflow with its status and run figures; create, duplicate, delete, activate, import. */
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError, type Sample } from "../api";
import { Link, navigate } from "../router";
import type { Workflow } from "../store/types";
import { EMPTY_GRAPH } from "../store/types";
import { ImportDialog } from "./ImportDialog";
import { relativeTime } from "../lib/format";
import { ModeChip } from "../ui/ModeChip";

function useWorkflows() {
  const [workflows, setWorkflows] = useState<Workflow[] | null>(null);
  const [samples, setSamples] = useState<Sample[]>([]);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    api.workflows().then(setWorkflows, (e) => setError(String(e.message)));
  }, []);
  useEffect(() => {
    reload();
    api.samples().then(setSamples, () => setSamples([]));
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
  return { workflows, samples, error, act };
}

async function create(sample?: Sample) {
  const name = sample ? sample.name : "Untitled workflow";
  const graph = sample?.graph ?? EMPTY_GRAPH;
  const wf = await api.create({ name, graph: { ...graph, name } });
  navigate(`/workflows/${wf.id}`);
}

export function WorkflowList() {
  const { workflows, samples, error, act } = useWorkflows();
  const [search, setSearch] = useState("");
  const [importing, setImporting] = useState(false);
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
          <NewMenu samples={samples} onCreate={(s) => act(() => create(s))} />
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
          onToggle={(w) => act(() => (w.status === "active" ? api.pause(w.id) : api.activate(w.id)))}
          onDuplicate={(w) => act(() => api.duplicate(w.id))}
          onDelete={(w) => window.confirm(`Delete “${w.name}”? This cannot be undone.`) && act(() => api.remove(w.id))}
        />
      )}
      {importing && <ImportDialog onClose={() => setImporting(false)} onImported={(wf) => navigate(`/workflows/${wf.id}`)} />}
    </div>
  );
}

function NewMenu({ samples, onCreate }: { samples: Sample[]; onCreate: (s?: Sample) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="menu-wrap">
      <button className="btn primary" id="new-workflow" onClick={() => setOpen(!open)}>
        New workflow
      </button>
      {open && (
        <div className="menu" role="menu">
          <button role="menuitem" id="new-empty" onClick={() => onCreate()}>
            <strong>Empty canvas</strong>
            <span className="muted small">Start from scratch</span>
          </button>
          {samples.map((s) => (
            <button role="menuitem" key={s.key} data-sample={s.key} onClick={() => onCreate(s)}>
              <strong dir="auto">{s.name}</strong>
              <span className="muted small" dir="auto">{s.description}</span>
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

interface TableProps {
  workflows: Workflow[];
  onToggle: (w: Workflow) => void;
  onDuplicate: (w: Workflow) => void;
  onDelete: (w: Workflow) => void;
}

function WorkflowTable({ workflows, onToggle, onDuplicate, onDelete }: TableProps) {
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
