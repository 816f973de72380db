"""Simulate: what would a (draft) graph have done over the last N days?

The stored events of the window whose type one of the graph's triggers listens to are replayed
in the order they arrived, through the engine, in memory:

1. match each event against the graph's triggers (:class:`graph_engine.TriggerIndex`);
2. apply the graph's limits per contact on the events' own clock (re-entry, runs per day, the
   per-minute rate limit);
3. run the graph on :class:`graph_engine.InMemoryEffects` (capture only: nothing is sent, no
   contact is changed; webhooks get a canned 200) with the clock at the event's time, waits
   fast-forwarded;
4. count what happened per node, who would have been messaged, sample the rendered messages,
   and say who was skipped and why (the failing rule for a few non-matching events).

A simulated contact starts as the stored contact (today's tags and fields) and carries the
simulated changes (tags, fields) to its later events, as the real runs would have.
"""

from __future__ import annotations

__all__ = ["SimulationInvalid", "simulate", "Replay"]

import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from backend.extensions import db
from backend.models import Contact, EventLog, utcnow
from backend.services import contacts as contact_service
from graph_engine import (
    DEFAULT_PORT,
    GraphEngineError,
    InMemoryEffects,
    Interpreter,
    TriggerIndex,
    build_context,
    event_from_payload,
    explain_match,
    trigger_specs,
    validate,
)

BATCH = 1000
SAMPLES = 20
MAX_RESUMES = 100
SIM_WORKFLOW = "simulation"
_DEFAULT_CHANNEL = {"send_message": "capture", "send_email": "email"}  # as the test run shows them


class SimulationInvalid(Exception):
    """The graph did not validate; ``errors`` are the engine's issues."""

    def __init__(self, errors: list[dict]):
        super().__init__("graph is not valid")
        self.errors = errors


class _Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


class _Effects(InMemoryEffects):
    """Capture effects with cheap contact copies: a simulated contact is a flat dict whose only
    nested values are ``tags`` (list) and ``fields`` / ``channel_ids`` (dicts of scalars), so a
    shallow copy of those replaces the engine's general-purpose deep copy (the replay's
    hottest line)."""

    @staticmethod
    def _copy(contact: dict) -> dict:
        out = dict(contact)
        out["tags"] = list(contact.get("tags") or [])
        out["fields"] = dict(contact.get("fields") or {})
        return out

    def add_tag(self, contact, tag):
        contact = self._copy(contact)
        if tag not in contact["tags"]:
            contact["tags"].append(tag)
        self._record("add_tag", contact=contact.get("external_id"), tag=tag)
        return contact

    def remove_tag(self, contact, tag):
        contact = self._copy(contact)
        contact["tags"] = [t for t in contact["tags"] if t != tag]
        self._record("remove_tag", contact=contact.get("external_id"), tag=tag)
        return contact


class _Limits:
    """The graph's per-contact limits, kept in memory on the events' clock."""

    def __init__(self, settings: dict, per_minute: int):
        self.reentry = settings.get("reentry") or "always"
        self.hours = float(settings.get("reentry_hours") or 24)
        self.daily = settings.get("max_runs_per_contact_per_day")
        self.per_minute = per_minute
        self.runs: dict[str, list[datetime]] = defaultdict(list)

    def skip_reason(self, contact: str | None, at: datetime) -> str | None:
        if contact is None:
            return None
        past = self.runs[contact]
        if self.reentry == "once" and past:
            return "reentry_once"
        if (
            self.reentry == "once_per_hours"
            and past
            and past[-1] > at - timedelta(hours=self.hours)
        ):
            return f"reentry_once_per_{self.hours:g}_hours"
        if self.daily and sum(1 for t in past if t > at - timedelta(days=1)) >= self.daily:
            return "max_runs_per_contact_per_day"
        if (
            self.per_minute
            and sum(1 for t in past[-self.per_minute :] if t > at - timedelta(minutes=1))
            >= self.per_minute
        ):
            return "rate_limited"
        past.append(at)
        return None


