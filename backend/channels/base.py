"""The channel registry and the request every channel delivers.

:class:`OutboundRequest` is the engine's :class:`graph_engine.Outbound` (kind, payload, delivery
options) plus the database ids of who and what it belongs to. Channels register under the keys
they deliver; :func:`channel_for` picks one for a request and a mode.
"""

from __future__ import annotations

__all__ = ["OutboundRequest", "Channel", "register", "get_channel", "channel_for", "CAPTURE_NAME"]

from dataclasses import dataclass, field
from typing import Any, Protocol

#: The registry key of the channel that records instead of sending (the default mode).
CAPTURE_NAME = "capture"


@dataclass
class OutboundRequest:
    """One thing to send: ``kind`` (``message`` | ``email`` | ``webhook`` | ...), the engine's
    ``payload`` and ``options``, and the ids of the contact, conversation, run and node."""

    kind: str
    idempotency_key: str
    payload: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    contact_id: int | None = None
    conversation_id: int | None = None
    execution_id: int | None = None
    node_id: str | None = None

    @property
    def channel(self) -> str:
        """The requested channel name (``telegram``...); the kind when none was asked for."""
        return self.payload.get("channel") or self.kind

    @property
    def url(self) -> str | None:
        return self.payload.get("url")

    @property
    def to(self) -> str | None:
        """The recipient: an address, a chat id, or the URL of an HTTP request."""
        return self.payload.get("to") or self.url

    @property
    def method(self) -> str:
        return self.payload.get("method") or "POST"

    @property
    def subject(self) -> str | None:
        return self.payload.get("subject")

    @property
    def body(self) -> Any:
        return self.payload.get("body")

    @property
    def html(self) -> bool:
        return bool(self.payload.get("html"))

    @property
    def headers(self) -> dict:
        return dict(self.options.get("headers") or {})

    @property
    def timeout(self) -> float:
        return float(self.options.get("timeout", 10.0))

    @property
    def text(self) -> str:
        """A one-line summary for records: the text, a string body, or ``METHOD url``."""
        if self.url:
            return f"{self.method} {self.url}"
        text = self.payload.get("text")
        if text is None and isinstance(self.body, str):
            text = self.body
        return "" if text is None else str(text)


class Channel(Protocol):
    """A way to deliver an :class:`OutboundRequest`; ``send`` returns a JSON-able result."""

    name: str

    def send(self, message: OutboundRequest) -> dict: ...


_CHANNELS: dict[str, Channel] = {}


def register(channel: Channel, *keys: str) -> Channel:
    """Make ``channel`` deliver requests whose channel name or kind is in ``keys`` (default:
    its own ``name``); returns the channel."""
    for key in keys or (channel.name,):
        _CHANNELS[key] = channel
    return channel


def get_channel(name: str) -> Channel | None:
    return _CHANNELS.get(name)


def channel_for(message: OutboundRequest, mode: str) -> Channel:
    """The channel that delivers ``message`` in ``mode`` (``capture`` or ``live``)."""
    capture = _CHANNELS[CAPTURE_NAME]
    if mode != "live":
        return capture
    return _CHANNELS.get(message.channel) or _CHANNELS.get(message.kind) or capture
