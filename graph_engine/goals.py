"""Goals (exit conditions) of a workflow: when is a waiting run's contact "converted"?

A graph's ``settings.goals`` lists goals; each has an ``id`` and any of ``tag`` (the contact has
it), ``event_type`` (the event is of this type) and ``rules`` (condition rules on the context:
``event.*``, ``user.*``). A goal is reached when all the parts it names hold; the first goal
reached ends the run.

>>> goals = [{"id": "bought", "event_type": "ORDER_PAID"}, {"id": "vip", "tag": "vip"}]
>>> reached_goal(goals, {"event": {"type": "ORDER_PAID"}, "user": {"tags": []}})["id"]
'bought'
>>> reached_goal(goals, {"event": {"type": "MESSAGE_RECEIVED"}, "user": {"tags": ["vip"]}})["id"]
'vip'
>>> reached_goal(goals, {"event": {"type": "MESSAGE_RECEIVED"}, "user": {"tags": []}}) is None
True
"""

from __future__ import annotations

__all__ = ["reached_goal"]

from graph_engine.conditions import evaluate
from graph_engine.errors import GraphEngineError


def _holds(goal: dict, context: dict, code_runner) -> bool:
    event = context.get("event") or {}
    user = context.get("user") or {}
    if "event_type" in goal and event.get("type") != goal["event_type"]:
        return False
    if "tag" in goal and goal["tag"] not in (user.get("tags") or []):
        return False
    if "rules" in goal:
        try:
            return bool(evaluate(goal["rules"], context, code_runner=code_runner))
        except GraphEngineError:
            return False
    return True


def reached_goal(goals: list | None, context: dict, *, code_runner=None) -> dict | None:
    """The first goal of ``goals`` that holds in ``context``, or None."""
    for goal in goals or []:
        if isinstance(goal, dict) and len(goal) > 1 and _holds(goal, context, code_runner):
            return goal
    return None
