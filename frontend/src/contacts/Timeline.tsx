/**
 * A contact's timeline, newest first: inbound events, runs, outbound messages, notes and tag
 * changes (GET /contacts/<id>/timeline/), each linking to the run that caused it.
 */
import { Link } from "../router";
import type { TimelineItem } from "../runs/api";
import { clock, duration } from "../runs/format";
import { explainHref } from "../explain/explain";

function eventIdOf(item: TimelineItem): number | null {
  const id = item.links?.event_id ?? (item.kind === "event" ? item.id : null);
  return typeof id === "number" ? id : null;
}

const ICONS: Record<string, string> = {
  event: "↘", run: "▶", message: "✉", note: "✎", tag_added: "+", tag_removed: "−",
};

const LABELS: Record<string, string> = {
  event: "Event", run: "Run", message: "Message", note: "Note", tag_added: "Tag added", tag_removed: "Tag removed",
};

function str(value: unknown): string {
  return value === undefined || value === null ? "" : String(value);
}

function runHref(item: TimelineItem): string | null {
  const { execution_id: run, workflow_id: workflow } = item.links ?? {};
  return run && workflow ? `/workflows/${workflow}/runs/${run}` : null;
}

function Body({ item }: { item: TimelineItem }) {
  const data = (item.data ?? {}) as Record<string, unknown>;
  switch (item.kind) {
    case "event":
      return (
        <>
          <strong>{str(item.event_type)}</strong> <span className="muted">({str(item.status)})</span>
          {data.content !== undefined && <p className="quote" dir="auto">{str(data.content)}</p>}
        </>
      );
    case "run":
      return (
        <>
          <strong dir="auto">{str(item.workflow_name) || `workflow ${str(item.workflow_id)}`}</strong>{" "}
          <span className={`status-pill status-${str(item.status)}`}>{str(item.status)}</span>{" "}
          <span className="muted">{duration(item.duration_ms as number | null)}</span>
          {item.error && item.status === "failed" ? <p className="error small">{str(item.error)}</p> : null}
        </>
      );
    case "message":
      return (
        <>
          <div className="muted small">{str(item.channel)} → {str(item.to)} · {str(item.status)}</div>
          {item.subject ? <p><strong dir="auto">{str(item.subject)}</strong></p> : null}
          <p className="bubble-inline" dir="auto">{str(item.text)}</p>
        </>
      );
    case "note":
      return <p className="quote" dir="auto">{str(item.text)}</p>;
    default:
      return <span className="tag-chip" dir="auto">{str(item.tag)}</span>;
  }
}

export function Timeline({ items, contactId }: { items: TimelineItem[]; contactId?: number }) {
  if (items.length === 0) return <p className="muted">Nothing has happened with this contact yet.</p>;
  return (
    <ol className="timeline" id="timeline">
      {items.map((item) => {
        const href = runHref(item);
        return (
          <li key={`${item.kind}-${str(item.id)}`} className={`tl-item tl-${item.kind}`} data-kind={item.kind}>
            <span className="tl-icon" aria-hidden>{ICONS[item.kind] ?? "•"}</span>
            <div className="tl-main">
              <div className="tl-head">
                <span className="tl-kind">{LABELS[item.kind] ?? item.kind}</span>
                <time dateTime={item.at}>{clock(item.at)}</time>
                {href && <Link href={href} className="tl-run-link">run #{str(item.links?.execution_id)}</Link>}
                {item.kind === "event" && contactId && (
                  <Link href={explainHref(contactId, eventIdOf(item))} className="tl-run-link" data-explain-event={eventIdOf(item) ?? undefined}>why?</Link>
                )}
              </div>
              <Body item={item} />
            </div>
          </li>
        );
      })}
    </ol>
  );
}
