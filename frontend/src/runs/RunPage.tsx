/**
 * `/workflows/:id/runs/:execution_id`: one run drawn on the canvas of the graph version it ran
 * on (read-only), its path, waits and resume times, and each visited node's steps in the node
 * panel; retry / cancel for the roles the API allows. Updates live while the run goes on.
 */
import { ReactFlowProvider } from "@xyflow/react";
import { useCallback, useEffect, useState } from "react";
import { api } from "../api";
import { Canvas } from "../canvas/Canvas";
import { Link, type Params } from "../router";
import { watchLive } from "../socket";
import { useEditor } from "../store/editor";
import { useNodeTypes } from "../store/nodeTypes";
import { useRuns } from "../store/runs";
import type { Workflow, WorkflowGraph } from "../store/types";
import { runsApi, type ExecutionDetail } from "./api";
import { clock, duration, fromNow } from "./format";
import { PathList, StepPanel } from "./StepPanel";
import { isTerminal, quietUntil, runDuration, type RunInfo } from "./traceState";
import { explainHref } from "../explain/explain";
import "./runs.css";

/** The signed-in user's role: the page's `data-user-role`, confirmed by GET /users/me/. */
export function useRole(): string | null {
  const initial = document.getElementById("app")?.dataset.userRole ?? null;
  const [role, setRole] = useState<string | null>(initial);
  useEffect(() => {
    runsApi.me().then((me) => setRole(me.role), () => undefined);
  }, []);
  return role;
}

async function graphOf(detail: ExecutionDetail, workflow: Workflow): Promise<WorkflowGraph> {
  if (detail.graph) return detail.graph;
  const version = detail.graph_version ?? detail.workflow_version;
  if (version && version !== workflow.version) {
    const old = await api.version(workflow.id, version).catch(() => null);
    if (old?.graph) return old.graph;
  }
  return workflow.graph;
}

