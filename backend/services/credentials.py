"""Credentials at send time: resolve ``{{ credentials.<name> }}`` references, and remember the
values so :mod:`backend.services.redaction` masks them wherever they show up afterwards.

A reference is ``<name>`` (a credential with one field, or with a ``value`` / ``token`` field)
or ``<name>.<field>``. Values are decrypted here, just before a request leaves, and are never
written anywhere.
"""

from __future__ import annotations

__all__ = ["lookup", "resolve_for_send", "known_names"]

from typing import Any

from sqlalchemy import select

from backend.extensions import db
from backend.models import Credential
from backend.services.redaction import remember_secrets
from graph_engine import EffectError, UnknownCredential, resolve_credentials


def _pick(secret: dict, field: str) -> str | None:
    if field:
        value = secret.get(field)
    elif len(secret) == 1:
        value = next(iter(secret.values()))
    else:
        value = secret.get("value", secret.get("token"))
    return None if value is None else str(value)


def lookup(path: str) -> str | None:
    """The value a reference names, or None when there is none."""
    name, _, field = path.partition(".")
    row = db.session.scalar(select(Credential).where(Credential.name == name))
    if row is None:
        return None
    secret = row.secret
    remember_secrets(str(v) for v in secret.values())
    return _pick(secret, field)


def resolve_for_send(value: Any) -> Any:
    """``value`` with the credential values in place (a non-retryable error for unknown ones)."""
    try:
        return resolve_credentials(value, lookup)
    except UnknownCredential as exc:
        raise EffectError(str(exc), retryable=False) from None


def known_names() -> set[str]:
    """The names of the stored credentials (for validation)."""
    return set(db.session.scalars(select(Credential.name)))
