"""Discovery: which active workflows does an event start?

Each process keeps a :class:`graph_engine.matching.TriggerIndex` built from the active
``Trigger`` rows (event type + combined filter, materialised when workflows are saved) and a
cache of compiled workflow graphs. The index is rebuilt when its *version* changes, in every
process: :func:`triggers_changed` bumps a Redis counter (fast path), and the version also
includes a DB fingerprint of the triggers table (row count, latest ``updated_at``) so a change
is seen even when Redis was down or flushed. The version is checked at most every
``CHECK_INTERVAL`` seconds (and forced at the start of each event batch).
"""

from __future__ import annotations

__all__ = [
    "triggers_changed",
    "trigger_index",
    "match",
    "reset",
    "cached_version",
    "interpreter_for",
    "VERSION_KEY",
]

import contextlib
import threading
import time
from dataclasses import dataclass, field

import redis
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Trigger, Workflow, WorkflowVersion
from backend.queue import get_redis

VERSION_KEY = "fm:triggers-version"
CHECK_INTERVAL = 0.5


@dataclass
class _Cache:
    version: tuple | None = None
    index: object = None
    checked: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


_caches: dict[str, _Cache] = {}
_interpreters: dict = {}  # (db, workflow id, version, thread) -> Interpreter


def _cache() -> _Cache:
    key = str(db.engine.url)
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
    cache = _caches.get(str(db.engine.url))
    return cache.version if cache else None


def triggers_changed() -> None:
    """Tell every process to rebuild its trigger index (call after the change is committed)."""
    # Redis down: the DB fingerprint still changes; processes notice within CHECK_INTERVAL.
    with contextlib.suppress(redis.RedisError):
        get_redis().incr(VERSION_KEY)
    cache = _caches.get(str(db.engine.url))
    if cache is not None:
        cache.checked = 0.0


def _version() -> tuple:
    try:
        counter = get_redis().get(VERSION_KEY)
    except redis.RedisError:
        counter = None
    count, latest = db.session.execute(
        select(func.count(Trigger.id), func.max(Trigger.updated_at))
    ).one()
    return (counter, count, str(latest))


def _build_index():
    from graph_engine.matching import TriggerIndex, TriggerSpec

    rows = db.session.execute(
        select(Trigger.workflow_id, Trigger.node_id, Trigger.event_type, Trigger.filter)
        .join(Workflow, Workflow.id == Trigger.workflow_id)
        .where(Trigger.is_active.is_(True), Workflow.status == "active")
        .order_by(Trigger.workflow_id, Trigger.node_id)
    ).all()
    specs = [
        TriggerSpec(workflow_id=r.workflow_id, node_id=r.node_id, event_type=r.event_type,
                    filter=r.filter or None)
        for r in rows if r.event_type
    ]  # fmt: skip
    return TriggerIndex(specs)


def trigger_index(*, force_check: bool = False):
    """The current trigger index of this process (rebuilt if the version changed)."""
    cache = _cache()
    now = time.monotonic()
    if cache.index is not None and not force_check and now - cache.checked < CHECK_INTERVAL:
        return cache.index
    version = _version()
    with cache.lock:
        cache.checked = now
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


def interpreter_for(workflow_id: int, version: int):
    """The interpreter of one workflow version, built once per process and thread."""
    key = (str(db.engine.url), workflow_id, version, threading.get_ident())
    seen = cached_version()
    if _interpreters.get("version") != seen:
        _interpreters.clear()
        _interpreters["version"] = seen
    interp = _interpreters.get(key)
    if interp is None:
        from graph_engine.interpreter import Interpreter

        graph = db.session.scalar(
            select(WorkflowVersion.graph).filter_by(workflow_id=workflow_id, version=version)
        )
        if graph is None:
            graph = db.session.get(Workflow, workflow_id).graph
        interp = Interpreter(graph, workflow_id=workflow_id)
        if len(_interpreters) > 2000:
            _interpreters.clear()
        _interpreters[key] = interp
    return interp
