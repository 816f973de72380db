"""The per-process cache of compiled workflow graphs: one :class:`graph_engine.Interpreter` per
workflow version (and thread), built on first use.

An interpreter holds no run and no effects (each step is given the run's effects), so one cached
instance serves every run of its version. The cache is dropped whenever the trigger version
(:func:`backend.runtime.discovery.cached_version`) changes: a deleted workflow's id may be
reused (SQLite), and its old graph must not run under the new id.
"""

from __future__ import annotations

__all__ = ["interpreter_for", "reset"]

import threading

from sqlalchemy import select

from backend.extensions import db
from backend.models import Workflow, WorkflowVersion
from backend.runtime.discovery import cached_version
from backend.runtime.session import database_key
from graph_engine import Interpreter

_MAX = 2000
_interpreters: dict = {}  # (db, workflow id, version, thread) -> Interpreter


def reset() -> None:
    """Forget every cached interpreter of this process (tests)."""
    _interpreters.clear()


def interpreter_for(workflow_id: int, version: int) -> Interpreter:
    """The interpreter of one workflow version, built once per process and thread."""
    key = (database_key(), workflow_id, version, threading.get_ident())
    seen = cached_version()
    if _interpreters.get("version") != seen:
        _interpreters.clear()
        _interpreters["version"] = seen
    interp = _interpreters.get(key)
    if interp is None:
        graph = db.session.scalar(
            select(WorkflowVersion.graph).filter_by(workflow_id=workflow_id, version=version)
        )
        if graph is None:
            graph = db.session.get(Workflow, workflow_id).graph
        interp = Interpreter(graph, workflow_id=workflow_id)
        if len(_interpreters) > _MAX:
            _interpreters.clear()
        _interpreters[key] = interp
    return interp
