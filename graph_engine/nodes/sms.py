"""``action.send_sms``: a text message to the contact's phone number.

The whole node type: its declaration and its run. It builds an ``sms`` :class:`Outbound`
request; the in-memory effects log it, the backend's capture channel records it, and a live SMS
gateway is one channel file registered under ``sms``.

>>> from graph_engine import InMemoryEffects, NodeCall
>>> fx = InMemoryEffects()
>>> call = NodeCall("sms", {"text": "Hi {{ user.first_name }}"},
...                 {"user": {"first_name": "Sara", "phone": "+989121234567"}}, fx, None, "x1")
>>> NODE_TYPES[0].run(call).output
{'to': '+989121234567', 'text': 'Hi Sara', 'delivered': True}
>>> fx.log
[{'effect': 'send_sms', 'to': '+989121234567', 'text': 'Hi Sara'}]
"""

from __future__ import annotations

__all__ = ["NODE_TYPES"]

from graph_engine.errors import EffectError
from graph_engine.nodes import NodeCall, NodeResult
from graph_engine.nodes.actions import SEND_RETRY
from graph_engine.registry import NodeType

#: Two concatenated SMS parts of 70 UCS-2 characters (Persian text is UCS-2).
MAX_LENGTH = 140


def _send_sms(call: NodeCall) -> NodeResult:
    params = call.render(call.params)
    to = params.get("to") or call.contact.get("phone")
    if not to:
        raise EffectError("the contact has no phone number", retryable=False)
    payload = {"to": str(to), "text": params["text"][:MAX_LENGTH]}
    receipt = call.effects.send(call.outbound("sms", payload, conversation=None))
    return NodeResult({**payload, **receipt}, input=params)


NODE_TYPES = [
    NodeType(
        type="action.send_sms",
        category="action",
        title="Send SMS",
        description="Send a text message to the contact's phone (or 'to').",
        icon="smartphone",
        params_schema={
            "type": "object",
            "properties": {
                "text": {
                    "type": "string",
                    "title": "Text",
                    "minLength": 1,
                    "maxLength": 1000,
                    "description": f"A template; cut to {MAX_LENGTH} characters.",
                },
                "to": {
                    "type": "string",
                    "title": "To",
                    "maxLength": 32,
                    "description": "Default: the contact's phone number.",
                },
            },
            "required": ["text"],
            "additionalProperties": False,
        },
        run=_send_sms,
        retry=dict(SEND_RETRY),
        template_fields=("text", "to"),
    ),
]
