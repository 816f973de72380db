"""Outbound channels: every message, email and webhook call a workflow makes goes through one.

A channel is anything with ``name`` and ``send(message: OutboundRequest) -> dict``. The default
``capture`` channel (:mod:`backend.channels.capture`) records the rendered message on the
conversation as an ``OutboundMessage`` row and sends nothing: it is the product's test mode.
With ``OUTBOUND_MODE=live`` webhooks go out through :mod:`backend.channels.http` (SSRF-guarded)
and messages through the channel registered for the contact's channel name (Telegram, Instagram
and SMTP channels register themselves here when they land), falling back to capture.
"""

from __future__ import annotations

__all__ = ["OutboundRequest", "Channel", "register", "get_channel", "channel_for"]

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class OutboundRequest:
    """One thing to send. ``kind`` is ``message`` | ``email`` | ``webhook``."""

    kind: str
    idempotency_key: str
    text: str = ""
    to: str | None = None
    subject: str | None = None
    channel: str | None = None  # the requested channel (telegram, email, ...)
    contact_id: int | None = None
    conversation_id: int | None = None
    execution_id: int | None = None
    node_id: str | None = None
    method: str = "POST"
    headers: dict = field(default_factory=dict)
    body: Any = None
    timeout: float = 10.0
    html: bool = False


class Channel(Protocol):
    """A way to deliver an :class:`OutboundRequest`; ``send`` returns a JSON-able result."""

    name: str

    def send(self, message: OutboundRequest) -> dict: ...


_CHANNELS: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    """Make ``channel`` available under ``channel.name``."""
    _CHANNELS[channel.name] = channel
    return channel


def get_channel(name: str) -> Channel | None:
    return _CHANNELS.get(name)


def channel_for(message: OutboundRequest, mode: str) -> Channel:
    """The channel that delivers ``message`` in ``mode`` (``capture`` or ``live``)."""
    from backend.channels.capture import CAPTURE
    from backend.channels.http import HTTP_CHANNEL

    if mode != "live":
        return CAPTURE
    if message.kind == "webhook":
        return HTTP_CHANNEL
    name = "smtp" if message.kind == "email" else (message.channel or "")
    return _CHANNELS.get(name) or CAPTURE
