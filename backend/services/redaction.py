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
    return _secret(key)


_secret_keys: dict = {}  # key -> is it secret; the few hundred keys a process meets


def _secret(key) -> bool:
    """:func:`is_secret_key`, remembered per key: a dict lookup per key instead of a regex
    search (or two calls through a cache). Emptied when it grows past 4096 keys."""
    found = _secret_keys.get(key)
    if found is None:
        found = isinstance(key, str) and _SECRET_KEY.search(key) is not None
        if len(_secret_keys) >= 4096:
            _secret_keys.clear()
        _secret_keys[key] = found
    return found


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


# Why the walks below look the way they do: every execution state and step record goes
# through them, ~90 values per run, most of them numbers and short strings. So a leaf is
# handled in its container's loop (no call per number or string), types are compared exactly
# first (subclasses take the isinstance path after), and a key's verdict is remembered.
_EMPTY = (None, "")  # a secret-looking key with one of these values is left as it is
_PLAIN = frozenset({int, float, bool, type(None)})  # leaves with nothing to mask
_MAX_DEPTH = 50  # deeper values are returned as they are (and not searched)


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with the values of secret-looking keys replaced by ``***`` (and
    credential values masked, markers made readable, in every string)."""
    if _depth > _MAX_DEPTH:
        return value
    kind = type(value)
    if kind is dict:
        return _redact_dict(value, _depth)
    if kind is str:
        return scrub_text(value) if _dirty_text(value) else value
    if kind is list or kind is tuple:
        return _redact_list(value, _depth)
    if kind in _PLAIN:
        return value
    if isinstance(value, str):
        return scrub_text(value) if _dirty_text(value) else value
    if isinstance(value, dict):
        return _redact_dict(value, _depth)
    if isinstance(value, list | tuple):
        return _redact_list(value, _depth)
    return value


def _redact_dict(value, depth: int) -> dict:
    out = {}
    deeper = depth < _MAX_DEPTH  # else the values are kept as they are
    for k, v in value.items():
        if _secret(k) and v not in _EMPTY:
            out[k] = MASK
        elif not deeper or type(v) in _PLAIN:
            out[k] = v
        elif type(v) is str:
            out[k] = scrub_text(v) if _dirty_text(v) else v
        else:
            out[k] = redact(v, depth + 1)
    return out


def _redact_list(value, depth: int) -> list:
    if depth >= _MAX_DEPTH:
        return list(value)
    out = []
    for v in value:
        kind = type(v)
        if kind in _PLAIN:
            out.append(v)
        elif kind is str:
            out.append(scrub_text(v) if _dirty_text(v) else v)
        else:
            out.append(redact(v, depth + 1))
    return out


def has_secret(value: Any, _depth: int = 0) -> bool:
    """Whether :func:`redact` would mask anything in ``value`` (no copy is made).

    >>> has_secret({"a": [{"b": 1}]}), has_secret({"a": [{"token": "t"}]})
    (False, True)
    """
    if _depth > _MAX_DEPTH:
        return False
    kind = type(value)
    if kind is dict:
        return _dict_has_secret(value, _depth)
    if kind is list or kind is tuple:
        return _list_has_secret(value, _depth)
    if kind is str:
        return _dirty_text(value)
    if kind in _PLAIN:
        return False
    if isinstance(value, dict):
        return _dict_has_secret(value, _depth)
    if isinstance(value, list | tuple):
        return _list_has_secret(value, _depth)
    return isinstance(value, str) and _dirty_text(value)


def _dict_has_secret(value, depth: int) -> bool:
    deeper = depth < _MAX_DEPTH  # else only the keys are looked at
    for k, v in value.items():
        if _secret(k) and v not in _EMPTY:
            return True
        if not deeper or type(v) in _PLAIN:
            continue
        if type(v) is str:
            if _dirty_text(v):
                return True
        elif has_secret(v, depth + 1):
            return True
    return False


def _list_has_secret(value, depth: int) -> bool:
    if depth >= _MAX_DEPTH:
        return False
    for v in value:
        kind = type(v)
        if kind in _PLAIN:
            continue
        if kind is str:
            if _dirty_text(v):
                return True
        elif has_secret(v, depth + 1):
            return True
    return False
