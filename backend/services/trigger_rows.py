"""Materialise a workflow's trigger nodes as Trigger rows (discovery and ``/triggers/`` read them).

One row per trigger node, keyed by (workflow, node id). ``is_active`` is true only while the
workflow is active and the node is enabled. A trigger listening to ``WEBHOOK_RECEIVED`` gets its secret URL key
once and keeps it across saves; a scheduled trigger (its type has ``next_fire``) carries its
cron, timezone and next fire time (``None`` while inactive).
"""

from __future__ import annotations

__all__ = [
    "materialise_triggers",
    "trigger_nodes",
    "triggers_changed",
    "local_generation",
    "VERSION_KEY",
]

import contextlib
import logging
import secrets

import redis

from backend.extensions import db
from backend.models import Trigger, Workflow, utcnow
from backend.queue import get_redis
from graph_engine import default_registry, trigger_spec

log = logging.getLogger(__name__)


#: The Redis counter every process's trigger index compares (``backend.runtime.discovery``).
VERSION_KEY = "fm:triggers-version"
_generation = 0  # changes made by this process: its own index refreshes at once

#: The event type the webhook endpoint emits: a trigger listening to it gets a secret URL key.
WEBHOOK_EVENT = "WEBHOOK_RECEIVED"


def trigger_nodes(graph: dict) -> list[dict]:
    """The graph's nodes whose registered type is a trigger."""
    return [
        node
        for node in graph.get("nodes", [])
        if default_registry.category_of(node.get("type")) == "trigger"
    ]


def _spec_fields(node: dict, workflow_id: int) -> tuple[str, dict | None]:
    """Event type and combined filter of a trigger node ('' / None when its params are unusable)."""
    try:
        spec = trigger_spec(node, workflow_id)
    except (ValueError, TypeError, KeyError, AttributeError):
        return "", None
    return (spec.event_type or "")[:64], spec.filter


def _schedule(row: Trigger, node: dict, graph: dict, next_fire) -> None:
    params = node.get("params") or {}
    settings = graph.get("settings") or {}
    tz = params.get("timezone") or settings.get("timezone") or "UTC"
    cron = params.get("cron")
    changed = (row.cron, row.timezone) != (cron, tz)
    row.cron, row.timezone = (cron[:120] if isinstance(cron, str) else None), str(tz)[:64]
    if not row.is_active or not row.cron:
        row.next_fire_at = None
    elif changed or row.next_fire_at is None:
        try:
            row.next_fire_at = next_fire({"cron": row.cron, "timezone": tz}, utcnow(), tz)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.info("trigger %s: no schedule (%s)", node.get("id"), exc)
            row.next_fire_at = None


def _sync_row(row: Trigger, node: dict, workflow: Workflow) -> None:
    row.node_type = node["type"]
    row.event_type, row.filter = _spec_fields(node, workflow.id)
    row.is_active = (
        workflow.status == "active" and not node.get("disabled") and bool(row.event_type)
    )
    if row.event_type == WEBHOOK_EVENT and not row.webhook_key:
        row.webhook_key = secrets.token_urlsafe(24)
    next_fire = default_registry.get(node["type"]).next_fire
    if next_fire is not None:
        _schedule(row, node, workflow.graph, next_fire)


def materialise_triggers(workflow: Workflow) -> list[Trigger]:
    """Create / update / delete the Trigger rows of ``workflow`` (no commit)."""
    if workflow.id is None:
        db.session.flush()
    existing = {row.node_id: row for row in workflow.triggers}
    wanted = {node["id"]: node for node in trigger_nodes(workflow.graph)}
    for node_id, row in existing.items():
        if node_id not in wanted or row.node_type != wanted[node_id]["type"]:
            workflow.triggers.remove(row)
            db.session.delete(row)
    db.session.flush()
    rows = []
    for node_id, node in wanted.items():
        row = existing.get(node_id)
        if row is None or row not in workflow.triggers:
            row = Trigger(
                workflow=workflow, node_id=node_id[:100], node_type=node["type"], event_type=""
            )
            db.session.add(row)
        _sync_row(row, node, workflow)
        rows.append(row)
    return rows


def triggers_changed() -> None:
    """Tell every process to rebuild its trigger index (call after the change is committed)."""
    global _generation
    _generation += 1
    # Redis down: the DB fingerprint still changes; processes notice within a moment.
    with contextlib.suppress(redis.RedisError):
        get_redis().incr(VERSION_KEY)


def local_generation() -> int:
    """How many trigger changes this process made (its index refreshes when this moves)."""
    return _generation
