"""Outbound channels: every message, email, webhook call (or SMS...) a workflow makes goes through one.

A channel is anything with ``name`` and ``send(request: OutboundRequest) -> dict``; it registers
itself under the request kinds / channel names it delivers (:func:`register`). The ``capture``
channel (:mod:`backend.channels.capture`) records the rendered request as an ``OutboundMessage``
row and sends nothing: it is the product's test mode (``OUTBOUND_MODE=capture``, the default).
With ``OUTBOUND_MODE=live`` a request goes to the channel registered for its channel name (e.g.
``telegram``) or else its kind (``webhook`` -> :mod:`backend.channels.http`), falling back to
capture. Every module of this package is imported here, so a new channel is one new file.
"""

from __future__ import annotations

import importlib
import pkgutil

from backend.channels.base import Channel, OutboundRequest, channel_for, get_channel, register

__all__ = ["OutboundRequest", "Channel", "register", "get_channel", "channel_for"]

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
