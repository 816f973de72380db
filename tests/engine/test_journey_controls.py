"""Journey controls in the engine: quiet hours hold message nodes back; goals say when a waiting
run's contact converted."""

from __future__ import annotations

from datetime import UTC, datetime

from graph_engine import InMemoryEffects, Interpreter, reached_goal, validate
from graph_engine.quiet_hours import quiet_until

QUIET = {"start": "21:00", "end": "08:00"}


def _graph(**settings) -> dict:
    return {
        "format": "workflow-graph/v1",
        "name": "q",
        "settings": settings,
        "nodes": [
            {"id": "t", "type": "trigger.manual"},
            {"id": "tag", "type": "action.add_tag", "params": {"tag": "seen"}},
            {"id": "send", "type": "action.send_message", "params": {"text": "hi"}},
        ],
        "edges": [
            {"id": "e1", "source": "t", "target": "tag"},
            {"id": "e2", "source": "tag", "target": "send"},
        ],
    }


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def _run(graph: dict, user: dict, at: datetime):
    clock = Clock(at)
    effects = InMemoryEffects(clock=clock)
    engine = Interpreter(graph, effects=effects)
    state = engine.start("t", {"event": {"type": "MANUAL", "data": {}}, "user": user})
    records = []
    engine.run(state, on_step=records.append)
    return engine, state, effects, clock, records


def test_a_message_due_at_night_in_the_contacts_zone_waits_until_morning():
    graph = _graph(quiet_hours=QUIET, timezone="UTC")
    assert validate(graph).ok
    night_in_tehran = datetime(2024, 1, 1, 19, 0, tzinfo=UTC)  # 22:30 local
    user = {"external_id": "u", "tags": [], "fields": {"timezone": "Asia/Tehran"}}
    engine, state, effects, clock, records = _run(graph, user, night_in_tehran)
    assert state.status == "waiting" and state.resume_at == "2024-01-02T04:30:00+00:00"
    assert [(r.node_id, r.status) for r in records] == [
        ("t", "succeeded"),
        ("tag", "succeeded"),
        ("send", "waiting"),
    ]
    assert [e["effect"] for e in effects.log] == ["add_tag"]  # nothing sent at night
    clock.now = datetime.fromisoformat(state.resume_at)
    engine.run(state, on_step=records.append)
    assert state.status == "succeeded" and effects.log[-1]["effect"] == "send_message"


def test_the_workflow_zone_is_the_fallback_and_daytime_sends_at_once():
    graph = _graph(quiet_hours=QUIET, timezone="Asia/Tehran")
    _, state, _, _, _ = _run(
        graph,
        {"tags": [], "fields": {"timezone": "Mars/Base"}},
        datetime(2024, 1, 1, 19, 0, tzinfo=UTC),
    )
    assert state.status == "waiting"
    _, state, effects, _, _ = _run(
        graph, {"tags": [], "fields": {}}, datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
    )  # 11:30 local
    assert state.status == "succeeded" and effects.log[-1]["effect"] == "send_message"


def test_quiet_window_edges_and_same_day_windows():
    lunch = {"start": "12:00", "end": "13:00"}
    at = datetime(2024, 1, 1, 12, 30, tzinfo=UTC)
    assert quiet_until(lunch, {}, "UTC", at) == datetime(2024, 1, 1, 13, 0, tzinfo=UTC)
    assert quiet_until(lunch, {}, "UTC", datetime(2024, 1, 1, 13, 0, tzinfo=UTC)) is None
    early = datetime(2024, 1, 1, 7, 59, tzinfo=UTC)
    assert quiet_until(QUIET, {}, "UTC", early) == datetime(2024, 1, 1, 8, 0, tzinfo=UTC)


def test_quiet_hours_and_goal_settings_are_validated():
    bad = _graph(quiet_hours={"start": "25:00", "end": "08:00"})
    assert any(e.field == "settings.quiet_hours.start" for e in validate(bad).errors)
    assert not validate(_graph(goals=[{"id": "g"}])).ok


def test_reached_goal_needs_every_part_it_names():
    goals = [{"id": "paid_vip", "event_type": "ORDER_PAID", "tag": "vip"}]
    paid = {"event": {"type": "ORDER_PAID"}, "user": {"tags": []}}
    assert reached_goal(goals, paid) is None
    assert reached_goal(goals, {**paid, "user": {"tags": ["vip"]}})["id"] == "paid_vip"
    rule = [
        {"id": "r", "rules": {"all": [{"field": "user.fields.score", "op": "greater", "value": 5}]}}
    ]
    assert reached_goal(rule, {"user": {"fields": {"score": 6}}})["id"] == "r"
    assert reached_goal(rule, {"user": {"fields": {}}}) is None
    assert reached_goal(None, paid) is None
