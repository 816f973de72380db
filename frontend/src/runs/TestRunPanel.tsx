/**
 * The editor's "Test" button: edit a sample event and contact as JSON, run the current (maybe
 * unsaved) graph with POST /workflows/test-run/, paint the result on the canvas like a live run
 * and show what it would have sent. Nothing reaches a customer: the server runs it in memory.
 */
import { useEffect, useRef, useState } from "react";
import { api, ApiError } from "../api";
import { useRuns } from "../store/runs";
import type { WorkflowGraph } from "../store/types";
import { runsApi, type TestRunResult } from "./api";
import { Captured } from "./Captured";
import { sampleContact, sampleEvent } from "./samples";
import "./runs.css";

/** The id the test run gets in the runs store (real runs have positive ids). */
export const TEST_RUN_ID = -1;

function parse(label: string, text: string): { value?: unknown; error?: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: `${label}: ${(e as Error).message}` };
  }
}

/** Paint a test run's steps on the canvas (and stop following live runs). */
export function paintTestRun(workflowId: number, out: TestRunResult): void {
  const status = out.result.status === "not_matched" ? "failed" : out.result.status;
  const store = useRuns.getState();
  const previous = store.runs[TEST_RUN_ID];
  if (previous) store.forget(TEST_RUN_ID);
  store.merge([{ id: TEST_RUN_ID, workflow_id: workflowId, status: status as "succeeded",
    step_count: out.steps.length, steps: out.steps, resume_at: out.result.waiting_until ?? null,
    error: out.result.error ?? null }]);
  useRuns.getState().show(TEST_RUN_ID, false);
}

function describe(out: TestRunResult): string {
  const r = out.result;
  if (r.status === "not_matched") return r.error ?? "The event matches no trigger of this workflow.";
  if (r.status === "waiting") return `Waiting until ${r.waiting_until ?? "?"} (tick "skip waits" to run past it).`;
  if (r.status === "failed") return `Failed: ${r.error ?? "unknown error"}`;
  return `Finished: ${out.steps.length} steps, ${out.messages.length} message(s) captured.`;
}

export function TestRunPanel({ workflowId, graph, onClose }: { workflowId: number; graph: WorkflowGraph; onClose: () => void }) {
  const [eventText, setEventText] = useState(() => JSON.stringify(sampleEvent(graph), null, 2));
  const [contactText, setContactText] = useState(() => JSON.stringify(sampleContact(graph), null, 2));
  const [fastForward, setFastForward] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<TestRunResult | null>(null);
  const resultRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // braces: newer Chromium returns a promise from scrollIntoView, which is no effect cleanup
    resultRef.current?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }, [result]);
  useEffect(() => {
    api.contextPaths(workflowId).then((paths) => {
      const names = paths.map((p) => p.path).filter((p) => p.startsWith("user.fields."));
      if (names.length) setContactText(JSON.stringify(sampleContact(graph, names), null, 2));
    }, () => undefined);
    // pre-fill once per opening; later edits are the user's
  }, [workflowId]); // eslint-disable-line
  const run = async () => {
    const event = parse("event", eventText);
    const contact = parse("contact", contactText);
    if (event.error || contact.error) return setError(event.error ?? contact.error ?? null);
    setBusy(true);
    setError(null);
    try {
      const out = await runsApi.testRun({ graph, event: event.value, contact: contact.value, fast_forward: fastForward });
      setResult(out);
      paintTestRun(workflowId, out);
    } catch (e) {
      const body = e instanceof ApiError ? e.body : {};
      setError(`${(e as Error).message}${body.node_id ? ` (node ${String(body.node_id)})` : ""}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <aside className="side-panel test-run-panel" id="test-run-panel" aria-label="Test run">
      <header>
        <h3>Test run</h3>
        <button type="button" className="icon-btn" aria-label="Close" onClick={onClose}>×</button>
      </header>
      <div className="panel-scroll">
      <p className="muted small">Runs the graph on the canvas (saved or not) with this event and contact.
        Messages are captured here, never sent; no contact is changed.</p>
      <div className="test-run-inputs">
        <label><span>Sample event <span className="muted small">(JSON)</span></span><textarea id="test-event" spellCheck={false} dir="ltr" value={eventText} onChange={(e) => setEventText(e.target.value)} /></label>
        <label><span>Sample contact <span className="muted small">(JSON)</span></span><textarea id="test-contact" spellCheck={false} dir="ltr" value={contactText} onChange={(e) => setContactText(e.target.value)} /></label>
      </div>
      <div className="test-run-actions">
        <label className="check"><input type="checkbox" checked={fastForward} onChange={(e) => setFastForward(e.target.checked)} /> skip waits</label>
        <button type="button" className="primary" id="test-run-go" disabled={busy} onClick={run}>{busy ? "Running…" : "Run test"}</button>
      </div>
      {error && <div className="error" id="test-run-error">{error}</div>}
      {result && (
        <div className="test-run-result" id="test-run-result" ref={resultRef} data-result-status={result.result.status}>
          <p className={`status-line status-${result.result.status}`}>{describe(result)}</p>
          <Captured messages={result.messages} />
        </div>
      )}
      </div>
    </aside>
  );
}
