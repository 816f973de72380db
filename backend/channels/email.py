"""E-mail over SMTP: plain text with an HTML alternative, a ``List-Unsubscribe`` header.

Configuration (:mod:`backend.channels.settings`): a stored ``smtp`` credential (``host``,
``port``, ``security``, ``username``, ``password``, ``from``...) over ``SMTP_*`` variables.
``security`` is ``starttls`` (upgrade a plain connection, the default), ``tls`` (implicit TLS,
usually port 465) or ``plain`` (no encryption: local relays and tests only). ``ca_file``
(``SMTP_CA_FILE``) trusts a private certificate authority.

The ``Message-ID`` is derived from the step's idempotency key, so the provider id on the
outbox row is known before sending and a receiving server can spot a repeat. A 5xx answer
(recipient refused, message rejected) is a *bounce*: the row is ``bounced``, the contact
records it, and the step fails without retrying; a 4xx or a network error is retried.
"""

from __future__ import annotations

__all__ = ["EmailChannel", "EMAIL", "build_message", "smtp_failure"]

import html
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from backend.channels.base import register
from backend.channels.outbox import DeliveryFailed, deliver, mark_contact
from backend.channels.settings import channel_settings

_TAG = re.compile(r"<[^>]+>")


def _text_of(markup: str) -> str:
    """A readable plain-text version of an HTML body."""
    text = re.sub(r"(?i)<br\s*/?>|</p>", "\n", markup)
    return html.unescape(_TAG.sub("", text)).strip()


def _html_of(text: str) -> str:
    paragraphs = [p.replace("\n", "<br>") for p in html.escape(text).split("\n\n")]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def _unsubscribe(config: dict, sender: str, to: str) -> str:
    links = []
    if config.get("unsubscribe_url"):
        links.append(f"<{str(config['unsubscribe_url']).replace('{email}', to)}>")
    links.append(f"<mailto:{sender}?subject=unsubscribe>")
    return ", ".join(links)


def build_message(message, config: dict) -> EmailMessage:
    """The MIME message for an ``email`` request: text part + HTML alternative.

    >>> from backend.channels.base import OutboundRequest
    >>> req = OutboundRequest("email", "7:mail", {"to": "a@example.com", "subject": "Hi",
    ...                                        "body": "Line 1\\n\\nLine <2>"})
    >>> msg = build_message(req, {"from": "shop@example.com"})
    >>> msg["List-Unsubscribe"], msg.get_body(("html",)).get_content().strip()
    ('<mailto:shop@example.com?subject=unsubscribe>', '<p>Line 1</p><p>Line &lt;2&gt;</p>')
    """
    sender, to = str(config.get("from") or ""), str(message.to or "")
    if not sender:
        raise DeliveryFailed("email: no from-address configured (SMTP_FROM)", retryable=False)
    body = "" if message.body is None else str(message.body)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, message.subject or ""
    msg["Date"] = formatdate(localtime=False)
    domain = sender.rsplit("@", 1)[-1] or "flowmarket"
    msg["Message-ID"] = f"<{re.sub(r'[^A-Za-z0-9.-]', '.', message.idempotency_key)}@{domain}>"
    msg["List-Unsubscribe"] = _unsubscribe(config, sender, to)
    msg.set_content(_text_of(body) if message.html else body)
    msg.add_alternative(body if message.html else _html_of(body), subtype="html")
    return msg


def smtp_failure(exc: Exception) -> DeliveryFailed:
    """A 5xx is a bounce (never retried), an auth failure a configuration error, else retry.

    >>> smtp_failure(smtplib.SMTPDataError(554, b"rejected")).status
    'bounced'
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (550, b"refused"))
    elif isinstance(exc, smtplib.SMTPResponseException):
        code, text = exc.smtp_code, exc.smtp_error
    else:
        return DeliveryFailed(f"email: {type(exc).__name__}: {exc}"[:500])
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    answer = {"smtp_code": code, "smtp_error": text[:500]}
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryFailed(
            f"email: authentication failed ({code})", retryable=False, response=None
        )
    if code >= 500:
        return DeliveryFailed(
            f"email: bounced {code} {text}"[:500], status="bounced", response=answer
        )
    return DeliveryFailed(f"email: {code} {text}"[:500], response=answer)


def _connect(config: dict) -> smtplib.SMTP:
    host, port = str(config.get("host") or ""), int(config.get("port") or 587)
    if not host:
        raise DeliveryFailed("email: no SMTP host configured (SMTP_HOST)", retryable=False)
    timeout = float(config.get("timeout") or 20)
    context = ssl.create_default_context(cafile=config.get("ca_file") or None)
    security = config.get("security") or "starttls"
    if security == "tls":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
        if security == "starttls":
            client.starttls(context=context)
    if config.get("username"):
        client.login(str(config["username"]), str(config.get("password") or ""))
    return client


class EmailChannel:
    name = "email"

    def send(self, message) -> dict:
        """Deliver the e-mail to its SMTP server (once per step)."""
        config = channel_settings("smtp")
        msg = build_message(message, config)

        def send() -> dict:
            try:
                with _connect(config) as client:
                    refused = client.send_message(msg)
            except (smtplib.SMTPException, OSError) as exc:
                raise smtp_failure(exc) from None
            return {
                "provider_message_id": msg["Message-ID"],
                "response": {
                    "refused": {k: [v[0], str(v[1])[:200]] for k, v in (refused or {}).items()}
                },
            }

        try:
            return deliver(
                message,
                "email",
                str(message.to or ""),
                send,
                text=msg.get_body(("plain",)).get_content(),
                subject=msg["Subject"],
            )
        except DeliveryFailed as exc:
            if exc.status == "bounced":
                mark_contact(message.contact_id, "email", exc.status, str(exc))
            raise


EMAIL = register(EmailChannel())
