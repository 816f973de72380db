"""The node-type registry: declarations, the editor JSON, trigger specs."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from graph_engine import NodeType, Registry, UnknownNodeTypeError, default_registry, trigger_spec
from graph_engine.matching import TriggerIndex
from graph_engine.registry import json_path, trigger_specs

EXPECTED = {
    "trigger": {
        "trigger.message_received",
        "trigger.user_created",
        "trigger.tag_added",
        "trigger.conversation_status_changed",
        "trigger.event",
        "trigger.webhook",
        "trigger.schedule",
        "trigger.manual",
    },
    "logic": {"logic.condition", "logic.switch", "logic.ab_split", "logic.merge"},
    "flow": {"flow.wait"},
    "action": {
        "action.send_message",
        "action.send_email",
        "action.add_tag",
        "action.remove_tag",
        "action.update_user",
        "action.add_note",
        "action.webhook",
        "action.set_conversation_status",
        "action.custom_code",
    },
}


def test_every_expected_type_is_registered_in_its_category():
    """The built-in types are there, each in its category (new types may join them)."""
    for category, names in EXPECTED.items():
        for name in names:
            assert default_registry.get(name).category == category


@pytest.mark.parametrize("node_type", default_registry.all(), ids=lambda t: t.type)
def test_declarations_are_complete(node_type):
    Draft202012Validator.check_schema(node_type.params_schema)
    assert node_type.title and node_type.description and node_type.icon
    assert node_type.type.startswith(node_type.category + ".")
    for name, prop in node_type.params_schema.get("properties", {}).items():
        assert "title" in prop or "$ref" in prop, f"{node_type.type}.{name} has no title"
    if node_type.category == "trigger":
        assert node_type.inputs == () and node_type.event_type is not None
    else:
        assert node_type.inputs == ("in",) and node_type.event_type is None
    assert node_type.retry["max_attempts"] >= 1


def test_to_json_is_serialisable_and_describes_dynamic_ports():
    described = json.loads(json.dumps(default_registry.to_json()))
    by_type = {d["type"]: d for d in described}
    assert (
        set(by_type) == {t.type for t in default_registry.all()} >= set().union(*EXPECTED.values())
    )
    assert by_type["logic.switch"]["outputs_from"] == "cases"
    assert by_type["logic.switch"]["outputs"] == ["default"]
    assert by_type["logic.ab_split"]["outputs_from"] == "variants"
    assert by_type["logic.condition"]["outputs"] == ["true", "false"]
    assert by_type["trigger.event"]["event_type_from"] == "event_type"
    assert by_type["trigger.tag_added"]["event_type"] == "TAG_ADDED"
    assert by_type["action.send_message"]["retry"]["max_attempts"] == 3
    assert by_type["action.send_message"]["template_fields"] == ["text"]
    assert by_type["trigger.manual"]["error_port"] is False
    for d in described:
        assert {"category", "title", "description", "icon", "inputs", "params_schema"} <= set(d)


def test_registry_get_register_and_unknown():
    reg = Registry()
    with pytest.raises(UnknownNodeTypeError, match="action.nope"):
        reg.get("action.nope")
    custom = NodeType(
        "action.ping", "action", "Ping", "Ping", "bell", {"type": "object"}, run=lambda call: None
    )
    assert reg.register(custom).get("action.ping") is custom and "action.ping" in reg
    with pytest.raises(ValueError):
        reg.register(NodeType("x.y", "weird", "X", "X", "x", {}, run=lambda call: None))


@pytest.mark.parametrize(
    "node, event_type, leaves",
    [
        (
            {"type": "trigger.message_received", "params": {"keywords": ["coupon", "کد تخفیف"]}},
            "MESSAGE_RECEIVED",
            2,
        ),
        ({"type": "trigger.tag_added", "params": {"tag": "vip"}}, "TAG_ADDED", 1),
        (
            {
                "type": "trigger.conversation_status_changed",
                "params": {"from": "open", "to": "closed"},
            },
            "CONVERSATION_STATUS_CHANGED",
            2,
        ),
        ({"type": "trigger.event", "params": {"event_type": "ORDER_PAID"}}, "ORDER_PAID", 0),
        ({"type": "trigger.user_created"}, "USER_CREATED", 0),
        ({"type": "trigger.schedule", "params": {"cron": "0 9 * * *"}}, "SCHEDULE", 4),
    ],
)
def test_trigger_spec_combines_convenience_params(node, event_type, leaves):
    spec = trigger_spec({"id": "t", **node}, "wf")
    assert (spec.workflow_id, spec.node_id, spec.event_type) == ("wf", "t", event_type)
    found = json.dumps(spec.filter or {}).count('"op"')
    assert found == leaves


def _ctx(event_type, data, tags=()):
    return {
        "event": {"type": event_type, "data": data},
        "user": {"tags": list(tags)},
        "conversation": {},
        "nodes": {},
    }


def test_trigger_specs_match_through_the_trigger_index():
    graph = {
        "nodes": [
            {
                "id": "kw",
                "type": "trigger.message_received",
                "params": {
                    "keywords": ["coupon", "کد تخفیف"],
                    "filter": {"all": [{"field": "user.tags", "op": "contains", "value": "vip"}]},
                },
            },
            {"id": "tag", "type": "trigger.tag_added", "params": {"tag": "vip"}},
            {"id": "st", "type": "trigger.conversation_status_changed", "params": {"to": "closed"}},
            {"id": "off", "type": "trigger.tag_added", "disabled": True},
            {"id": "sch", "type": "trigger.schedule", "params": {"cron": "0 9 * * *"}},
        ]
    }
    specs = trigger_specs(graph, "wf")
    assert [s.node_id for s in specs] == ["kw", "tag", "st", "sch"]
    index = TriggerIndex(specs)

    def matched(ctx):
        return [s.node_id for s in index.match(ctx)]

    assert matched(_ctx("MESSAGE_RECEIVED", {"content": "Any COUPON?"}, ["vip"])) == ["kw"]
    assert matched(_ctx("MESSAGE_RECEIVED", {"content": "کد تخفیف لطفا"}, ["vip"])) == ["kw"]
    assert matched(_ctx("MESSAGE_RECEIVED", {"content": "coupon"})) == []
    assert matched(_ctx("MESSAGE_RECEIVED", {"content": "hello"}, ["vip"])) == []
    assert matched(_ctx("TAG_ADDED", {"tag": "vip"})) == ["tag"]
    assert matched(_ctx("TAG_ADDED", {"tag": "other"})) == []
    assert matched(
        _ctx("CONVERSATION_STATUS_CHANGED", {"from_status": "open", "to_status": "closed"})
    ) == ["st"]
    assert matched(_ctx("SCHEDULE", {"workflow_id": "wf", "node_id": "sch"})) == ["sch"]
    assert matched(_ctx("SCHEDULE", {"workflow_id": "other", "node_id": "sch"})) == []


def test_trigger_spec_rejects_non_triggers():
    with pytest.raises(ValueError):
        trigger_spec({"id": "a", "type": "action.add_tag", "params": {"tag": "x"}}, 1)


def test_json_path():
    assert json_path(["cases", 0, "rules", "all", 1]) == "cases[0].rules.all[1]"
    assert json_path([]) == ""
