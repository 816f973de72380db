"""Safe outbound HTTP: http(s) only, timeouts, size caps and an SSRF guard.

The host is resolved once, every address is checked (:func:`check_address`), and the request
connects to that pinned address (so DNS rebinding cannot swap it), sending the original
``Host`` header and TLS server name. Redirects are never followed: a 3xx is returned as is.

Addresses that are not globally routable are refused, including the ones Python 3.11's
``ipaddress`` wrongly calls global (NAT64, 6to4, IPv4-compatible, ``192.0.0.192``); embedded
IPv4 addresses are unwrapped and checked too (:mod:`graph_engine.urls`, which also checks the
literal part of a URL when a graph is validated). A header with a line break is refused, never
retried. ``HTTP_ALLOW_PRIVATE`` relaxes this: ``loopback``
allows 127.0.0.0/8 and ::1 (the tests use it), ``all`` allows any address.

>>> check_address("93.184.216.34")
>>> check_address("127.0.0.1")
Traceback (most recent call last):
...
backend.channels.http.UnsafeURLError: address 127.0.0.1 is not public
>>> check_address("127.0.0.1", allow="loopback")
>>> check_address("64:ff9b::7f00:1")
Traceback (most recent call last):
...
backend.channels.http.UnsafeURLError: address 64:ff9b::7f00:1 is not public
"""

from __future__ import annotations

__all__ = [
    "UnsafeURLError",
    "check_address",
    "resolve_safe",
    "safe_request",
    "HttpChannel",
    "HTTP_CHANNEL",
]

import http.client
import json
import socket
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from backend.channels.base import register
from backend.channels.outbox import finish, reserve
from backend.services.credentials import resolve_for_send
from backend.services.redaction import redact
from graph_engine import EffectError, address_problem

MAX_RESPONSE_BYTES = 1_048_576
MAX_REQUEST_BYTES = 1_048_576


class UnsafeURLError(EffectError):
    """The URL or the address it resolves to is not allowed (never retryable)."""

    def __init__(self, message: str):
        super().__init__(message, retryable=False)


def check_address(address: str, allow: str = "") -> None:
    """Raise :class:`UnsafeURLError` unless ``address`` may be contacted under ``allow``."""
    problem = address_problem(address, allow)
    if problem:
        raise UnsafeURLError(problem)


def _default_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def resolve_safe(
    url: str, allow: str = "", resolver: Callable[[str, int], list[str]] | None = None
) -> tuple[str, str, int, str]:
    """Check ``url`` and resolve its host: ``(scheme, host, port, pinned ip)``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(f"only http(s) URLs are allowed, not {parts.scheme or 'none'!r}")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeURLError("the URL needs a host and no credentials")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = (resolver or _default_resolver)(parts.hostname, port)
    except (OSError, UnicodeError) as exc:
        raise EffectError(f"cannot resolve {parts.hostname}: {exc}", retryable=True) from exc
    if not addresses:
        raise EffectError(f"{parts.hostname} has no address", retryable=True)
    for address in addresses:
        check_address(address, allow)
    return parts.scheme, parts.hostname, port, addresses[0]


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, ip: str, port: int, server_name: str, timeout: float):
        super().__init__(ip, port, timeout=timeout, context=ssl.create_default_context())
        self._server_name = server_name

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_name)


def _encode(body: Any, headers: dict) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, str | bytes):
        data = body.encode() if isinstance(body, str) else body
    else:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    if len(data) > MAX_REQUEST_BYTES:
        raise EffectError("request body too large", retryable=False)
    return data


def safe_request(
    method: str,
    url: str,
    *,
    headers: dict | None = None,
    body: Any = None,
    timeout: float = 10.0,
    allow: str = "",
    resolver=None,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> dict:
    """Send one request to a checked, pinned address; return ``{"status","headers","body"}``.

    Network errors and timeouts raise a retryable :class:`EffectError`; the body is decoded as
    JSON when it parses, else returned as text (truncated to ``max_bytes``).
    """
    scheme, host, port, ip = resolve_safe(url, allow, resolver)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {str(k): str(v) for k, v in (headers or {}).items()}
    if any(c in k + v for k, v in headers.items() for c in "\r\n"):
        raise EffectError("a header name or value contains a line break", retryable=False)
    data = _encode(body, headers)
    default_port = 443 if scheme == "https" else 80
    headers["Host"] = host if port == default_port else f"{host}:{port}"
    timeout = max(0.1, min(float(timeout), 60.0))
    if scheme == "https":
        conn = _PinnedHTTPS(ip, port, host, timeout)
    else:
        conn = http.client.HTTPConnection(ip, port, timeout=timeout)
    try:
        conn.request(method.upper(), path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read(max_bytes + 1)[:max_bytes]
        status, resp_headers = response.status, dict(response.getheaders())
    except (OSError, http.client.HTTPException) as exc:
        raise EffectError(f"{method} {host}: {exc}", retryable=True) from exc
    finally:
        conn.close()
    text = raw.decode("utf-8", "replace")
    try:
        parsed: Any = json.loads(text) if text else ""
    except ValueError:
        parsed = text
    return {"status": status, "headers": resp_headers, "body": parsed}


class HttpChannel:
    """Delivers ``webhook`` requests for real (``OUTBOUND_MODE=live``) through the outbox
    (:mod:`backend.channels.outbox`): the ``OutboundMessage`` row is reserved and finished
    (``sent`` for 2xx/3xx, else ``failed``) in transactions of its own, so a step replayed after
    its call -- even by a worker that was killed before the step's checkpoint -- returns the
    recorded answer instead of calling again. Each call carries ``Idempotency-Key``."""

    name = "http"

    def send(self, message) -> dict:
        shown = redact(message.to or "")  # credential references stay references
        row = reserve(message, "http", shown, f"{message.method} {shown}"[:10_000])
        if row.status == "sent":
            return {**(row.response or {}), "duplicate": True}
        try:
            # Credential values are put in only now, for this request, and never stored.
            url, headers, body = resolve_for_send([message.to or "", message.headers, message.body])
            headers = {"Idempotency-Key": message.idempotency_key, **dict(headers or {})}
            result = safe_request(
                message.method,
                url,
                headers=headers,
                body=body,
                timeout=message.timeout,
                allow=current_app.config.get("HTTP_ALLOW_PRIVATE", ""),
            )
        except EffectError as exc:
            finish(row.id, "failed", error=redact(str(exc))[:2000])
            raise
        ok = 200 <= result["status"] < 400
        finish(
            row.id,
            "sent" if ok else "failed",
            response=redact(result),
            error=None if ok else f"HTTP {result['status']}",
        )
        return redact(result)  # the step's output: an echoed credential is masked


HTTP_CHANNEL = register(HttpChannel(), "webhook")