class Replay:
    """The replay of one graph; feed it events with :meth:`event`, read :meth:`result`."""

    def __init__(self, graph: dict, per_minute: int = 30):
        self.graph = graph
        self.engine = Interpreter(graph, workflow_id=SIM_WORKFLOW)
        self.specs = trigger_specs(graph, SIM_WORKFLOW)
        self.index = TriggerIndex(self.specs)
        self.limits = _Limits(graph.get("settings") or {}, per_minute)
        self.nodes: dict[str, Counter] = defaultdict(Counter)
        self.ports: Counter = Counter()  # (node id, port) -> how many times a step left by it
        self.outcomes: Counter = Counter()
        self.skipped: Counter = Counter()
        self.skip_samples: list[dict] = []
        self.messages: list[dict] = []
        self.messaged: set[str] = set()
        self.sent = 0
        self.replayed = 0
        self.clock = _Clock()

    @property
    def event_types(self) -> set[str]:
        return {spec.event_type for spec in self.specs}

    def _skip(self, reason: str, ev_id, contact: str | None, context=None) -> None:
        self.skipped[reason] += 1
        if len(self.skip_samples) < SAMPLES:
            sample = {"event_id": ev_id, "contact": contact, "reason": reason}
            if context is not None and self.specs:
                sample["failing"] = explain_match(self.specs[0], context)["failing"][:3]
            self.skip_samples.append(sample)

    def event(self, ev_id, payload: dict, at: datetime, user: dict | None) -> dict | None:
        """Replay one event; returns the contact's context after the run (or None)."""
        self.replayed += 1
        self.clock.now = at
        context = build_context(event_from_payload(payload, now=at), user or None, None)
        contact = (user or {}).get("external_id")
        matched = self.index.match(context)
        if not matched:
            self._skip("not_matched", ev_id, contact, context)
            return None
        reason = self.limits.skip_reason(contact, at)
        if reason:
            self._skip(reason, ev_id, contact)
            return None
        return self._run(matched[0].node_id, context, ev_id, contact)

    def _run(self, trigger: str, context: dict, ev_id, contact: str | None) -> dict | None:
        effects = _Effects(clock=self.clock)
        state = self.engine.start(trigger, context, execution_id=f"sim-{ev_id}", effects=effects)
        nodes, ports = self.nodes, self.ports

        def on_step(record) -> None:
            counts = nodes[record.node_id]
            counts["entered"] += record.status != "retrying"
            counts[record.status] += 1
            if record.port:
                ports[record.node_id, record.port] += 1

        self.engine.run(state, on_step=on_step, effects=effects)
        resumes = 0
        while state.status == "waiting" and state.resume_at and resumes < MAX_RESUMES:
            self.clock.now = max(self.clock.now, datetime.fromisoformat(state.resume_at))
            self.engine.run(state, on_step=on_step, effects=effects)
            resumes += 1
        self.outcomes[state.status] += 1
        self._collect(effects.log, ev_id, contact)
        return state.context.get("user")

    def _collect(self, log: list[dict], ev_id, contact: str | None) -> None:
        for effect in log:
            if effect["effect"] not in ("send_message", "send_email"):
                continue
            self.sent += 1
            if contact:
                self.messaged.add(contact)
            if len(self.messages) < SAMPLES:
                self.messages.append(
                    {
                        "event_id": ev_id,
                        "contact": contact,
                        "effect": effect["effect"],
                        "channel": effect.get("channel") or _DEFAULT_CHANNEL[effect["effect"]],
                        "to": effect.get("to"),
                        "subject": effect.get("subject"),
                        "text": effect.get("text") if "text" in effect else effect.get("body"),
                    }
                )

    def _edge_counts(self) -> dict[str, int]:
        """How many runs went along each edge (its source node left by its port): the funnel's
        widths on the canvas."""
        return {
            edge["id"]: self.ports[edge["source"], edge.get("source_port") or DEFAULT_PORT]
            for edge in self.graph.get("edges", [])
        }

    def result(self) -> dict:
        """Per-node counts, outcomes, who would be messaged, samples, skips and why."""
        return {
            "events": self.replayed,
            "runs": sum(self.outcomes.values()),
            "outcomes": dict(self.outcomes),
            "nodes": {
                nid: {
                    k: c.get(k, 0) for k in ("entered", "succeeded", "failed", "waiting", "skipped")
                }
                for nid, c in self.nodes.items()
            },
            "edges": self._edge_counts(),
            "contacts_messaged": len(self.messaged),
            "messages": self.sent,
            "sample_messages": self.messages,
            "skipped": {"reasons": dict(self.skipped), "samples": self.skip_samples},
        }


