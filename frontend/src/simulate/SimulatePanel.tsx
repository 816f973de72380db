/**
 * The Simulate panel: pick a window, replay its stored events through the graph on the canvas
 * (saved or not) in a background job, watch the progress, then read the funnel (drawn on the
 * canvas), who would have been messaged, sample messages and who was skipped and why.
 */
import { type ReactFlowInstance, useReactFlow, useStoreApi } from "@xyflow/react";
import { FlaskConical } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { ApiError } from "../api";
import { useEditor } from "../store/editor";
import { graphForSave } from "../store/persist";
import { useSimulation } from "../store/simulation";
import { PanelHeader } from "../ui/PanelHeader";
import { funnelViewport } from "./funnelView";
import { funnelSteps, progressPercent, ruleText, simulateApi, skipLabel, WINDOWS, type SimResult, type Simulation } from "./simulate";
import "./simulate.css";

const POLL_MS = 400;

/** Bring the funnel into view at a zoom where its counts can be read (funnelView). */
function showFunnel(flow: ReactFlowInstance, view: { width: number; height: number }) {
  const nodes = flow.getNodes().filter((n) => n.type !== "note");
  if (!nodes.length) return;
  const trigger = nodes.find((n) => n.type === "trigger");
  const start = trigger && { x: trigger.position.x, y: trigger.position.y + (trigger.measured?.height ?? 60) / 2 };
  void flow.setViewport(funnelViewport(flow.getNodesBounds(nodes), view, start), { duration: 200 });
}

function useSimulationJob(workflowId: number | undefined) {
  const flow = useReactFlow();
  const canvas = useStoreApi();
  const [sim, setSim] = useState<Simulation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const poll = (id: string) => {
    timer.current = setTimeout(async () => {
      try {
        const next = await simulateApi.get(id);
        setSim(next);
        if (next.status === "finished" && next.result) {
          useSimulation.getState().show(next.result);
          setTimeout(() => showFunnel(flow, canvas.getState()), 50);
        }
        else if (next.status !== "failed") poll(id);
      } catch (e) {
        setError((e as Error).message);
      }
    }, POLL_MS);
  };
  const start = async (days: number) => {
    clearTimeout(timer.current);
    setError(null);
    useSimulation.getState().show(null);
    try {
      const started = await simulateApi.start(graphForSave(), days, workflowId);
      setSim(started);
      poll(started.id);
    } catch (e) {
      setSim(null);
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return { sim, error, start };
}

export function SimulatePanel({ onClose }: { onClose: () => void }) {
  const workflowId = useEditor((s) => s.workflow?.id);
  const [days, setDays] = useState(7);
  const { sim, error, start } = useSimulationJob(workflowId);
  const busy = sim?.status === "queued" || sim?.status === "running";
  useEffect(() => () => useSimulation.getState().show(null), []);
  return (
    <aside className="inspector simulate-panel" aria-label="Simulate" id="simulate-panel">
      <PanelHeader icon={<FlaskConical size={18} />} title="Simulate" subtitle="What would this graph have done?" onClose={onClose} />
      <div className="panel-body">
        <p className="muted small">
          Replays the stored events of the window through the graph on the canvas, saved or not. Nothing is sent and no contact changes.
        </p>
        <div className="sim-window" role="radiogroup" aria-label="Window">
          {WINDOWS.map((d) => (
            <button key={d} type="button" role="radio" aria-checked={days === d} data-days={d}
              className={days === d ? "active" : ""} onClick={() => setDays(d)} disabled={busy}>
              last {d} {d === 1 ? "day" : "days"}
            </button>
          ))}
        </div>
        <button className="btn primary" id="simulate-run" disabled={busy} onClick={() => void start(days)}>
          {busy ? "Simulating…" : "Run simulation"}
        </button>
        {error && <p className="error" id="simulate-error">{error}</p>}
        {sim && <Progress sim={sim} />}
        {sim?.status === "failed" && <p className="error" id="simulate-error">{sim.error}</p>}
        {sim?.status === "finished" && sim.result && <Result result={sim.result} />}
      </div>
    </aside>
  );
}

function Progress({ sim }: { sim: Simulation }) {
  const pct = sim.status === "finished" ? 100 : progressPercent(sim.progress);
  const { done, total } = sim.progress;
  return (
    <div className="sim-progress" id="simulate-progress" data-status={sim.status} data-done={done} data-total={total ?? ""}>
      <div className="bar"><span style={{ width: `${pct}%` }} /></div>
      <span className="muted small">
        {sim.status === "queued" ? "waiting for a worker…" : `${done.toLocaleString()} of ${total === null ? "…" : total.toLocaleString()} events`}
      </span>
    </div>
  );
}

function Result({ result }: { result: SimResult }) {
  const graph = useEditor((s) => s.graph);
  const steps = funnelSteps(graph, result);
  const titles = Object.fromEntries(graph.nodes.map((n) => [n.id, n.title || n.id]));
  return (
    <div className="sim-result" id="simulate-result">
      <div className="sim-figures">
        <Figure id="sim-events" label="events replayed" value={result.events} />
        <Figure id="sim-runs" label="runs" value={result.runs} />
        <Figure id="sim-contacts" label="contacts messaged" value={result.contacts_messaged} />
        <Figure id="sim-messages" label="messages" value={result.messages} />
      </div>
      <h4 className="section-title">Funnel</h4>
      <ol className="sim-funnel" id="sim-funnel">
        {steps.map((s) => (
          <li key={s.nodeId} data-node={s.nodeId} data-entered={s.entered}>
            <span className="name" dir="auto">{titles[s.nodeId]}</span>
            <span className="bar"><span style={{ width: `${s.percent}%` }} /></span>
            <span className="n">{s.entered.toLocaleString()}</span>
          </li>
        ))}
      </ol>
      <Messages result={result} />
      <Skipped result={result} />
    </div>
  );
}

function Figure({ id, label, value }: { id: string; label: string; value: number }) {
  return (
    <div className="figure" id={id} data-value={value}>
      <b>{value.toLocaleString()}</b>
      <span className="muted small">{label}</span>
    </div>
  );
}

function Messages({ result }: { result: SimResult }) {
  if (!result.sample_messages.length) return null;
  return (
    <>
      <h4 className="section-title">Sample messages</h4>
      <ul className="sim-messages" id="sim-messages">
        {result.sample_messages.slice(0, 8).map((m, i) => (
          <li key={i}>
            <div className="muted small">{m.channel} → {m.to || m.contact || "?"}</div>
            {m.subject && <strong dir="auto">{m.subject}</strong>}
            <p className="bubble-inline" dir="auto">{m.text}</p>
          </li>
        ))}
      </ul>
    </>
  );
}

function Skipped({ result }: { result: SimResult }) {
  const reasons = Object.entries(result.skipped.reasons).sort((a, b) => b[1] - a[1]);
  if (!reasons.length) return null;
  return (
    <>
      <h4 className="section-title">Skipped, and why</h4>
      <table className="grid sim-skipped" id="sim-skipped">
        <tbody>
          {reasons.map(([reason, n]) => (
            <tr key={reason} data-reason={reason}><td>{skipLabel(reason)}</td><td className="n">{n.toLocaleString()}</td></tr>
          ))}
        </tbody>
      </table>
      <ul className="sim-samples">
        {result.skipped.samples.slice(0, 6).map((s, i) => (
          <li key={i} className="small">
            <b dir="auto">{s.contact ?? "?"}</b>: {skipLabel(s.reason)}
            {s.failing?.[0] && <span className="muted"> ({ruleText(s.failing[0])})</span>}
          </li>
        ))}
      </ul>
    </>
  );
}
