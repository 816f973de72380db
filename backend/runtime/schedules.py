"""Schedule triggers: fire ``trigger.schedule`` nodes at their cron times.

``fire_schedules`` runs every minute. Each active trigger whose ``next_fire_at`` has passed
gets one ``SCHEDULE`` event addressed to it (idempotency key = trigger id + fire time, so two
workers firing at once create one event), and its ``next_fire_at`` moves to the next cron time
after now in the trigger's timezone (missed times while everything was down fire once).

A schedule with a target (``target_tag`` and / or ``target_rules`` on ``user.*``) fires one
``SCHEDULE`` event per matching contact instead (``user_id`` = the contact; idempotency key +
contact id), read in pages of ``SCHEDULE_BATCH_SIZE`` contacts. Those events are drained in
batches like any other and pass the per-contact limits (re-entry, runs per day, rate limit).
"""

from __future__ import annotations

__all__ = ["fire_schedules"]

import logging

from flask import current_app
from sqlalchemy import select, update

from backend.extensions import db
from backend.models import Contact, Tag, Trigger, Workflow, iso
from backend.queue import request_drain
from backend.runtime.clock import utcnow
from backend.runtime.ingest import accept_event
from backend.services import contacts as contact_service
from graph_engine import UnknownNodeTypeError, default_registry, evaluate

log = logging.getLogger(__name__)


def fire_schedules() -> list[int]:
    """Create the due SCHEDULE events; return the event log ids created."""
    now = utcnow()
    due = db.session.execute(
        select(
            Trigger.id,
            Trigger.workflow_id,
            Trigger.node_id,
            Trigger.node_type,
            Trigger.cron,
            Trigger.timezone,
            Trigger.next_fire_at,
        ).where(Trigger.is_active.is_(True), Trigger.cron.is_not(None), Trigger.next_fire_at <= now)
    ).all()
    created = []
    for row in due:
        fire_time = iso(row.next_fire_at)
        payload = {
            "event_type": "SCHEDULE",
            "data": {"scheduled_for": fire_time},
            "event_id": f"schedule-{row.id}-{fire_time}",
        }
        target = _target(row.workflow_id, row.node_id)
        for contact_id in _contacts(target) if target else [None]:
            if contact_id is not None:
                payload = {
                    **payload,
                    "user_id": contact_id[1],
                    "event_id": f"schedule-{row.id}-{fire_time}-{contact_id[0]}",
                }
            ev, new = accept_event(
                payload,
                source="schedule",
                workflow_id=row.workflow_id,
                trigger_node_id=row.node_id,
                dispatch=False,
            )
            if new:
                created.append(ev.id)
        tz = row.timezone or "UTC"
        try:
            next_fire = default_registry.get(row.node_type).next_fire
            following = next_fire({"cron": row.cron, "timezone": tz}, now, tz)
        except (ValueError, KeyError, TypeError, UnknownNodeTypeError) as exc:
            log.warning("trigger %s: bad cron %r: %s", row.id, row.cron, exc)
            following = None
        db.session.execute(
            update(Trigger)
            .where(Trigger.id == row.id, Trigger.next_fire_at == row.next_fire_at)
            .values(next_fire_at=following)
        )
        db.session.commit()
    if created:
        request_drain()
    return created


def _target(workflow_id: int, node_id: str) -> dict | None:
    """The schedule node's target params, or None for a contact-less schedule."""
    workflow = db.session.get(Workflow, workflow_id)
    nodes = (workflow.graph or {}).get("nodes", []) if workflow else []
    params = next((n.get("params") or {} for n in nodes if n.get("id") == node_id), {})
    return params if params.get("target_tag") or params.get("target_rules") else None


def _contacts(target: dict):
    """``(id, external_id)`` of every contact the target selects, a page at a time."""
    stmt = select(Contact).order_by(Contact.id)
    if target.get("target_tag"):
        stmt = stmt.where(Contact.tags.any(Tag.name == target["target_tag"]))
    rules, after = target.get("target_rules"), 0
    size = current_app.config.get("SCHEDULE_BATCH_SIZE", 500)
    while True:
        page = db.session.scalars(stmt.where(Contact.id > after).limit(size)).all()
        if not page:
            return
        for contact in page:
            user = contact_service.contact_to_context(contact)
            if not rules or evaluate(rules, {"user": user}):
                yield contact.id, contact.external_id
        after = page[-1].id
        db.session.expire_all()  # a page at a time in memory
