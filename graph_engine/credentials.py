"""Credentials referenced by name in templates: ``{{ credentials.shop_api }}``.

A graph never holds a secret. Rendering ``{{ credentials.shop_api }}`` (or
``{{ credentials.shop_api.token }}`` for one field of a credential with several) yields a
*reference marker*, not the value. Only the code that sends an outbound request swaps markers
for values (:func:`resolve`), right before sending; everything stored or shown (step inputs,
outbound records, traces) carries the readable form ``[credential:shop_api]`` instead
(:func:`display`).

Markers carry a random per-process nonce, so text that arrives from outside (an event, a
contact field) cannot forge one and get a secret substituted into a request.

>>> text = str(CREDENTIALS.shop_api)
>>> display(f"Bearer {text}")
'Bearer [credential:shop_api]'
>>> resolve({"Authorization": f"Bearer {text}"}, {"shop_api": "s3cr3t"}.get)
{'Authorization': 'Bearer s3cr3t'}
>>> resolve("[credential:shop_api]", {"shop_api": "s3cr3t"}.get)
'[credential:shop_api]'
>>> sorted(referenced("{{ credentials.a }} and {{ credentials['b'].key }}"))
['a', 'b']
"""

from __future__ import annotations

__all__ = ["CREDENTIALS", "CredentialRef", "resolve", "display", "referenced", "UnknownCredential"]

import re
import secrets
from collections.abc import Callable
from typing import Any

_NONCE = secrets.token_hex(8)
_MARKER = re.compile(r"\u27e6cred:" + _NONCE + r":([A-Za-z0-9_.\-]{1,201})\u27e7")
_REFERENCE = re.compile(
    r"credentials\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_\-]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])"
)


class UnknownCredential(LookupError):
    """A marker names a credential (or a field of one) that does not exist."""


class CredentialRef:
    """What ``credentials.<name>[.<field>]`` evaluates to in a template: renders as a marker."""

    __slots__ = ("_path",)

    def __init__(self, path: str):
        self._path = path

    def __getattr__(self, name: str) -> CredentialRef:
        if name.startswith("_"):
            raise AttributeError(name)
        return CredentialRef(f"{self._path}.{name}")

    __getitem__ = __getattr__

    def __str__(self) -> str:
        return f"\u27e6cred:{_NONCE}:{self._path}\u27e7"

    __html__ = __str__


class _Namespace:
    """The ``credentials`` template global."""

    __slots__ = ()

    def __getattr__(self, name: str) -> CredentialRef:
        if name.startswith("_"):
            raise AttributeError(name)
        return CredentialRef(name)

    __getitem__ = __getattr__


CREDENTIALS = _Namespace()


def _map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value) if "\u27e6cred:" in value else value
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_map_strings(v, fn) for v in value]
    return value


def resolve(value: Any, lookup: Callable[[str], str | None]) -> Any:
    """``value`` with every marker replaced by ``lookup(path)``; :class:`UnknownCredential`
    when a path has no value. Call this at send time only, and never store the result."""

    def one(match: re.Match) -> str:
        secret = lookup(match.group(1))
        if secret is None:
            raise UnknownCredential(f"unknown credential {match.group(1)!r}")
        return str(secret)

    return _map_strings(value, lambda text: _MARKER.sub(one, text))


def display(value: Any) -> Any:
    """``value`` with every marker shown as ``[credential:<name>]`` (safe to store and show)."""
    return _map_strings(value, lambda text: _MARKER.sub(r"[credential:\1]", text))


def referenced(template: Any) -> set[str]:
    """The credential names a template (or a params value full of them) refers to."""
    if isinstance(template, dict):
        return set().union(*(referenced(v) for v in template.values())) if template else set()
    if isinstance(template, list | tuple):
        return set().union(*(referenced(v) for v in template)) if template else set()
    if not isinstance(template, str) or "credentials" not in template:
        return set()
    return {a or b for a, b in _REFERENCE.findall(template)}
