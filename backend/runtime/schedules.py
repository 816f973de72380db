"""Schedule triggers: fire ``trigger.schedule`` nodes at their cron times.

``fire_schedules`` runs every minute. Each active trigger whose ``next_fire_at`` has passed
gets one ``SCHEDULE`` event addressed to it (idempotency key = trigger id + fire time, so two
workers firing at once create one event), and its ``next_fire_at`` moves to the next cron time
after now in the trigger's timezone (missed times while everything was down fire once).
"""

from __future__ import annotations

__all__ = ["fire_schedules"]

import logging

from sqlalchemy import select, update

from backend.extensions import db
from backend.models import Trigger, iso
from backend.queue import request_drain
from backend.runtime.clock import utcnow
from backend.runtime.ingest import accept_event
from graph_engine import UnknownNodeTypeError, default_registry

log = logging.getLogger(__name__)


def fire_schedules() -> list[int]:
    """Create the due SCHEDULE events; return the event log ids created."""
    now = utcnow()
    due = db.session.execute(
        select(Trigger.id, Trigger.workflow_id, Trigger.node_id, Trigger.node_type, Trigger.cron,
               Trigger.timezone, Trigger.next_fire_at)
        .where(Trigger.is_active.is_(True), Trigger.cron.is_not(None),
               Trigger.next_fire_at <= now)
    ).all()  # fmt: skip
    created = []
    for row in due:
        fire_time = iso(row.next_fire_at)
        payload = {"event_type": "SCHEDULE", "data": {"scheduled_for": fire_time},
                   "event_id": f"schedule-{row.id}-{fire_time}"}  # fmt: skip
        ev, new = accept_event(payload, source="schedule", workflow_id=row.workflow_id,
                               trigger_node_id=row.node_id, dispatch=False)  # fmt: skip
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
            update(Trigger).where(Trigger.id == row.id, Trigger.next_fire_at == row.next_fire_at)
            .values(next_fire_at=following)
        )  # fmt: skip
        db.session.commit()
    if created:
        request_drain()
    return created
