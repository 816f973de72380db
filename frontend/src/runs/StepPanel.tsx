/**
 * The node panel of a run: every step the run made on one node (attempts in order) with its
 * status, input, output, error, duration and, for a wait, when it resumes; and the run's path,
 * step by step, for picking a node.
 */
import { clock, duration, fromNow, pretty } from "./format";
import type { RunInfo, StepInfo } from "./traceState";

function Json({ label, value, className }: { label: string; value: unknown; className?: string }) {
  if (value === undefined || value === null || value === "") return null;
  return (
    <div className={`step-json ${className ?? ""}`}>
      <h5>{label}</h5>
      <pre dir="auto">{pretty(value)}</pre>
    </div>
  );
}

function StepCard({ step, runResumeAt }: { step: StepInfo; runResumeAt: string | null }) {
  const rec = step.record;
  const waits = step.status === "waiting" || step.status === "retrying";
  const resumeAt = step.resumeAt ?? rec?.resume_at ?? (waits ? runResumeAt : null);
  return (
    <article className="step-card" data-seq={step.seq} data-step-status={step.status}>
      <header>
        <span className={`status-pill status-${step.status}`}>{step.status}</span>
        <span>step {step.seq}</span>
        <span>attempt {step.attempt}</span>
        <span>{duration(step.durationMs)}</span>
        {step.port && <span className="muted">→ {step.port}</span>}
      </header>
      {rec && <p className="muted small">{clock(rec.started_at)} – {clock(rec.finished_at)}</p>}
      {resumeAt && (
        <p className="resume">Resumes {clock(resumeAt)} <span className="muted">({fromNow(resumeAt)})</span></p>
      )}
      {step.error && <Json label="Error" value={step.error} className="step-error" />}
      <Json label="Input" value={rec?.input} className="step-input" />
      <Json label="Output" value={rec ? rec.output : step.outputPreview} className="step-output" />
    </article>
  );
}

export function StepPanel({ run, nodeId, title }: { run: RunInfo; nodeId: string; title?: string }) {
  const steps = Object.values(run.steps).filter((s) => s.nodeId === nodeId && s.finished).sort((a, b) => a.seq - b.seq);
  return (
    <section className="step-panel" id="step-panel" data-node-id={nodeId}>
      <h4>{title ?? nodeId} <span className="muted small">{nodeId}</span></h4>
      {steps.length === 0 ? (
        <p className="muted">The run did not reach this node.</p>
      ) : (
        steps.map((s) => <StepCard key={s.seq} step={s} runResumeAt={run.status === "waiting" ? run.resumeAt : null} />)
      )}
    </section>
  );
}

export function PathList({ run, selected, onSelect, titles }: {
  run: RunInfo; selected: string | null; onSelect: (nodeId: string) => void; titles: Record<string, string>;
}) {
  const steps = Object.values(run.steps).filter((s) => s.finished).sort((a, b) => a.seq - b.seq);
  return (
    <ol className="path-list" aria-label="Path taken">
      {steps.map((s) => (
        <li key={s.seq} className={s.nodeId === selected ? "selected" : ""}>
          <button type="button" onClick={() => onSelect(s.nodeId)} data-node-id={s.nodeId}>
            <span className={`dot status-${s.status}`} />
            <span className="path-node" dir="auto">{titles[s.nodeId] ?? s.nodeId}</span>
            <span className="muted small">{s.status === "waiting" && s.resumeAt ? `until ${clock(s.resumeAt)}` : duration(s.durationMs)}</span>
          </button>
        </li>
      ))}
    </ol>
  );
}
