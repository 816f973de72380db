"""Redaction of secrets in payloads before they are stored or traced.

Every event log, execution state, step record and trace goes through :func:`redact`, so a bot
token or a password in an event or a webhook header never lands in the database or a browser.
Three rules: values under secret-looking keys are masked; the *values* of credentials this
process has resolved (:func:`remember_secrets`) are masked wherever they appear, in any string
(a response that echoes a header, a log line); credential reference markers are stored in
their readable form ``[credential:<name>]``.

>>> redact({"user": "a", "api_key": "k", "headers": {"Authorization": "Bearer x"}})
{'user': 'a', 'api_key': '***', 'headers': {'Authorization': '***'}}
>>> redact([{"password": 1}, "text"])
[{'password': '***'}, 'text']
>>> redact({"X-Shop-Key": "k1", "monkey": "m"})
{'X-Shop-Key': '***', 'monkey': 'm'}
"""

from __future__ import annotations

__all__ = [
    "redact",
    "has_secret",
    "is_secret_key",
    "MASK",
    "remember_secrets",
    "scrub_text",
    "install_log_scrubber",
]

import functools
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

from graph_engine import display_credentials

MASK = "***"
_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|authori[sz]ation|api[_-]?key|cookie|credential|private[_-]?key"
    r"|(^|[_-])key$|signature)",
    re.IGNORECASE,
)


def is_secret_key(key: object) -> bool:
    """Whether a mapping key names a secret (``token``, ``X-Api-Key``, ``password``...)."""
    return isinstance(key, str) and _secret_name(key)


@functools.lru_cache(maxsize=4096)
def _secret_name(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


MIN_SECRET_LENGTH = 6  # shorter values ("1", "true") would mask half of every text
_known: set[str] = set()
_known_re: re.Pattern | None = None
_known_lock = threading.Lock()


def remember_secrets(values: Iterable[str]) -> None:
    """Mask these credential values from now on, wherever :func:`redact` looks."""
    global _known_re
    fresh = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH} - _known
    if not fresh:
        return
    with _known_lock:
        _known.update(fresh)
        ordered = sorted(_known, key=len, reverse=True)  # longest first: no partial leftovers
        _known_re = re.compile("|".join(re.escape(v) for v in ordered))


def scrub_text(text: str) -> str:
    """``text`` with remembered credential values masked and markers made readable.

    >>> remember_secrets(["sk_live_abcdef"])
    >>> scrub_text("echo: Bearer sk_live_abcdef")
    'echo: Bearer ***'
    """
    if "\u27e6cred:" in text:
        text = display_credentials(text)
    pattern = _known_re
    return pattern.sub(MASK, text) if pattern is not None else text


def install_log_scrubber() -> None:
    """Mask remembered credential values in every log record from now on (once per process)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "scrubs", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if _known_re is not None or "\u27e6cred:" in str(record.msg):
            message = record.getMessage()
            if _dirty_text(message):
                record.msg, record.args = scrub_text(message), ()
        return record

    factory.scrubs = True
    logging.setLogRecordFactory(factory)


def _dirty_text(text: str) -> bool:
    pattern = _known_re
    return "\u27e6cred:" in text or (pattern is not None and pattern.search(text) is not None)


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with the values of secret-looking keys replaced by ``***`` (and
    credential values masked, markers made readable, in every string)."""
    if _depth > 50:
        return value
    if isinstance(value, str):
        return scrub_text(value) if _dirty_text(value) else value
    if isinstance(value, dict):
        return {
            k: (MASK if is_secret_key(k) and v not in (None, "") else redact(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, _depth + 1) for v in value]
    return value


def has_secret(value: Any, _depth: int = 0) -> bool:
    """Whether :func:`redact` would mask anything in ``value`` (no copy is made).

    >>> has_secret({"a": [{"b": 1}]}), has_secret({"a": [{"token": "t"}]})
    (False, True)
    """
    if _depth > 50:
        return False
    if isinstance(value, dict):
        return any(
            (is_secret_key(k) and v not in (None, "")) or has_secret(v, _depth + 1)
            for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return any(has_secret(v, _depth + 1) for v in value)
    return isinstance(value, str) and _dirty_text(value)
