"""Discovery: which active workflows does an event start?

Each process keeps a :class:`graph_engine.TriggerIndex` built from the active ``Trigger`` rows
(event type + combined filter, materialised when workflows are saved). The index is rebuilt when its *version* changes, in every
process: :func:`backend.services.trigger_rows.triggers_changed` bumps a Redis counter (fast path), and the version also
includes a DB fingerprint of the triggers table (row count, latest ``updated_at``) so a change
is seen even when Redis was down or flushed. The version is checked at most every
``CHECK_INTERVAL`` seconds. A forced check (the start of each event batch) always reads the
counter; it reads the fingerprint too unless the counter answered unchanged and the last full
check is younger than ``CHECK_INTERVAL``: every change made while Redis answers moves the
counter, so that saves a query per batch, and a change the counter missed (made while Redis
was down) is still seen within ``CHECK_INTERVAL``, as without the force.
"""

from __future__ import annotations

__all__ = [
    "trigger_index",
    "match",
    "reset",
    "cached_version",
    "quiet_events",
    "VERSION_KEY",
]

import threading
import time
from dataclasses import dataclass, field

import redis
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Trigger, Workflow, WorkflowExecution
from backend.queue import get_redis
from backend.runtime.session import database_key
from backend.services.trigger_rows import VERSION_KEY, local_generation
from graph_engine import TriggerIndex, TriggerSpec

CHECK_INTERVAL = 0.5


@dataclass
class _Cache:
    version: tuple | None = None
    index: object = None
    checked: float = 0.0
    generation: int = -1
    lock: threading.Lock = field(default_factory=threading.Lock)


_caches: dict[str, _Cache] = {}


def _cache() -> _Cache:
    key = database_key()
    cache = _caches.get(key)
    if cache is None:
        cache = _caches.setdefault(key, _Cache())
    return cache


def reset() -> None:
    """Forget every cached index of this process (tests)."""
    _caches.clear()


def cached_version() -> tuple | None:
    """The trigger version this process last saw (no query). Callers caching per-workflow data
    drop it when this changes: a deleted workflow's id may be reused (SQLite)."""
    cache = _caches.get(database_key())
    return cache.version if cache else None


def _counter():
    try:
        return get_redis().get(VERSION_KEY)
    except redis.RedisError:
        return None


def _version(counter) -> tuple:
    count, latest = db.session.execute(
        select(func.count(Trigger.id), func.max(Trigger.updated_at))
    ).one()
    return (counter, count, str(latest))


def _build_index():
    rows = db.session.execute(
        select(Trigger.workflow_id, Trigger.node_id, Trigger.event_type, Trigger.filter)
        .join(Workflow, Workflow.id == Trigger.workflow_id)
        .where(Trigger.is_active.is_(True), Workflow.status == "active")
        .order_by(Trigger.workflow_id, Trigger.node_id)
    ).all()
    specs = [
        TriggerSpec(
            workflow_id=r.workflow_id,
            node_id=r.node_id,
            event_type=r.event_type,
            filter=r.filter or None,
        )
        for r in rows
        if r.event_type
    ]
    return TriggerIndex(specs)


def trigger_index(*, force_check: bool = False):
    """The current trigger index of this process (rebuilt if the version changed)."""
    cache = _cache()
    now, generation = time.monotonic(), local_generation()
    fresh = now - cache.checked < CHECK_INTERVAL and cache.generation == generation
    known = cache.index is not None and fresh
    if known and not force_check:
        return cache.index
    counter = _counter()
    if known and counter is not None and counter == cache.version[0]:
        return cache.index  # forced, and the counter says nothing changed (module docstring)
    version = _version(counter)
    with cache.lock:
        cache.checked, cache.generation = now, generation
        if version != cache.version or cache.index is None:
            cache.index = _build_index()
            cache.version = version
    return cache.index


def match(context: dict, *, force_check: bool = False) -> list:
    """The trigger specs an event context matches: one per workflow (its first trigger)."""
    seen, out = set(), []
    for spec in trigger_index(force_check=force_check).match(context):
        if spec.workflow_id not in seen:
            seen.add(spec.workflow_id)
            out.append(spec)
    return out


def quiet_events(session, rows: list[dict]) -> list[int]:
    """Which of a flush's new internal events (``event_logs`` rows) nothing would act on: no
    active trigger listens to their type (the index checked afresh, as a drain batch does)
    and their contact has no waiting run (the only runs whose goals see events). Those are
    stored as processed at once (:mod:`backend.services.internal_events`)."""
    index = trigger_index(force_check=True)
    unheard = [i for i, row in enumerate(rows) if not index.listens_to(row["event_type"])]
    contacts = {rows[i]["contact_id"] for i in unheard} - {None}
    waiting = set()
    if contacts:
        query = select(WorkflowExecution.contact_id).where(
            WorkflowExecution.status == "waiting", WorkflowExecution.contact_id.in_(contacts)
        )
        waiting = set(session.connection().execute(query.distinct()).scalars())
    return [i for i in unheard if rows[i]["contact_id"] not in waiting]
