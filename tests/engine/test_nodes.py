"""Every node type's run, called directly with a NodeCall on in-memory effects."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from graph_engine import InMemoryEffects, NodeCall, NodeError, build_context, default_registry
from graph_engine.nodes.flow import resume_at
from graph_engine.nodes.logic import variant_for
from graph_engine.nodes.triggers import next_schedule

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fx():
    return InMemoryEffects(
        clock=lambda: NOW,
        http_responses={
            "https://api.test/fail": {"status": 503, "headers": {}, "body": "busy"},
            "https://api.test/missing": {"status": 404, "headers": {}, "body": ""},
        },
    )


def context(**user):
    event = {
        "id": "ev1",
        "type": "MESSAGE_RECEIVED",
        "data": {"content": "I want a coupon"},
        "user_id": "c1",
        "conversation_id": "conv1",
        "timestamp": NOW.isoformat(),
    }
    ctx = build_context(
        event,
        {
            "first_name": "Sara",
            "email": "sara@x.io",
            "channel": "telegram",
            "tags": ["interested"],
            **user,
        },
    )
    ctx["workflow"] = {"id": "wf1", "name": "t", "timezone": "UTC"}
    return ctx


def run(type_name, params, fx, ctx=None, **kwargs):
    node_type = default_registry.get(type_name)
    call = NodeCall(
        kwargs.pop("node_id", "n1"), params, ctx or context(), fx, NOW, "x1", "wf1", **kwargs
    )
    return node_type.run(call)


@pytest.mark.parametrize(
    "type_name", sorted(t.type for t in default_registry.all() if t.category == "trigger")
)
def test_triggers_record_the_event(type_name, fx):
    result = run(type_name, {}, fx)
    assert result.output == {"event_id": "ev1", "event_type": "MESSAGE_RECEIVED"}
    assert result.port == "out" and fx.log == []


def test_next_schedule_in_a_timezone():
    fire = next_schedule({"cron": "0 9 * * *", "timezone": "Asia/Tehran"}, NOW)
    assert fire == datetime(2024, 3, 2, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize("tags, port", [(["interested"], "true"), ([], "false")])
def test_condition(fx, tags, port):
    rules = {"all": [{"field": "user.tags", "op": "contains", "value": "interested"}]}
    result = run("logic.condition", {"rules": rules}, fx, context(tags=tags))
    assert result.port == port and result.output == {"result": port == "true"}


def test_condition_with_a_code_leaf_goes_through_effects(fx):
    calls = []
    fx.run_code = lambda code, ctx, timeout: calls.append(code) or True
    result = run("logic.condition", {"rules": {"all": [{"code": "result = True"}]}}, fx)
    assert result.port == "true" and calls == ["result = True"]


def test_switch_first_match_then_default(fx):
    cases = [
        {
            "name": "no",
            "rules": {"all": [{"field": "user.first_name", "op": "equals", "value": "Ali"}]},
        },
        {
            "name": "sara",
            "rules": {"all": [{"field": "user.first_name", "op": "equals", "value": "Sara"}]},
        },
        {"name": "also", "rules": {"all": []}},
    ]
    assert run("logic.switch", {"cases": cases}, fx).port == "sara"
    result = run("logic.switch", {"cases": cases[:1]}, fx)
    assert (result.port, result.output) == ("default", {"case": "default"})


def test_ab_split_is_stable_and_weighted(fx):
    variants = [{"name": "a", "weight": 1}, {"name": "b", "weight": 3}]
    first = run("logic.ab_split", {"variants": variants}, fx).port
    assert all(run("logic.ab_split", {"variants": variants}, fx).port == first for _ in range(5))
    counts = Counter(variant_for(["a", "b"], [1, 3], "wf", "n", f"u{i}") for i in range(4000))
    assert 0.22 < counts["a"] / 4000 < 0.28
    # a different node (or workflow) reshuffles contacts independently
    other = [variant_for(["a", "b"], [1, 1], "wf", "m", f"u{i}") for i in range(200)]
    same = [variant_for(["a", "b"], [1, 1], "wf", "n", f"u{i}") for i in range(200)]
    assert other != same


def test_merge_reports_arrivals(fx):
    assert run("logic.merge", {}, fx, arrived=["a", "b"]).output == {"arrived": ["a", "b"]}


@pytest.mark.parametrize(
    "params, tz, expected",
    [
        ({"seconds": 30}, "UTC", "2024-03-01T12:00:30+00:00"),
        ({"minutes": 10, "hours": 1}, "UTC", "2024-03-01T13:10:00+00:00"),
        ({"days": 1.5}, "UTC", "2024-03-03T00:00:00+00:00"),
        ({"until": "2024-03-05T10:00:00+00:00"}, "UTC", "2024-03-05T10:00:00+00:00"),
        ({"until": "2024-03-05T10:00"}, "Asia/Tehran", "2024-03-05T06:30:00+00:00"),
        ({"time": "16:00"}, "Asia/Tehran", "2024-03-01T12:30:00+00:00"),
        ({"time": "15:30"}, "Asia/Tehran", "2024-03-01T12:00:00+00:00"),
        ({"time": "09:00", "weekdays": ["sat", "sun"]}, "Asia/Tehran", "2024-03-02T05:30:00+00:00"),
        (
            {"time": "09:00", "timezone": "Europe/Berlin"},
            "Asia/Tehran",
            "2024-03-02T08:00:00+00:00",
        ),
    ],
)
def test_wait_forms(params, tz, expected):
    assert resume_at(params, NOW, tz).isoformat() == expected


def test_wait_run_renders_until_and_uses_workflow_timezone(fx):
    ctx = context(fields={"appointment": "2024-03-09T08:00"})
    ctx["workflow"]["timezone"] = "Asia/Tehran"
    result = run("flow.wait", {"until": "{{ user.fields.appointment }}"}, fx, ctx)
    assert result.resume_at == datetime(2024, 3, 9, 4, 30, tzinfo=UTC)
    assert result.output == {"resume_at": "2024-03-09T04:30:00+00:00"}
    with pytest.raises(NodeError):
        run("flow.wait", {"until": "{{ user.fields.missing }}x"}, fx, ctx)


def test_send_message_renders_and_passes_idempotency_key(fx):
    result = run("action.send_message", {"text": "Hi {{ user.first_name }}"}, fx, node_id="send")
    assert result.input == {"text": "Hi Sara"} and result.output["delivered"] is True
    assert fx.log == [
        {"effect": "send_message", "to": "c1", "channel": "telegram", "text": "Hi Sara"}
    ]
    assert fx.sent_keys == {"x1:send"}
    again = run("action.send_message", {"text": "Hi"}, fx, node_id="send")
    assert again.output["duplicate"] is True and len(fx.log) == 1
    run("action.send_message", {"text": "Hi"}, fx, node_id="send", visit=1)
    assert fx.sent_keys == {"x1:send", "x1:send:1"}


def test_send_email(fx):
    params = {"subject": "For {{ user.first_name }}", "body": "Code SAVE10", "html": True}
    result = run("action.send_email", params, fx)
    assert result.output == {"delivered": True, "to": "sara@x.io", "subject": "For Sara"}
    assert fx.log[0]["html"] is True
    run("action.send_email", {"subject": "s", "body": "b", "to": "boss@x.io"}, fx, node_id="n2")
    assert fx.log[1]["to"] == "boss@x.io"


def test_tags_return_the_updated_contact(fx):
    ctx = context()
    added = run("action.add_tag", {"tag": "coupon_{{ 'sent' }}"}, fx, ctx)
    assert added.output == {"tag": "coupon_sent", "tags": ["interested", "coupon_sent"]}
    assert added.updates["user"]["tags"] == ["interested", "coupon_sent"]
    assert ctx["user"]["tags"] == ["interested"]  # the node does not mutate the context
    removed = run("action.remove_tag", {"tag": "interested"}, fx, ctx)
    assert removed.updates["user"]["tags"] == [] and removed.output["tags"] == []
    with pytest.raises(NodeError):
        run("action.add_tag", {"tag": "{{ user.nothing }}"}, fx)


def test_update_user_renders_values(fx):
    result = run(
        "action.update_user",
        {"changes": {"last_name": "{{ user.first_name }}son", "fields.score": 5}},
        fx,
    )
    assert result.updates["user"]["last_name"] == "Sarason"
    assert result.updates["user"]["fields"] == {"score": 5}
    assert fx.log[0]["effect"] == "update_user"


def test_add_note_and_conversation_status(fx):
    note = run("action.add_note", {"text": "asked for {{ event.data.content }}"}, fx)
    assert note.output == {"text": "asked for I want a coupon", "conversation": "conv1"}
    status = run("action.set_conversation_status", {"status": "closed"}, fx)
    assert status.output == {"status": "closed"}
    assert status.updates["conversation"] == {"external_id": "conv1", "status": "closed"}


def test_webhook_renders_everything_and_maps_errors(fx):
    params = {
        "method": "POST",
        "url": "https://api.test/u/{{ user.external_id }}",
        "headers": {"X-Name": "{{ user.first_name }}"},
        "body": {"name": "{{ user.first_name }}", "n": 1},
    }
    result = run("action.webhook", params, fx)
    assert result.output["status"] == 200 and result.input["url"] == "https://api.test/u/c1"
    assert fx.log[0] == {
        "effect": "http_request",
        "method": "POST",
        "url": "https://api.test/u/c1",
        "body": {"name": "Sara", "n": 1},
    }
    with pytest.raises(NodeError) as info:
        run("action.webhook", {"url": "https://api.test/fail"}, fx)
    assert info.value.retryable is True
    with pytest.raises(NodeError) as info:
        run("action.webhook", {"url": "https://api.test/missing"}, fx)
    assert info.value.retryable is False
    ok = run("action.webhook", {"url": "https://api.test/missing", "fail_on_status": False}, fx)
    assert ok.output["status"] == 404


def test_custom_code_output_is_the_returned_value(fx):
    code = "return {'greeting': 'hi ' + user['first_name'], 'n': len(user['tags'])}"
    result = run("action.custom_code", {"code": code}, fx)
    assert result.output == {"greeting": "hi Sara", "n": 1}
