"""Interpreter paths: branches, switch, A/B, merges, waits, retries, error port, guards."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from graph_engine import EffectError, InMemoryEffects, Interpreter, InterpreterError, RunState

TAGS = {"field": "user.tags", "op": "contains", "value": "interested"}


def tag(name):
    return ("action.add_tag", {"tag": name})


def roundtrip(state: RunState) -> RunState:
    return RunState.from_dict(json.loads(json.dumps(state.to_dict())))


def test_linear_run_records_every_step(h):
    graph = h.graph(
        {"t": ("trigger.manual", None), "a": tag("one"), "b": tag("two")}, ["t>a", "a>b"]
    )
    state, records = h.run(graph)
    assert state.status == "succeeded" and state.steps == 3 and state.frontier == []
    assert h.path(records) == ["t", "a", "b"]
    assert state.context["user"]["tags"] == ["one", "two"]
    rec = records[1].to_dict()
    assert rec["status"] == "succeeded" and rec["port"] == "out" and rec["attempt"] == 1
    assert rec["input"] == {"tag": "one"} and rec["output"] == {"tag": "one", "tags": ["one"]}
    assert rec["started_at"] == "2024-03-01T12:00:00+00:00" and rec["duration_ms"] >= 0
    json.dumps([r.to_dict() for r in records])


@pytest.mark.parametrize("tags, expected", [(["interested"], "yes"), ([], "no")])
def test_condition_follows_true_or_false(h, tags, expected):
    graph = h.graph(
        {
            "t": ("trigger.manual", None),
            "c": ("logic.condition", {"rules": {"all": [TAGS]}}),
            "yes": tag("yes"),
            "no": tag("no"),
        },
        ["t>c", "c.true>yes", "c.false>no"],
    )
    state, records = h.run(graph, contact={"tags": tags})
    assert h.path(records) == ["t", "c", expected]
    assert records[1].port == ("true" if expected == "yes" else "false")
    assert state.context["nodes"]["c"] == {"result": expected == "yes"}


@pytest.mark.parametrize("score, expected", [(90, "gold"), (60, "silver"), (10, "other")])
def test_switch_takes_first_matching_case_else_default(h, score, expected):
    cases = [
        {
            "name": "gold",
            "rules": {"all": [{"field": "user.fields.score", "op": "greater", "value": 80}]},
        },
        {
            "name": "silver",
            "rules": {"all": [{"field": "user.fields.score", "op": "greater", "value": 50}]},
        },
    ]
    graph = h.graph(
        {
            "t": ("trigger.manual", None),
            "s": ("logic.switch", {"cases": cases}),
            "gold": tag("gold"),
            "silver": tag("silver"),
            "other": tag("other"),
        },
        ["t>s", "s.gold>gold", "s.silver>silver", "s.default>other"],
    )
    _, records = h.run(graph, contact={"fields": {"score": score}})
    assert h.path(records) == ["t", "s", expected]


def _ab_graph(h, weights=(50, 50)):
    variants = [{"name": "a", "weight": weights[0]}, {"name": "b", "weight": weights[1]}]
    return h.graph(
        {
            "t": ("trigger.manual", None),
            "ab": ("logic.ab_split", {"variants": variants}),
            "a": tag("a"),
            "b": tag("b"),
        },
        ["t>ab", "ab.a>a", "ab.b>b"],
    )


def test_ab_split_distribution_and_determinism(h):
    engine = h.interpreter(_ab_graph(h, (30, 70)))
    counts, first = Counter(), {}
    for i in range(2000):
        state = engine.start("t", h.context(user_id=f"cust{i}"))
        engine.run(state)
        counts[state.context["nodes"]["ab"]["variant"]] += 1
        first[i] = state.context["nodes"]["ab"]["variant"]
    assert 0.26 < counts["a"] / 2000 < 0.34
    other = Interpreter(_ab_graph(h, (30, 70)), workflow_id="wf1")  # a fresh interpreter
    for i in range(50):
        state = other.start("t", h.context(user_id=f"cust{i}"))
        other.run(state)
        assert state.context["nodes"]["ab"]["variant"] == first[i]


def test_ab_split_zero_weight_never_chosen(h):
    engine = h.interpreter(_ab_graph(h, (0, 1)))
    for i in range(200):
        state = engine.start("t", h.context(user_id=f"u{i}"))
        assert engine.run(state).context["nodes"]["ab"]["variant"] == "b"


def test_merge_all_waits_for_every_branch(h):
    graph = h.graph(
        {
            "t": ("trigger.manual", None),
            "a": tag("a"),
            "b": tag("b"),
            "b2": tag("b2"),
            "m": ("logic.merge", {"mode": "all"}),
            "end": tag("end"),
        },
        ["t>a", "t>b", "b>b2", "a>m", "b2>m", "m>end"],
    )
    state, records = h.run(graph)
    assert h.path(records) == ["t", "a", "b", "b2", "m", "end"]
    assert state.context["nodes"]["m"] == {"arrived": ["a", "b2"]}


def test_merge_all_does_not_wait_for_a_branch_not_taken(h):
    graph = h.graph(
        {
            "t": ("trigger.manual", None),
            "c": ("logic.condition", {"rules": {"all": [TAGS]}}),
            "yes": tag("yes"),
            "no": tag("no"),
            "d": tag("d"),
            "m": ("logic.merge", None),
            "end": tag("end"),
        },
        ["t>c", "t>d", "c.true>yes", "c.false>no", "yes>m", "no>m", "d>m", "m>end"],
    )
    state, records = h.run(graph, contact={"tags": []})
    assert h.path(records) == ["t", "c", "d", "no", "m", "end"]
    assert sorted(state.context["nodes"]["m"]["arrived"]) == ["d", "no"]


def test_merge_all_waits_for_a_branch_that_is_waiting(h, clock):
    graph = h.graph(
        {
            "t": ("trigger.manual", None),
            "a": tag("a"),
            "w": ("flow.wait", {"minutes": 5}),
            "b": tag("b"),
            "m": ("logic.merge", {"mode": "all"}),
            "end": tag("end"),
        },
        ["t>a", "t>w", "w>b", "a>m", "b>m", "m>end"],
    )
    engine = h.interpreter(graph)
    state, records = h.run(graph, engine=engine)
    assert state.status == "waiting" and h.path(records) == ["t", "a", "w"]
    assert state.resume_at == "2024-03-01T12:05:00+00:00"
    clock.advance(minutes=5)
    engine.run(state, on_step=records.append)
    assert state.status == "succeeded" and h.path(records)[3:] == ["b", "m", "end"]
    assert state.context["nodes"]["m"]["arrived"] == ["a", "b"]


def test_merge_any_continues_on_first_arrival_only(h):
    graph = h.graph(
        {
            "t": ("trigger.manual", None),
            "a": tag("a"),
            "b": tag("b"),
            "b2": tag("b2"),
            "m": ("logic.merge", {"mode": "any"}),
            "end": tag("end"),
        },
        ["t>a", "t>b", "b>b2", "a>m", "b2>m", "m>end"],
    )
    state, records = h.run(graph)
    assert h.path(records).count("m") == 1 and h.path(records).count("end") == 1
    assert state.context["nodes"]["m"] == {"arrived": ["a"]}
    assert state.status == "succeeded" and state.merges == {}


def _coupon(h, **settings):
    return h.graph(
        {
            "t": ("trigger.manual", None),
            "send": ("action.send_message", {"text": "Hi {{ user.first_name }}"}),
            "wait": ("flow.wait", {"minutes": 10}),
            "mail": ("action.send_email", {"subject": "Coupon", "body": "SAVE10"}),
        },
        ["t>send", "send>wait", "wait>mail"],
        **settings,
    )


def test_wait_then_resume_after_json_roundtrip_in_another_interpreter(h, clock):
    state, records = h.run(_coupon(h), contact={"first_name": "Sara", "email": "s@x.io"})
    assert state.status == "waiting" and state.resume_at == "2024-03-01T12:10:00+00:00"
    assert records[-1].status == "waiting" and records[-1].port == "out"
    assert state.frontier == [
        {
            "node_id": "mail",
            "attempt": 1,
            "from": ["wait"],
            "not_before": "2024-03-01T12:10:00+00:00",
        }
    ]
    saved = json.dumps(state.to_dict())
    clock.advance(minutes=9)
    early = RunState.from_dict(json.loads(saved))
    assert h.interpreter(_coupon(h)).run(early).status == "waiting" and early.steps == 3
    clock.advance(minutes=1)
    effects = InMemoryEffects(clock=clock)
    later = Interpreter(_coupon(h), effects=effects).run(RunState.from_dict(json.loads(saved)))
    assert later.status == "succeeded" and later.steps == 4
    assert effects.log == [
        {
            "effect": "send_email",
            "to": "s@x.io",
            "subject": "Coupon",
            "body": "SAVE10",
            "html": False,
        }
    ]


@pytest.mark.parametrize(
    "weekdays, resume",
    [
        (None, "2024-03-02T05:30:00+00:00"),  # tomorrow 09:00 Tehran (+03:30)
        (["mon"], "2024-03-04T05:30:00+00:00"),
        (["fri"], "2024-03-08T05:30:00+00:00"),  # today's 09:00 has passed
    ],
)
def test_time_of_day_wait_in_tehran(h, clock, weekdays, resume):
    params = {"time": "09:00", **({"weekdays": weekdays} if weekdays else {})}
    graph = h.graph(
        {"t": ("trigger.manual", None), "w": ("flow.wait", params), "a": tag("a")},
        ["t>w", "w>a"],
        timezone="Asia/Tehran",
    )
    state, _ = h.run(graph)
    assert state.status == "waiting" and state.resume_at == resume
    state = roundtrip(state)
    clock.set(resume)
    assert h.interpreter(graph).run(state).status == "succeeded"
    assert state.context["user"]["tags"] == ["a"]


class FlakyEffects(InMemoryEffects):
    """Fails sending a message ``failures`` times, then works."""

    def __init__(self, failures, retryable=True, **kwargs):
        super().__init__(**kwargs)
        self.failures, self.retryable, self.keys = failures, retryable, []

    def send(self, request):
        self.keys.append(request.idempotency_key)
        if self.failures:
            self.failures -= 1
            raise EffectError("channel down", retryable=self.retryable)
        return super().send(request)


def _send_graph(h, retry=None, error_edge=False):
    send = {"type": "action.send_message", "params": {"text": "hi"}}
    if retry:
        send["retry"] = retry
    nodes = {"t": ("trigger.manual", None), "s": send, "after": tag("after"), "oops": tag("oops")}
    edges = ["t>s", "s>after"] + (["s.error>oops"] if error_edge else [])
    return h.graph(nodes, edges)


def test_retry_with_backoff_then_success(h, clock):
    effects = FlakyEffects(2, clock=clock)
    retry = {"max_attempts": 3, "backoff_seconds": 10, "backoff_factor": 2}
    engine = Interpreter(_send_graph(h, retry), effects=effects)
    state, records = engine.start("t", h.context(), execution_id="x1"), []
    engine.run(state, on_step=records.append)
    assert state.status == "waiting" and state.resume_at == "2024-03-01T12:00:10+00:00"
    assert records[-1].status == "retrying" and records[-1].error["type"] == "EffectError"
    clock.advance(seconds=10)
    state = roundtrip(state)
    engine.run(state, on_step=records.append)
    assert state.status == "waiting" and state.resume_at == "2024-03-01T12:00:30+00:00"
    clock.advance(seconds=20)
    engine.run(state, on_step=records.append)
    assert state.status == "succeeded"
    assert [(r.status, r.attempt) for r in records if r.node_id == "s"] == [
        ("retrying", 1),
        ("retrying", 2),
        ("succeeded", 3),
    ]
    assert set(effects.keys) == {"x1:s"}  # every attempt reuses the idempotency key


def test_retries_exhausted_fail_the_run(h, clock):
    effects = FlakyEffects(5, clock=clock)
    engine = Interpreter(_send_graph(h, {"max_attempts": 2, "backoff_seconds": 0}), effects=effects)
    state, records = engine.start("t", h.context()), []
    engine.run(state, on_step=records.append)
    assert [(r.node_id, r.status, r.attempt) for r in records] == [
        ("t", "succeeded", 1),
        ("s", "retrying", 1),
        ("s", "failed", 2),
    ]
    assert state.status == "failed" and state.error["message"] == "channel down"
    assert state.frontier == [] and "after" not in state.context["nodes"]


def test_non_retryable_error_fails_at_once(h, clock):
    effects = FlakyEffects(1, retryable=False, clock=clock)
    engine = Interpreter(_send_graph(h, {"max_attempts": 5}), effects=effects)
    state = engine.run(engine.start("t", h.context()))
    assert state.status == "failed" and state.steps == 2


def test_error_port_continues_with_the_error_as_output(h, clock):
    effects = FlakyEffects(9, clock=clock)
    engine = Interpreter(_send_graph(h, {"max_attempts": 1}, error_edge=True), effects=effects)
    state, records = engine.start("t", h.context()), []
    engine.run(state, on_step=records.append)
    assert state.status == "succeeded" and h.path(records) == ["t", "s", "oops"]
    assert records[1].status == "failed" and records[1].port == "error"
    assert state.context["nodes"]["s"]["error"]["type"] == "EffectError"


def test_max_steps_guard_on_a_cycle_through_a_wait(h):
    graph = h.graph(
        {"t": ("trigger.manual", None), "a": tag("a"), "w": ("flow.wait", {"seconds": 0})},
        ["t>a", "a>w", "w>a"],
        max_steps=25,
    )
    state, records = h.run(graph)
    assert state.status == "failed" and state.error["type"] == "MaxStepsExceeded"
    assert state.steps == 25 and len(records) == 25


def test_loop_through_wait_sends_with_distinct_idempotency_keys(h, clock):
    count = {"field": "user.fields.n", "op": "less", "value": 3}
    graph = h.graph(
        {
            "t": ("trigger.manual", None),
            "s": ("action.send_message", {"text": "reminder {{ user.fields.n }}"}),
            "u": ("action.update_user", {"changes": {"fields.n": "{{ user.fields.n|int + 1 }}"}}),
            "c": ("logic.condition", {"rules": {"all": [count]}}),
            "w": ("flow.wait", {"days": 1}),
        },
        ["t>s", "s>u", "u>c", "c.true>w", "w>s"],
    )
    engine = h.interpreter(graph)
    state = engine.start("t", h.context(contact={"fields": {"n": 0}}), execution_id="x1")
    while engine.run(state).status == "waiting":
        clock.set(state.resume_at)
        state = roundtrip(state)
    texts = [e["text"] for e in h.effects.log if e["effect"] == "send_message"]
    assert texts == ["reminder 0", "reminder 1", "reminder 2"]
    assert sorted(h.effects.sent_keys) == ["x1:s", "x1:s:1", "x1:s:2"]


def test_disabled_nodes_pass_through(h):
    graph = h.graph(
        {
            "t": ("trigger.manual", None),
            "a": {"type": "action.add_tag", "params": {"tag": "a"}, "disabled": True},
            "c": {
                "type": "logic.condition",
                "params": {"rules": {"all": [TAGS]}},
                "disabled": True,
            },
            "yes": tag("yes"),
            "no": tag("no"),
        },
        ["t>a", "a>c", "c.true>yes", "c.false>no"],
    )
    state, records = h.run(graph)
    assert [(r.node_id, r.status) for r in records] == [
        ("t", "succeeded"),
        ("a", "skipped"),
        ("c", "skipped"),
        ("yes", "succeeded"),
    ]
    assert state.context["user"]["tags"] == ["yes"]


def test_checkpoint_after_every_step_continues_identically(h):
    graph = h.graph(
        {
            "t": ("trigger.manual", None),
            "a": tag("a"),
            "b": tag("b"),
            "b2": tag("b2"),
            "m": ("logic.merge", {"mode": "any"}),
            "end": tag("end"),
        },
        ["t>a", "t>b", "b>b2", "a>m", "b2>m", "m>end"],
    )
    straight, straight_records = h.run(graph)
    engine = h.interpreter(graph)
    state, records = engine.start("t", h.context(), execution_id="x1"), []
    while (record := engine.step(state)) is not None:
        records.append(record)
        state = roundtrip(state)
    assert h.path(records) == h.path(straight_records)
    assert state.context == straight.context and state.status == "succeeded"


def test_run_limit_and_terminal_states(h):
    graph = h.graph({"t": ("trigger.manual", None), "a": tag("a"), "b": tag("b")}, ["t>a", "a>b"])
    engine = h.interpreter(graph)
    state = engine.start("t", h.context())
    assert engine.run(state, limit=2).status == "running" and state.steps == 2
    assert engine.run(state).status == "succeeded" and engine.step(state) is None
    with pytest.raises(InterpreterError):
        engine.start("a", h.context())


def test_node_failure_without_retry_fails_run_with_error(h):
    graph = h.graph(
        {
            "t": ("trigger.manual", None),
            "s": ("action.send_message", {"text": "{{ user.first_name"}),
        },
        ["t>s"],
    )
    state, records = h.run(graph)
    assert state.status == "failed" and records[-1].status == "failed"
    assert state.error["type"] == "TemplateError" and state.error["retryable"] is False


def test_event_payload_is_checked_field_by_field():
    from graph_engine import GraphError, build_context, event_from_payload

    for payload, field in [
        ({"data": {}}, "event_type"),
        ({"event_type": "message received"}, "event_type"),
        ({"event_type": "X", "data": []}, "data"),
        ({"event_type": "X", "user_id": ["a"]}, "user_id"),
        ({"event_type": "X", "timestamp": "yesterday"}, "timestamp"),
    ]:
        with pytest.raises(GraphError, match=field):
            event_from_payload(payload)
    event = event_from_payload({"event_type": "USER_CREATED", "user_id": 42})
    ctx = build_context(event)
    assert event["user_id"] == "42" and event["id"] and event["data"] == {}
    assert ctx["user"]["external_id"] == "42" and ctx["user"]["tags"] == []
    assert ctx["conversation"] == {} and ctx["nodes"] == {}


@pytest.mark.parametrize("mode", ["any", "all"])
def test_merge_inside_a_loop_fires_on_every_round(h, clock, mode):
    count = {"field": "user.fields.n", "op": "less", "value": 3}
    graph = h.graph(
        {
            "t": ("trigger.manual", None),
            "m": ("logic.merge", {"mode": mode}),
            "u": ("action.update_user", {"changes": {"fields.n": "{{ user.fields.n|int + 1 }}"}}),
            "c": ("logic.condition", {"rules": {"all": [count]}}),
            "w": ("flow.wait", {"hours": 1}),
        },
        ["t>m", "m>u", "u>c", "c.true>w", "w>m"],
    )
    engine, records = h.interpreter(graph), []
    state = engine.start("t", h.context(contact={"fields": {"n": 0}}))
    while engine.run(state, on_step=records.append).status == "waiting":
        clock.set(state.resume_at)
    assert state.status == "succeeded" and h.path(records).count("m") == 3
    assert state.context["user"]["fields"]["n"] == "3" and state.merges == {}


def test_a_failing_branch_lets_a_sibling_finish_its_retry(h, clock):
    """One branch fails for good while its sibling waits to retry: the sibling's retry still
    runs (its step is not left ``retrying``), nothing new starts, then the run fails."""
    effects = FlakyEffects(1, clock=clock)
    send = {
        "type": "action.send_message",
        "params": {"text": "hi"},
        "retry": {"max_attempts": 3, "backoff_seconds": 10},
    }
    bad = {"type": "action.send_email", "params": {"subject": "s", "body": "b"}}  # no address
    nodes = {"t": ("trigger.manual", None), "s": send, "after": tag("after"), "bad": bad}
    engine = Interpreter(h.graph(nodes, ["t>s", "s>after", "t>bad"]), effects=effects)
    state, records = engine.start("t", h.context()), []
    engine.run(state, on_step=records.append)
    assert state.status == "waiting"  # bad failed; s waits for its retry
    clock.advance(seconds=10)
    state = roundtrip(state)
    engine.run(state, on_step=records.append)
    assert [(r.node_id, r.status, r.attempt) for r in records] == [
        ("t", "succeeded", 1),
        ("s", "retrying", 1),
        ("bad", "failed", 1),
        ("s", "succeeded", 2),
    ]
    assert state.status == "failed" and "email" in state.error["message"]
    assert "after" not in state.context["nodes"] and state.frontier == []
