"""Redaction of secrets in payloads before they are stored or traced.

Every event log, execution state, step record and trace goes through :func:`redact`, so a bot
token or a password in an event or a webhook header never lands in the database or a browser.

>>> redact({"user": "a", "api_key": "k", "headers": {"Authorization": "Bearer x"}})
{'user': 'a', 'api_key': '***', 'headers': {'Authorization': '***'}}
>>> redact([{"password": 1}, "text"])
[{'password': '***'}, 'text']
"""

from __future__ import annotations

__all__ = ["redact", "has_secret", "is_secret_key", "MASK"]

import functools
import re
from typing import Any

MASK = "***"
_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|authori[sz]ation|api[_-]?key|cookie|credential|private[_-]?key)",
    re.IGNORECASE,
)


def is_secret_key(key: object) -> bool:
    """Whether a mapping key names a secret (``token``, ``X-Api-Key``, ``password``...)."""
    return isinstance(key, str) and _secret_name(key)


@functools.lru_cache(maxsize=4096)
def _secret_name(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with the values of secret-looking keys replaced by ``***``."""
    if _depth > 50:
        return value
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
    return False
