"""The data of a run: :class:`RunState` (checkpointable) and :class:`StepRecord` (the trace).

Both are plain data that survive ``json.dumps`` / ``json.loads``: a run checkpointed after any
step and restored with :meth:`RunState.from_dict` continues exactly as it would have.

>>> import json
>>> state = RunState("x1", "wf", "t", {"nodes": {}}, [{"node_id": "t", "attempt": 1,
...                  "not_before": None, "from": []}])
>>> RunState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
True
"""

from __future__ import annotations

__all__ = ["RunState", "StepRecord", "ACTIVE", "error_dict", "is_retryable"]

import copy
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from graph_engine.errors import (
    ConditionError,
    SandboxError,
    SandboxTimeout,
    TemplateError,
)

#: Statuses in which a run may still take steps.
ACTIVE = ("running", "waiting")


@dataclass
class RunState:
    """Everything needed to continue a run.

    ``frontier`` items are ``{"node_id", "attempt", "not_before" (ISO or None), "from"
    (node ids that delivered it)}``; ``status`` is ``running``, ``waiting`` (``resume_at`` says
    until when), ``succeeded`` or ``failed`` (``error`` says why); ``merges`` holds the rounds of
    ``any``-mode merges that have fired; ``visits`` counts completed visits per node (loops
    give later visits their own idempotency keys).
    """

    execution_id: str
    workflow_id: Any
    trigger_node_id: str
    context: dict
    frontier: list[dict] = field(default_factory=list)
    status: str = "running"
    steps: int = 0
    resume_at: str | None = None
    error: dict | None = None
    merges: dict = field(default_factory=dict)
    visits: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A deep copy as plain JSON-able data."""
        return copy.deepcopy({f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_dict(cls, data: dict, *, copy_data: bool = True) -> RunState:
        """Rebuild a state from :meth:`to_dict` output (e.g. after a JSON round trip).
        ``copy_data=False``: the state takes ``data``'s values as they are (the caller hands
        over a copy of its own, so nobody else sees the run change them)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        return cls(**(copy.deepcopy(values) if copy_data else values))


class StepRecord:
    """The trace of one step: which node ran, how, with what input and output.

    ``status`` is ``succeeded``, ``failed``, ``retrying`` (``resume_at`` = next attempt),
    ``waiting`` (a wait node; ``resume_at`` = when its successors run) or ``skipped``
    (a disabled node passed through).
    """

    __slots__ = (
        "step",
        "node_id",
        "type",
        "status",
        "attempt",
        "input",
        "output",
        "error",
        "port",
        "started_at",
        "finished_at",
        "duration_ms",
        "resume_at",
    )

    def __init__(self, step: int, node_id: str, type_name: str, attempt: int, now: datetime):
        self.step, self.node_id, self.type, self.attempt = step, node_id, type_name, attempt
        self.status = "running"
        self.input = self.output = self.error = self.port = self.resume_at = None
        self.started_at = now
        self.finished_at = now
        self.duration_ms = 0.0

    def finish(self, now: datetime, seconds: float) -> None:
        self.finished_at = now
        self.duration_ms = round(seconds * 1000, 3)

    def to_dict(self) -> dict:
        """The record as JSON-able data (times as ISO strings)."""
        out = {name: getattr(self, name) for name in self.__slots__}
        out["started_at"] = self.started_at.isoformat()
        out["finished_at"] = self.finished_at.isoformat()
        return out

    def __repr__(self) -> str:
        return f"<StepRecord {self.step} {self.node_id} {self.status} port={self.port}>"


def error_dict(exc: BaseException) -> dict:
    """An exception as trace data: ``{"type", "message", "retryable"}``."""
    return {"type": type(exc).__name__, "message": str(exc), "retryable": is_retryable(exc)}


def is_retryable(exc: BaseException) -> bool:
    """Whether a retry may help. Errors carrying ``retryable`` (NodeError, EffectError) say so;
    template, condition and sandbox errors are deterministic (except timeouts); anything else
    (a crash talking to the world) is worth another attempt."""
    flag = getattr(exc, "retryable", None)
    if flag is not None:
        return bool(flag)
    if isinstance(exc, SandboxTimeout):
        return True
    return not isinstance(exc, TemplateError | ConditionError | SandboxError)
