"""The effects interface: everything a node does to the outside world goes through it.

The engine never performs I/O itself. Action nodes call methods of an :class:`Effects`
object that the caller supplies: the backend implements it on the database and real channels,
:class:`InMemoryEffects` records everything in lists (tests, the CLI, dry runs).

Contacts and conversations are plain dicts shaped like the ``user.*`` / ``conversation.*``
context described in DESIGN.md. Methods that change a contact return the updated contact dict;
the node stores it back into the run context so later nodes see the change.

Every side-effecting call receives an ``idempotency_key`` (execution id + node id + attempt
scope) so an implementation can refuse to send the same thing twice.

>>> fx = InMemoryEffects()
>>> fx.add_tag({"external_id": "u1", "tags": []}, "vip")["tags"]
['vip']
>>> fx.log[0]["effect"]
'add_tag'
"""

from __future__ import annotations

__all__ = ["Effects", "InMemoryEffects"]

import copy
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Effects(Protocol):
    """What the engine may ask of the world. Implementations raise :class:`EffectError`."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""

    def send_message(
        self,
        contact: dict,
        text: str,
        *,
        channel: str | None,
        conversation: dict | None,
        idempotency_key: str,
    ) -> dict:
        """Send ``text`` to the contact on ``channel`` (default: the contact's channel)."""

    def send_email(
        self,
        contact: dict,
        subject: str,
        body: str,
        *,
        to: str | None,
        html: bool,
        idempotency_key: str,
    ) -> dict:
        """Send an email to ``to`` (default: the contact's email)."""

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

    def http_request(
        self,
        method: str,
        url: str,
        *,
        headers: dict,
        body: Any,
        timeout: float,
        idempotency_key: str,
    ) -> dict:
        """Perform an outbound HTTP call; return ``{"status", "headers", "body"}``."""

    def run_code(self, code: str, context: dict, *, timeout: float) -> Any:
        """Run sandboxed custom code against a copy of ``context``; return its result."""


class InMemoryEffects:
    """Effects that act on dicts and record every call in :attr:`log`.

    Outbound HTTP answers from ``http_responses`` (url -> response dict) or a 200 with an
    empty body; custom code runs in the real sandbox.
    """

    def __init__(self, *, clock=None, http_responses: dict | None = None):
        self._clock = clock
        self.http_responses = http_responses or {}
        self.log: list[dict] = []
        self.sent_keys: set[str] = set()

    def now(self) -> datetime:
        return self._clock() if self._clock else datetime.now(UTC)

    def _record(self, effect: str, **data) -> dict:
        entry = {"effect": effect, **data}
        self.log.append(entry)
        return entry

    def send_message(self, contact, text, *, channel=None, conversation=None, idempotency_key=""):
        if idempotency_key and idempotency_key in self.sent_keys:
            return {"duplicate": True, "idempotency_key": idempotency_key}
        self.sent_keys.add(idempotency_key)
        channel = channel or contact.get("channel") or "capture"
        self._record("send_message", to=contact.get("external_id"), channel=channel, text=text)
        return {"delivered": True, "channel": channel, "text": text}

    def send_email(self, contact, subject, body, *, to=None, html=False, idempotency_key=""):
        if idempotency_key and idempotency_key in self.sent_keys:
            return {"duplicate": True, "idempotency_key": idempotency_key}
        self.sent_keys.add(idempotency_key)
        to = to or contact.get("email")
        self._record("send_email", to=to, subject=subject, body=body, html=html)
        return {"delivered": True, "to": to, "subject": subject}

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

    def http_request(self, method, url, *, headers, body, timeout, idempotency_key=""):
        self._record("http_request", method=method, url=url, body=body)
        return self.http_responses.get(url, {"status": 200, "headers": {}, "body": ""})

    def run_code(self, code, context, *, timeout):
        from graph_engine.sandbox import run_code

        return run_code(code, context, timeout=timeout)
