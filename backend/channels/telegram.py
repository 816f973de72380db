"""Telegram through the Bot API: ``sendMessage`` to the contact's chat.

Configuration (:mod:`backend.channels.settings`): a stored ``telegram`` credential with
``bot_token`` (and optionally ``api_base``), else ``TELEGRAM_BOT_TOKEN`` / ``TELEGRAM_API_BASE``.
The chat id is the contact's ``channel_ids.telegram``, else its external id (what a Telegram
integration posts as ``user_id``).

The Bot API's answers map onto the outbox (:mod:`backend.channels.outbox`):

==========================================  =================================================
``200 {"ok": true, "result": {...}}``       ``sent``, ``provider_message_id`` = message_id
``429 {"parameters": {"retry_after": N}}``  ``failed``, retried no sooner than N seconds
``403 "bot was blocked by the user"``       ``blocked`` on the row and the contact, no retry
``400 "chat not found"``                    ``failed`` on the row and the contact, no retry
``5xx`` / network error                     ``failed``, retried by the node's policy
==========================================  =================================================

The token is part of the request path only; it never appears in a record, an error or a log.
"""

from __future__ import annotations

__all__ = ["TelegramChannel", "TELEGRAM", "telegram_failure"]

from flask import current_app

from backend.channels.base import register
from backend.channels.http import safe_request
from backend.channels.outbox import DeliveryFailed, deliver, mark_contact
from backend.channels.settings import channel_settings
from backend.extensions import db
from backend.models import Contact

MAX_TEXT = 4096  # the Bot API's limit for one message


def telegram_failure(status: int, body) -> DeliveryFailed:
    """The :class:`DeliveryFailed` for a Bot API error answer.

    >>> telegram_failure(429, {"parameters": {"retry_after": 7}}).retry_after
    7.0
    >>> e = telegram_failure(403, {"description": "Forbidden: bot was blocked by the user"})
    >>> (e.status, e.retryable)
    ('blocked', False)
    """
    body = body if isinstance(body, dict) else {"description": str(body)[:500]}
    text = str(body.get("description") or f"HTTP {status}")[:500]
    answer = {"status": status, "body": body}
    if status == 429:
        after = (body.get("parameters") or {}).get("retry_after")
        return DeliveryFailed(f"telegram: {text}", retry_after=float(after or 1), response=answer)
    if status == 403:
        return DeliveryFailed(f"telegram: {text}", status="blocked", response=answer)
    if status >= 500:
        return DeliveryFailed(f"telegram: {text}", response=answer)
    return DeliveryFailed(f"telegram: {text}", retryable=False, response=answer)


class TelegramChannel:
    name = "telegram"

    def _chat_id(self, message) -> str:
        contact = db.session.get(Contact, message.contact_id) if message.contact_id else None
        chat = ((contact.channel_ids or {}).get("telegram") if contact else None) or message.to
        if not chat:
            raise DeliveryFailed("telegram: the contact has no chat id", retryable=False)
        return str(chat)

    def send(self, message) -> dict:
        """Send the message's text to the contact's chat (once per step)."""
        config = channel_settings("telegram")
        token = config.get("bot_token")
        if not token:
            raise DeliveryFailed("telegram: no bot token configured", retryable=False)
        chat_id, text = self._chat_id(message), message.text[:MAX_TEXT]
        url = f"{str(config.get('api_base') or '').rstrip('/')}/bot{token}/sendMessage"

        def send() -> dict:
            answer = safe_request(
                "POST",
                url,
                body={"chat_id": chat_id, "text": text},
                timeout=message.timeout,
                allow=current_app.config.get("HTTP_ALLOW_PRIVATE", ""),
            )
            body = answer["body"]
            if answer["status"] == 200 and isinstance(body, dict) and body.get("ok"):
                result = body.get("result") or {}
                return {"provider_message_id": result.get("message_id"), "response": body}
            raise telegram_failure(answer["status"], body)

        try:
            return deliver(message, "telegram", chat_id, send, text=text)
        except DeliveryFailed as exc:
            if not exc.retryable and exc.response is not None:  # the chat itself is the problem
                mark_contact(message.contact_id, "telegram", exc.status, str(exc))
            raise


TELEGRAM = register(TelegramChannel())
