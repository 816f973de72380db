/**
 * `/contacts/:id`: the page a support person opens to answer "what did we send this customer,
 * and why?" — the contact's fields and tags, its runs across all workflows, and one timeline of
 * events, runs, messages, notes and tag changes, newest first.
 */
import { useEffect, useState } from "react";
import { itemsOf } from "../api";
import { Link, type Params } from "../router";
import { runsApi, type Contact, type TimelineItem } from "../runs/api";
import { clock, duration } from "../runs/format";
import type { ExecutionJson } from "../runs/traceState";
import { explainHref } from "../explain/explain";
import { Timeline } from "./Timeline";
import "../runs/runs.css";
import "./contacts.css";

export function contactName(c: Contact): string {
  return [c.first_name, c.last_name].filter(Boolean).join(" ") || c.external_id;
}

function tagName(tag: string | { name: string }): string {
  return typeof tag === "string" ? tag : tag.name;
}

function Facts({ contact }: { contact: Contact }) {
  const fields = contact.fields ?? contact.custom_fields ?? {};
  const rows: [string, unknown][] = [
    ["External id", contact.external_id], ["E-mail", contact.email], ["Phone", contact.phone],
    ["Channel", contact.channel], ["Created", clock(contact.created_at)],
    ...Object.entries(fields).map(([k, v]): [string, unknown] => [k, typeof v === "object" ? JSON.stringify(v) : v]),
  ];
  return (
    <section className="card contact-facts">
      <dl>
        {rows.map(([k, v]) => (
          <div key={k}><dt>{k}</dt><dd dir="auto">{v === null || v === undefined || v === "" ? "–" : String(v)}</dd></div>
        ))}
      </dl>
      <div className="tags" id="contact-tags">
        {(contact.tags ?? []).map((t) => <span key={tagName(t)} className="tag-chip" dir="auto">{tagName(t)}</span>)}
        {(contact.tags ?? []).length === 0 && <span className="muted small">no tags</span>}
      </div>
    </section>
  );
}

function Runs({ runs }: { runs: ExecutionJson[] }) {
  if (runs.length === 0) return <p className="muted">No runs.</p>;
  return (
    <table className="grid runs-of-contact" id="contact-runs">
      <thead><tr><th>Run</th><th>Workflow</th><th>Status</th><th>Started</th><th>Duration</th></tr></thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id} data-run-id={r.id}>
            <td><Link href={`/workflows/${r.workflow_id}/runs/${r.id}`}>#{r.id}</Link></td>
            <td dir="auto">{r.workflow_name ?? r.workflow_id}</td>
            <td><span className={`status-pill status-${r.status}`}>{r.status}</span></td>
            <td>{clock(r.created_at)}</td>
            <td>{duration(r.duration_ms)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default function ContactPage({ params }: { params: Params }) {
  const id = Number(params.id);
  const [contact, setContact] = useState<Contact | null>(null);
  const [items, setItems] = useState<TimelineItem[] | null>(null);
  const [runs, setRuns] = useState<ExecutionJson[]>([]);
  const [tab, setTab] = useState<"timeline" | "runs">("timeline");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const fail = (e: Error) => setError(e.message);
    runsApi.contact(id).then(setContact, fail);
    runsApi.timeline(id).then((page) => setItems(itemsOf(page)), fail);
    runsApi.listItems({ contact_id: id, page_size: 100 }).then(setRuns, () => undefined);
  }, [id]);
  if (error) return <div className="page-message error">{error}</div>;
  if (!contact) return <div className="page-message muted">Loading…</div>;
  return (
    <div className="page contact-page" id="contact-page">
      <p className="crumbs"><Link href="/contacts">Contacts</Link> ›</p>
      <div className="contact-title">
        <h1 dir="auto">{contactName(contact)}</h1>
        <Link href={explainHref(id)} className="btn" id="contact-explain">Why did / didn’t it run?</Link>
      </div>
      <Facts contact={contact} />
      <nav className="tabs">
        <button type="button" className={tab === "timeline" ? "active" : ""} onClick={() => setTab("timeline")}>Timeline</button>
        <button type="button" id="contact-runs-tab" className={tab === "runs" ? "active" : ""} onClick={() => setTab("runs")}>
          Runs <span className="count">{runs.length}</span>
        </button>
      </nav>
      {tab === "timeline" ? (items ? <Timeline items={items} contactId={id} /> : <p className="muted">Loading…</p>) : <Runs runs={runs} />}
    </div>
  );
}
