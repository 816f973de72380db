"""The effects interface: everything a node does to the outside world goes through it.

The engine never performs I/O itself. Action nodes call methods of an :class:`Effects`
object that the caller supplies: the backend implements it on the database and real channels,
:class:`InMemoryEffects` records everything in lists (tests, the CLI, dry runs).

What leaves the machine (a message, an e-mail, a webhook call, an SMS...) is one generic
:class:`Outbound` request handed to :meth:`Effects.send`: its ``kind`` names the channel family
(the backend looks channels up by it), its ``payload`` is what is sent. A new kind of outbound
action is a new node type building a new ``kind`` of request; the interface does not change.

Contacts and conversations are plain dicts shaped like the ``user.*`` / ``conversation.*``
context described in DESIGN.md. Methods that change a contact return the updated contact dict;
the node stores it back into the run context so later nodes see the change.

Every outbound request carries an ``idempotency_key`` (execution id + node id + loop visit) so
an implementation can refuse to send the same thing twice.

>>> fx = InMemoryEffects()
>>> fx.add_tag({"external_id": "u1", "tags": []}, "vip")["tags"]
['vip']
>>> fx.send(Outbound("sms", "n1", "x1:n1", {"to": "+98912", "text": "hi"}))
{'delivered': True}
>>> [entry["effect"] for entry in fx.log]
['add_tag', 'send_sms']
"""

from __future__ import annotations

__all__ = ["CHANNELS", "Effects", "InMemoryEffects", "Outbound"]

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from graph_engine.sandbox import run_code

#: The channels a contact is reached on (``user.channel``); a message names one of them.
CHANNELS = ("telegram", "instagram", "email", "web")


@dataclass(frozen=True)
class Outbound:
    """One thing to send.

    ``kind`` names the channel family (``message``, ``email``, ``webhook``, ``sms``...);
    ``payload`` is what is sent and what effect logs record; ``options`` say how to deliver it
    and are kept out of logs (request headers may hold credentials, timeouts are not content).
    ``once`` marks a request whose duplicate the recipient would see: an implementation
    delivers it at most once per ``idempotency_key``. ``contact`` / ``conversation`` are the
    run's context dicts (who it is for); ``effect`` names the request in effect logs (default
    ``send_<kind>``).
    """

    kind: str
    node_id: str
    idempotency_key: str
    payload: dict
    options: dict = field(default_factory=dict)
    once: bool = True
    contact: dict | None = None
    conversation: dict | None = None
    effect: str = ""

    @property
    def log_name(self) -> str:
        """The name of this request in effect logs."""
        return self.effect or f"send_{self.kind}"


@runtime_checkable
class Effects(Protocol):
    """What the engine may ask of the world. Implementations raise :class:`EffectError`."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""

    def send(self, request: Outbound) -> dict:
        """Deliver an outbound request; return a JSON-able receipt (a webhook: the response
        ``{"status", "headers", "body"}``)."""

    def add_tag(self, contact: dict, tag: str) -> dict:
        """Add a tag; return the updated contact."""

    def remove_tag(self, contact: dict, tag: str) -> dict:
        """Remove a tag; return the updated contact."""

    def update_user(self, contact: dict, changes: dict) -> dict:
        """Set contact attributes / custom fields; return the updated contact."""

    def add_note(self, contact: dict, conversation: dict | None, text: str) -> dict:
        """Attach an internal note to the conversation (or the contact)."""

    def set_conversation_status(self, conversation: dict | None, status: str) -> dict:
        """Change a conversation's status; return the updated conversation."""

    def run_code(self, code: str, context: dict, *, timeout: float) -> Any:
        """Run sandboxed custom code against a copy of ``context``; return its result."""


_OK_RESPONSE = {"status": 200, "headers": {}, "body": ""}


class InMemoryEffects:
    """Effects that act on dicts and record every call in :attr:`log`.

    An outbound request is logged as ``{"effect": request.log_name, **request.payload}`` (an
    empty ``channel`` reads ``"capture"``: nothing leaves this object) and answered
    ``{"delivered": True}``, or by ``replies[request.kind](request)`` when given.
    Webhook requests answer from ``http_responses`` (url -> response dict) or a 200 with an
    empty body; custom code runs in the real sandbox.
    """

    def __init__(
        self,
        *,
        clock=None,
        http_responses: dict | None = None,
        replies: dict[str, Callable[[Outbound], dict]] | None = None,
    ):
        self._clock = clock
        self.http_responses = http_responses or {}
        self.replies = {"webhook": self._http_reply, **(replies or {})}
        self.log: list[dict] = []
        self.sent: list[Outbound] = []  # every request delivered, duplicates left out
        self.sent_keys: set[str] = set()

    def now(self) -> datetime:
        return self._clock() if self._clock else datetime.now(UTC)

    def _record(self, effect: str, **data) -> dict:
        entry = {"effect": effect, **data}
        self.log.append(entry)
        return entry

    def _http_reply(self, request: Outbound) -> dict:
        return self.http_responses.get(request.payload.get("url"), dict(_OK_RESPONSE))

    def send(self, request: Outbound) -> dict:
        key = request.idempotency_key
        if request.once and key and key in self.sent_keys:
            return {"duplicate": True, "idempotency_key": key}
        if request.once:
            self.sent_keys.add(key)
        payload = request.payload
        if "channel" in payload and not payload["channel"]:  # no channel named: captured here
            payload = {**payload, "channel": "capture"}
        self.sent.append(request)
        self._record(request.log_name, **payload)
        reply = self.replies.get(request.kind)
        return reply(request) if reply else {"delivered": True}

    def add_tag(self, contact, tag):
        contact = copy.deepcopy(contact)
        tags = contact.setdefault("tags", [])
        if tag not in tags:
            tags.append(tag)
        self._record("add_tag", contact=contact.get("external_id"), tag=tag)
        return contact

    def remove_tag(self, contact, tag):
        contact = copy.deepcopy(contact)
        contact["tags"] = [t for t in contact.get("tags", []) if t != tag]
        self._record("remove_tag", contact=contact.get("external_id"), tag=tag)
        return contact

    def update_user(self, contact, changes):
        contact = copy.deepcopy(contact)
        for key, value in changes.items():
            if key.startswith("fields."):
                contact.setdefault("fields", {})[key[len("fields.") :]] = value
            elif key == "fields" and isinstance(value, dict):
                contact.setdefault("fields", {}).update(value)
            else:
                contact[key] = value
        self._record("update_user", contact=contact.get("external_id"), changes=changes)
        return contact

    def add_note(self, contact, conversation, text):
        conv_id = (conversation or {}).get("external_id")
        self._record(
            "add_note", contact=contact.get("external_id"), conversation=conv_id, text=text
        )
        return {"text": text, "conversation": conv_id}

    def set_conversation_status(self, conversation, status):
        conversation = copy.deepcopy(conversation or {})
        conversation["status"] = status
        self._record(
            "set_conversation_status", conversation=conversation.get("external_id"), status=status
        )
        return conversation

    def run_code(self, code, context, *, timeout):
        return run_code(code, context, timeout=timeout)