def _contacts(external_ids: set[str], cache: dict) -> None:
    missing = [eid for eid in external_ids if eid not in cache]
    if not missing:
        return
    rows = db.session.scalars(
        select(Contact).where(Contact.external_id.in_(missing)).options(selectinload(Contact.tags))
    )
    for contact in rows:
        cache[contact.external_id] = contact_service.contact_to_context(contact)
    for eid in missing:
        cache.setdefault(eid, {"external_id": eid, "tags": [], "fields": {}})


def _event_rows(types: set[str], since: datetime, until: datetime):
    """``(id, payload, received_at, user_id)`` of the window, oldest first, in batches."""
    stmt = (
        select(
            EventLog.id,
            EventLog.payload,
            EventLog.received_at,
            EventLog.user_id,
            EventLog.event_type,
        )
        .where(
            EventLog.event_type.in_(sorted(types)),
            EventLog.received_at >= since,
            EventLog.received_at < until,
        )
        .order_by(EventLog.received_at, EventLog.id)
    )
    return db.session.execute(stmt.execution_options(yield_per=BATCH)).partitions(BATCH)


def _total(types: set[str], since: datetime, until: datetime) -> int:
    return (
        db.session.scalar(
            select(func.count()).where(
                EventLog.event_type.in_(sorted(types)),
                EventLog.received_at >= since,
                EventLog.received_at < until,
            )
        )
        or 0
    )


def simulate(
    graph: dict,
    days: int,
    *,
    now: datetime | None = None,
    per_minute: int = 30,
    progress=None,
    max_nodes: int = 500,
) -> dict:
    """Replay the last ``days`` of stored events through ``graph``; ``progress(done, total)``
    is called after every batch. Raises :class:`SimulationInvalid` for an invalid graph."""
    report = validate(graph, max_nodes=max_nodes)
    if not report.ok:
        raise SimulationInvalid([issue.to_dict() for issue in report.errors])
    until = now or utcnow()
    since = until - timedelta(days=days)
    replay = Replay(graph, per_minute)
    total = _total(replay.event_types, since, until) if replay.event_types else 0
    started, cache = time.perf_counter(), {}
    for batch in _event_rows(replay.event_types, since, until) if total else ():
        _contacts({row.user_id for row in batch if row.user_id}, cache)
        for row in batch:
            payload = {**(row.payload or {}), "event_type": row.event_type, "event_id": row.id}
            user = cache.get(row.user_id) if row.user_id else None
            try:
                after = replay.event(row.id, payload, row.received_at, user)
            except GraphEngineError as exc:
                replay._skip(f"error: {type(exc).__name__}", row.id, row.user_id)
                continue
            if after and row.user_id:
                cache[row.user_id] = after
        if progress:
            progress(replay.replayed, total)
    elapsed = time.perf_counter() - started
    return {
        **replay.result(),
        "window": {"days": days, "since": since.isoformat(), "until": until.isoformat()},
        "elapsed_ms": round(elapsed * 1000, 1),
        "events_per_second": round(replay.replayed / elapsed) if elapsed else None,
    }
