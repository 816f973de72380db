"""Test (dry) runs: a draft graph run in memory against a sample event and contact.

The same recipe as ``python -m graph_engine run``: validate the graph, match the event against
its triggers, and run the engine's :class:`~graph_engine.interpreter.Interpreter` on
:class:`~graph_engine.effects.InMemoryEffects` with a fake clock. Nothing reaches a customer,
a channel or the database: messages, e-mails, tags and webhook calls are captured in the
effects log and returned, each tagged with the node that performed it, so the editor can draw
the run on the canvas and show the messages as chat bubbles and an inbox preview.
"""

from __future__ import annotations

__all__ = ["DryRunInvalid", "BadSample", "dry_run", "step_dict", "edges_taken"]

from datetime import UTC, datetime

from graph_engine import (
    GraphError,
    InMemoryEffects,
    Interpreter,
    Outbound,
    TriggerIndex,
    build_context,
    event_from_payload,
    trigger_specs,
    validate,
)

DEFAULT_CONTACT_ID = "test-contact"
MAX_RESUMES = 1000


class DryRunInvalid(Exception):
    """The graph did not validate; ``errors`` are the engine's issues (each names its node)."""

    def __init__(self, errors: list[dict]):
        super().__init__("graph is not valid")
        self.errors = errors


class BadSample(ValueError):
    """The sample event cannot be used (``field`` names the part)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class _Clock:
    """A clock that stays put until a waiting run is fast-forwarded."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def step_dict(record) -> dict:
    """A step record in the shape of an execution's ``steps`` items."""
    data = record.to_dict()
    error = data["error"]
    return {
        "id": None,
        "seq": data["step"],
        "node_id": data["node_id"],
        "node_type": data["type"],
        "status": data["status"],
        "port": data["port"],
        "input": data["input"],
        "output": data["output"],
        "error": error.get("message") if error else None,
        "attempts": data["attempt"],
        "started_at": data["started_at"],
        "finished_at": data["finished_at"],
        "duration_ms": data["duration_ms"],
        "resume_at": data["resume_at"],
    }


def edges_taken(graph: dict, steps: list[dict]) -> list[str]:
    """Ids of the edges the run went along: the port a step chose, to a node that ran after it
    (an edge out of a wait is taken once its successor runs, not while the run waits)."""
    out: list[str] = []
    for step in steps:
        if step["port"] is None or step["status"] == "retrying":
            continue
        later = {s["node_id"] for s in steps if s["seq"] > step["seq"]}
        for edge in graph.get("edges", []):
            if (
                edge["source"] == step["node_id"]
                and edge["target"] in later
                and edge.get("source_port", "out") == step["port"]
                and edge["id"] not in out
            ):
                out.append(edge["id"])
    return out


def _messages(sent: list[Outbound]) -> list[dict]:
    """What the run would have sent to people: every outbound request with a recipient
    (``to``), whatever its kind -- chat message, e-mail, SMS or a kind added later. The
    channel is the one the request names, else its kind; an unnamed chat channel is
    ``capture``. A webhook call goes to a system, not a person: it is among the effects."""
    out = []
    for request in sent:
        payload = request.payload
        if "to" not in payload:
            continue
        channel = payload.get("channel", request.kind) or "capture"
        text = payload.get("text", payload.get("body"))
        out.append({**payload, "channel": channel, "text": text, "node_id": request.node_id})
    return out


def _event_and_contact(graph: dict, event: dict | None, contact: dict | None, workflow_id):
    contact = dict(contact or {})
    payload = dict(event or {})
    if not payload:
        specs = trigger_specs(graph, workflow_id)
        payload = {"event_type": specs[0].event_type if specs else "MANUAL", "data": {}}
    external = contact.get("external_id") or payload.get("user_id") or DEFAULT_CONTACT_ID
    payload.setdefault("user_id", external)
    contact["external_id"] = str(external)
    return payload, contact


def _start_time(stamp) -> datetime:
    if not stamp:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(str(stamp))
    except ValueError:
        raise BadSample("event.timestamp", f"not an ISO 8601 datetime: {stamp!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _match(graph: dict, context: dict, workflow_id, trigger_node_id: str | None):
    specs = trigger_specs(graph, workflow_id)
    if trigger_node_id:
        specs = [s for s in specs if s.node_id == trigger_node_id]
    matched = TriggerIndex(specs).match(context)
    return matched[0].node_id if matched else None


def _run(graph: dict, trigger: str, context: dict, clock: _Clock, workflow_id, fast_forward: bool):
    """``(state, steps, effects)``; each entry of the effects log is tagged with the node that performed it."""

    effects = InMemoryEffects(clock=clock)
    engine = Interpreter(graph, effects=effects, workflow_id=workflow_id)
    state = engine.start(trigger, context, execution_id="test-run")
    steps: list[dict] = []

    def on_step(record) -> None:
        for effect in effects.log:  # the effects this step added have no node yet
            effect.setdefault("node_id", record.node_id)
        steps.append(step_dict(record))

    engine.run(state, on_step=on_step)
    resumes = 0
    while fast_forward and state.status == "waiting" and state.resume_at and resumes < MAX_RESUMES:
        clock.now = max(clock.now, datetime.fromisoformat(state.resume_at))
        engine.run(state, on_step=on_step)
        resumes += 1
    return state, steps, effects


def _result(state) -> dict:
    out = {"status": state.status}
    if state.status == "waiting":
        out["waiting_until"] = state.resume_at
    if state.error:
        out["error"] = state.error.get("message")
    return out


def dry_run(
    graph: dict,
    event: dict | None = None,
    contact: dict | None = None,
    *,
    fast_forward: bool = False,
    trigger_node_id: str | None = None,
    workflow_id=None,
    max_nodes: int = 500,
) -> dict:
    """Run ``graph`` in memory; raise :class:`DryRunInvalid` when it does not validate."""

    # 1. Validate the draft; build the event and the contact's context.
    report = validate(graph, max_nodes=max_nodes)
    if not report.ok:
        raise DryRunInvalid([issue.to_dict() for issue in report.errors])
    workflow_id = workflow_id if workflow_id is not None else "test"
    payload, contact = _event_and_contact(graph, event, contact, workflow_id)
    clock = _Clock(_start_time(payload.get("timestamp")))
    try:
        context = build_context(event_from_payload(payload, now=clock.now), contact)
    except GraphError as exc:
        raise BadSample("event", str(exc)) from None
    # 2. Match the event against the graph's triggers.
    trigger = _match(graph, context, workflow_id, trigger_node_id)
    if trigger is None:
        kind = context["event"]["type"]
        return {
            "result": {
                "status": "not_matched",
                "error": f"no trigger of this graph matches this {kind} event",
            },
            "steps": [],
            "edges_taken": [],
            "messages": [],
            "effects": [],
            "event": payload,
            "contact": contact,
        }
    # 3. Run on in-memory effects, past waits when fast-forwarding.
    state, steps, effects = _run(graph, trigger, context, clock, workflow_id, fast_forward)
    # 4. What it did: statuses, the path, the captured messages and every effect.
    return {
        "result": _result(state),
        "trigger_node_id": trigger,
        "steps": steps,
        "edges_taken": edges_taken(graph, steps),
        "messages": _messages(effects.sent),
        "effects": effects.log,
        "context": state.context,
    }
