/**
 * `/contacts/:id/explain` (optionally `?event=<id>`): "why did / didn't this run?" For each of
 * the contact's recent events (or the one asked about), every active or matched workflow: its
 * verdict in one sentence, the trigger's failing rule and the value seen, the limit that skipped
 * it, the path the run took, the messages it rendered, and what is still pending.
 */
import { useEffect, useState } from "react";
import { Link, type Params } from "../router";
import { clock, fromNow } from "../runs/format";
import { ruleText } from "../simulate/simulate";
import { eventParam, explainApi, explainHref, outcomeLabel, verdictText, type ExplainedEvent, type ExplainedRun, type Explanation, type WorkflowVerdict } from "./explain";
import "../runs/runs.css";
import "../contacts/contacts.css";
import "./explain.css";

export default function ExplainPage({ params }: { params: Params }) {
  const contactId = Number(params.id);
  const eventId = eventParam(window.location.search);
  const [data, setData] = useState<Explanation | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setData(null);
    explainApi.get(contactId, eventId).then(setData, (e: Error) => setError(e.message));
  }, [contactId, eventId]);
  if (error) return <div className="page-message error">{error}</div>;
  if (!data) return <div className="page-message muted">Loading…</div>;
  const name = data.contact.first_name || data.contact.external_id;
  return (
    <div className="page explain-page" id="explain-page">
      <p className="crumbs">
        <Link href="/contacts">Contacts</Link> › <Link href={`/contacts/${contactId}`} dir="auto">{name}</Link> ›
      </p>
      <h1>Why did / didn’t it run?</h1>
      <p className="muted">
        {eventId ? <>One event of <b dir="auto">{name}</b>. <Link href={explainHref(contactId)}>All recent events</Link></> : <>The recent events of <b dir="auto">{name}</b> (last 30 days), newest first.</>}
        {" "}Tags now: {data.contact.tags.length ? data.contact.tags.map((t) => <span key={t} className="tag-chip" dir="auto">{t}</span>) : <i>none</i>}
      </p>
      <Pending pending={data.pending} />
      {data.events.length === 0 && <p className="card empty" id="explain-empty">No events of this contact in the window.</p>}
      {data.events.map((ev) => <EventCard key={ev.event_id} ev={ev} contactId={contactId} />)}
    </div>
  );
}

function Pending({ pending }: { pending: Explanation["pending"] }) {
  if (!pending.length) return null;
  return (
    <section className="card explain-pending" id="explain-pending">
      <h3>Still pending</h3>
      <ul>
        {pending.map((p) => (
          <li key={p.execution_id}>
            <Link href={`/workflows/${p.workflow_id}/runs/${p.execution_id}`}>run #{p.execution_id}</Link> waits; resumes {clock(p.resume_at)} ({fromNow(p.resume_at)})
          </li>
        ))}
      </ul>
    </section>
  );
}

function EventCard({ ev, contactId }: { ev: ExplainedEvent; contactId: number }) {
  const content = ev.data && typeof ev.data === "object" ? (ev.data as Record<string, unknown>).content : undefined;
  return (
    <section className="card explain-event" data-event-id={ev.event_id}>
      <header>
        <strong>{ev.event_type}</strong>
        <time dateTime={ev.received_at} className="muted small">{clock(ev.received_at)}</time>
        <span className="muted small">event #{ev.event_id} · {ev.status}</span>
        <Link href={explainHref(contactId, ev.event_id)} className="small">only this event</Link>
      </header>
      {content !== undefined && <p className="quote" dir="auto">{String(content)}</p>}
      {ev.workflows.length === 0 && <p className="muted">No active workflow; none matched.</p>}
      {ev.workflows.map((v) => <Verdict key={v.workflow_id} v={v} />)}
    </section>
  );
}

function Verdict({ v }: { v: WorkflowVerdict }) {
  return (
    <div className={`verdict outcome-${v.outcome}`} data-workflow-id={v.workflow_id} data-outcome={v.outcome}>
      <div className="verdict-head">
        <Link href={`/workflows/${v.workflow_id}`} dir="auto"><b>{v.workflow_name}</b></Link>
        <span className={`status-pill outcome-pill`}>{outcomeLabel(v)}</span>
        {v.workflow_status !== "active" && <span className="muted small">({v.workflow_status})</span>}
      </div>
      <p className="verdict-text">{verdictText(v)}</p>
      <details>
        <summary className="small">Details</summary>
        <Triggers v={v} />
        {v.run && <RunDetails run={v.run} workflowId={v.workflow_id} />}
      </details>
    </div>
  );
}

function Triggers({ v }: { v: WorkflowVerdict }) {
  return (
    <ul className="explain-triggers">
      {v.triggers.map((t, i) => (
        <li key={`${t.node_id}-${i}`}>
          trigger <code>{t.node_id ?? "?"}</code>: {t.matched ? "matched" : `not matched (${t.reason ?? "?"})`}
          {(t.failing ?? []).map((f, j) => <div key={j} className="rule small">✗ {ruleText(f)}</div>)}
        </li>
      ))}
    </ul>
  );
}

function RunDetails({ run, workflowId }: { run: ExplainedRun; workflowId: number }) {
  return (
    <div className="explain-run">
      <div className="small">
        <Link href={`/workflows/${workflowId}/runs/${run.execution_id}`}>run #{run.execution_id}</Link> on version {run.graph_version ?? "?"} · {run.status}
        {run.error && <span className="error"> · {run.error}</span>}
      </div>
      <ol className="explain-path">
        {run.path.map((p, i) => (
          <li key={i} className={`status-${p.status}`}>
            <code>{p.node_id}</code> {p.status}{p.port && p.port !== "out" ? ` → ${p.port}` : ""}
          </li>
        ))}
      </ol>
      {run.conditions.filter((c) => c.failing?.length).map((c) => (
        <div key={c.node_id} className="small">
          condition <code>{c.node_id}</code> was false: {(c.failing ?? []).map(ruleText).join("; ")}
        </div>
      ))}
      {run.messages.map((m, i) => (
        <div key={i} className="explain-message">
          <div className="muted small">{m.channel} → {m.to ?? "?"} · {m.status}</div>
          {m.subject && <strong dir="auto">{m.subject}</strong>}
          <p className="bubble-inline" dir="auto">{m.text}</p>
        </div>
      ))}
      {run.pending && <div className="small">waits at <code>{run.pending.node_id}</code>; resumes {clock(run.pending.resume_at)} ({fromNow(run.pending.resume_at)})</div>}
    </div>
  );
}
