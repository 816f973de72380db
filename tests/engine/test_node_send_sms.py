"""``action.send_sms``: renders, sends one ``sms`` request per step, refuses a contact without phone."""

from __future__ import annotations

import pytest

from graph_engine import EffectError, InMemoryEffects, Interpreter, build_context, validate

GRAPH = {
    "format": "workflow-graph/v1",
    "name": "sms",
    "nodes": [
        {"id": "t", "type": "trigger.manual"},
        {
            "id": "sms",
            "type": "action.send_sms",
            "params": {"text": "{{ user.first_name }}, your code: SAVE10"},
        },
    ],
    "edges": [{"id": "e", "source": "t", "target": "sms"}],
}


def _run(contact, effects):
    engine = Interpreter(GRAPH, effects=effects)
    context = build_context({"type": "MANUAL", "user_id": "c1"}, contact)
    return engine.run(engine.start("t", context, execution_id="x1"))


def test_the_graph_validates_and_the_node_is_in_the_palette():
    assert validate(GRAPH).ok
    bad = validate(
        {**GRAPH, "nodes": [GRAPH["nodes"][0], {"id": "sms", "type": "action.send_sms"}]}
    )
    assert [(e.node_id, e.field) for e in bad.errors] == [("sms", "text")]


def test_sends_the_rendered_text_to_the_contact_phone_once():
    effects = InMemoryEffects()
    state = _run({"first_name": "Sara", "phone": "+989121234567"}, effects)
    assert state.status == "succeeded"
    assert effects.log == [
        {"effect": "send_sms", "to": "+989121234567", "text": "Sara, your code: SAVE10"}
    ]
    assert effects.sent_keys == {"x1:sms"}
    assert state.context["nodes"]["sms"]["delivered"] is True


def test_a_contact_without_phone_fails_the_run_without_retrying():
    state = _run({"first_name": "Sara"}, InMemoryEffects())
    assert state.status == "failed" and state.steps == 2
    assert "no phone number" in state.error["message"]


def test_missing_phone_is_an_effect_error():
    from graph_engine import NodeCall, default_registry

    call = NodeCall("sms", {"text": "hi"}, {"user": {}}, InMemoryEffects(), None, "x1")
    with pytest.raises(EffectError):
        default_registry.get("action.send_sms").run(call)
