"""Instagram through the relay webhook (the seed's n8n-style ``N8N_WEBHOOK_URL``).

Instagram's messaging API is reached through a relay the business already runs: the channel
POSTs ``{"recipient", "channel": "instagram", "text", "idempotency_key", ...}`` as JSON to the
relay's URL and records its answer. Configuration: a stored ``instagram`` credential with
``webhook_url`` and optionally ``auth_header`` (the ``Authorization`` header's value), else
``INSTAGRAM_RELAY_URL`` (or ``N8N_WEBHOOK_URL``) and ``INSTAGRAM_RELAY_AUTH``.

The recipient is the contact's ``channel_ids.instagram``, else its external id. A 2xx answer
is ``sent`` (its ``id`` / ``message_id`` becomes the provider id), a 429 / 5xx / network error
is retried (``Retry-After`` honoured), any other 4xx fails without retry.
"""

from __future__ import annotations

__all__ = ["InstagramChannel", "INSTAGRAM"]

from flask import current_app

from backend.channels.base import register
from backend.channels.http import safe_request
from backend.channels.outbox import DeliveryFailed, deliver
from backend.channels.settings import channel_settings
from backend.extensions import db
from backend.models import Contact


def _retry_after(headers: dict) -> float | None:
    value = {k.lower(): v for k, v in (headers or {}).items()}.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _provider_id(body) -> str | None:
    if isinstance(body, dict):
        return body.get("message_id") or body.get("id")
    return None


class InstagramChannel:
    name = "instagram"

    def _recipient(self, message) -> str:
        contact = db.session.get(Contact, message.contact_id) if message.contact_id else None
        found = ((contact.channel_ids or {}).get("instagram") if contact else None) or message.to
        if not found:
            raise DeliveryFailed("instagram: the contact has no recipient id", retryable=False)
        return str(found)

    def send(self, message) -> dict:
        """POST the message to the relay (once per step) and record its answer."""
        config = channel_settings("instagram")
        url = config.get("webhook_url")
        if not url:
            raise DeliveryFailed(
                "instagram: no relay URL configured (N8N_WEBHOOK_URL)", retryable=False
            )
        recipient, text = self._recipient(message), message.text
        headers = {"Idempotency-Key": message.idempotency_key}
        if config.get("auth_header"):
            headers["Authorization"] = str(config["auth_header"])
        body = {
            "recipient": recipient,
            "channel": "instagram",
            "text": text,
            "idempotency_key": message.idempotency_key,
            "conversation_id": message.conversation_id,
        }

        def send() -> dict:
            answer = safe_request(
                "POST",
                url,
                headers=headers,
                body=body,
                timeout=message.timeout,
                allow=current_app.config.get("HTTP_ALLOW_PRIVATE", ""),
            )
            status, reply = answer["status"], answer["body"]
            recorded = {"status": status, "body": reply}
            if 200 <= status < 300:
                return {"provider_message_id": _provider_id(reply), "response": recorded}
            retryable = status >= 500 or status in (408, 429)
            raise DeliveryFailed(
                f"instagram relay answered HTTP {status}",
                retryable=retryable,
                retry_after=_retry_after(answer["headers"]),
                response=recorded,
            )

        return deliver(message, "instagram", recipient, send, text=text)


INSTAGRAM = register(InstagramChannel())
