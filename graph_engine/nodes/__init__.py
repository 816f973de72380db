"""The node kit: what a node type's ``run`` function receives and returns.

Every node type (``nodes/triggers.py``, ``logic.py``, ``flow.py``, ``actions.py``) is a
:class:`graph_engine.registry.NodeType` whose ``run(call)`` takes a :class:`NodeCall` and returns
a :class:`NodeResult`. Runs never do I/O themselves: they act through ``call.effects``.

>>> result = NodeResult({"result": True}, port="true")
>>> (result.output, result.port, result.resume_at)
({'result': True}, 'true', None)
"""

from __future__ import annotations

__all__ = ["NodeCall", "NodeResult", "rules_schema", "RULES_REF"]

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graph_engine.conditions import RULES_SCHEMA
from graph_engine.effects import Effects, Outbound
from graph_engine.templating import render_value

#: The JSON Schema reference node params use for a condition rule group; :func:`rules_schema`
#: hoists ``conditions.RULES_SCHEMA`` into the params schema's ``$defs`` so it resolves.
RULES_REF = {"$ref": "#/$defs/rules"}


@dataclass(slots=True)
class NodeCall:
    """One invocation of a node's ``run``.

    ``params`` are the node's raw params (templates not rendered yet: call :meth:`render`);
    ``context`` is the live run context (read it, don't mutate it: return an output instead);
    ``arrived`` lists the node ids whose edges delivered this call (several for a merge).
    """

    node_id: str
    params: dict
    context: dict
    effects: Effects
    now: datetime
    execution_id: str
    workflow_id: Any = None
    attempt: int = 1
    visit: int = 0
    arrived: list = field(default_factory=list)

    @property
    def idempotency_key(self) -> str:
        """``"{execution_id}:{node_id}"`` (plus ``":{visit}"`` when a loop revisits the node)."""
        base = f"{self.execution_id}:{self.node_id}"
        return f"{base}:{self.visit}" if self.visit else base

    def render(self, value: Any) -> Any:
        """Render every string inside ``value`` as a template against the context."""

        return render_value(value, self.context)

    def outbound(self, kind: str, payload: dict, **fields) -> Outbound:
        """An :class:`Outbound` request of ``kind`` from this call: its node id, idempotency
        key, the run's contact and conversation (override any with ``fields``)."""
        fields.setdefault("contact", self.contact)
        fields.setdefault("conversation", self.conversation)
        return Outbound(kind, self.node_id, self.idempotency_key, payload, **fields)

    @property
    def contact(self) -> dict:
        return self.context.get("user") or {}

    @property
    def conversation(self) -> dict | None:
        return self.context.get("conversation") or None


@dataclass(slots=True)
class NodeResult:
    """What a run returns: its ``output`` (stored under ``context["nodes"][node_id]``), the
    output ``port`` to follow, the rendered ``input`` for the trace (defaults to the params),
    for waits the aware ``resume_at`` before which successors must not run, and ``updates`` to
    the context's ``"user"`` / ``"conversation"`` (the contact returned by a tagging action...)."""

    output: Any
    port: str = "out"
    input: Any = None
    resume_at: datetime | None = None
    updates: dict | None = None


def rules_schema(schema: dict) -> dict:
    """Return ``schema`` with the condition-rules schema hoisted into its ``$defs``.

    Params reference a rule group with :data:`RULES_REF`; JSON Schema resolves ``#/$defs/...``
    against the document root, so the rules' own ``$defs`` must live there too.
    """

    rules = {k: v for k, v in RULES_SCHEMA.items() if k not in ("$defs", "$schema", "$id")}
    defs = {k: _reroot(v) for k, v in RULES_SCHEMA.get("$defs", {}).items()}
    defs["rules"] = _reroot(rules)
    return {**schema, "$defs": {**schema.get("$defs", {}), **defs}}


def _reroot(value: Any) -> Any:
    """Point self-references (``{"$ref": "#"}``) of the rules schema at ``#/$defs/rules``."""
    if isinstance(value, dict):
        if value.get("$ref") == "#":
            return {**value, "$ref": RULES_REF["$ref"]}
        return {k: _reroot(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reroot(v) for v in value]
    return value