function RunActions({ run, role, onChanged }: { run: RunInfo; role: string | null; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (role !== "admin" && role !== "editor") return null;
  const act = async (what: "retry" | "cancel") => {
    setBusy(true);
    setError(null);
    try {
      await runsApi[what](run.id);
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const canRetry = run.status === "failed" || run.status === "cancelled";
  const canCancel = !isTerminal(run.status);
  return (
    <div className="run-actions">
      {canRetry && <button type="button" id="run-retry" disabled={busy} onClick={() => act("retry")}>Retry</button>}
      {canCancel && <button type="button" id="run-cancel" className="danger" disabled={busy} onClick={() => act("cancel")}>Cancel</button>}
      {error && <span className="error small">{error}</span>}
    </div>
  );
}

/** The current time, re-read every second while `ticking` (a running run's duration counts up). */
export function useNow(ticking: boolean, everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [ticking, everyMs]);
  return now;
}

function RunHead({ run, workflow, eventId }: { run: RunInfo; workflow: Workflow; eventId: number | null }) {
  const now = useNow(!isTerminal(run.status));
  return (
    <div className="run-head">
      <h2>
        Run #{run.id} <span className={`status-pill status-${run.status}`} id="run-status">{run.status}</span>
      </h2>
      <div className="facts">
        <span>contact {run.contactId ? <Link href={`/contacts/${run.contactId}`} id="run-contact">{run.contact}</Link> : run.contact ?? "–"}</span>
        <span>started {clock(run.startedAt ?? run.createdAt)}</span>
        <span>duration <span id="run-duration">{duration(runDuration(run, now))}</span></span>
        <span>workflow <Link href={`/workflows/${workflow.id}`}>{workflow.name}</Link></span>
        {run.contactId && (
          <span><Link href={explainHref(run.contactId, eventId)} id="run-explain">Why did this run?</Link></span>
        )}
      </div>
      {run.status === "converted" && (
        <p className="converted" id="run-converted">Converted: the contact reached one of the workflow’s goals while the run waited, so it ended there.</p>
      )}
      {run.status === "waiting" && run.resumeAt && (
        <p className="resume" id="run-resume">
          {quietUntil(run) ? "Held by the quiet hours" : "Waiting"}; resumes {clock(run.resumeAt)} ({fromNow(run.resumeAt)})
        </p>
      )}
      {run.error && <p className="error small">{run.error}</p>}
    </div>
  );
}

function useRunData(workflowId: number, runId: number) {
  const [error, setError] = useState<string | null>(null);
  const [eventId, setEventId] = useState<number | null>(null);
  const loadTypes = useNodeTypes((s) => s.load);
  const refresh = useCallback(async (fresh = false) => {
    const detail = await runsApi.get(runId);
    if (fresh) useRuns.getState().forget(runId);
    useRuns.getState().merge([detail]);
    useRuns.getState().show(runId, false);
  }, [runId]);
  useEffect(() => {
    useEditor.setState({ workflow: null });
    Promise.all([api.workflow(workflowId), runsApi.get(runId), loadTypes()]).then(async ([wf, detail]) => {
      if (detail.workflow_id !== workflowId) throw new Error(`run ${runId} is not a run of workflow ${workflowId}`);
      const graph = await graphOf(detail, wf);
      setEventId(detail.event_id ?? null);
      useEditor.getState().open(wf, { readOnly: true, graph });
      useRuns.getState().reset(graph.edges);
      useRuns.getState().merge([detail]);
      useRuns.getState().show(runId, false);
    }).catch((e: Error) => setError(e.message));
    return watchLive({ execution_id: runId }, {
      onTraces: (traces) => useRuns.getState().ingest(traces),
      onSync: () => { refresh().catch(() => undefined); },
      onState: (state) => useRuns.getState().setLive(state),
    });
  }, [workflowId, runId, loadTypes, refresh]);
  return { error, refresh, eventId };
}

export default function RunPage({ params }: { params: Params }) {
  const workflowId = Number(params.id);
  const runId = Number(params.execution_id);
  const { error, refresh, eventId } = useRunData(workflowId, runId);
  const workflow = useEditor((s) => s.workflow);
  const graph = useEditor((s) => s.graph);
  const selected = useEditor((s) => s.selected);
  const run = useRuns((s) => s.runs[runId]);
  const role = useRole();
  const types = useNodeTypes((s) => s.byType);
  const [picked, setPicked] = useState<string | null>(null);
  const selectedNode = Object.keys(selected).find((id) => selected[id] && graph.nodes.some((n) => n.id === id));
  const nodeId = selectedNode ?? picked;
  if (error) return <div className="page-message error">{error}</div>;
  if (!workflow || workflow.id !== workflowId || !run) return <div className="page-message muted">Loading…</div>;
  const titles = Object.fromEntries(graph.nodes.map((n) => [n.id, n.title || types[n.type]?.title || n.id]));
  const pick = (id: string) => {
    setPicked(id);
    useEditor.setState({ selected: { [id]: true } });
  };
  return (
    <div className="run-page" id="run-page" data-run-status={run.status}>
      <div className="run-layout">
        <div className="run-canvas">
          <ReactFlowProvider>
            <Canvas />
          </ReactFlowProvider>
        </div>
        <aside className="side-panel run-side">
          <RunHead run={run} workflow={workflow} eventId={eventId} />
          <RunActions run={run} role={role} onChanged={() => void refresh(true)} />
          <div className="panel-scroll">
            <h4 className="section-title">Path taken</h4>
            <PathList run={run} selected={nodeId} onSelect={pick} titles={titles} />
            {nodeId ? <StepPanel run={run} nodeId={nodeId} title={titles[nodeId]} /> : (
              <p className="muted step-panel">Click a node (or a step above) to see its input, output and errors.</p>
            )}
          </div>
        </aside>
      </div>
    </div>
  );
}
