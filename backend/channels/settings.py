"""Where a channel finds its configuration: the stored credentials first, the environment second.

A workspace (this installation) configures a channel by storing an encrypted credential of the
channel's kind (``POST /credentials/`` with ``kind`` ``telegram`` / ``smtp`` / ``instagram``).
The credential named like the kind wins, else the oldest one of that kind; its secret's keys
override the defaults read from the app config (the environment). So a fresh install can run on
``TELEGRAM_BOT_TOKEN`` alone, and an admin can switch bots without a restart.

Secrets read here are handed only to the channel that sends; every value that looks secret is
also registered with :func:`backend.services.redaction.redact` callers through
:func:`secret_values`, so logs and records can mask it by value.
"""

from __future__ import annotations

__all__ = ["channel_settings", "secret_values", "DEFAULTS"]

from flask import current_app
from sqlalchemy import case, select

from backend.extensions import db
from backend.models import Credential

#: credential kind -> {secret key: app config key}; the environment's defaults.
DEFAULTS = {
    "telegram": {"bot_token": "TELEGRAM_BOT_TOKEN", "api_base": "TELEGRAM_API_BASE"},
    "smtp": {
        "host": "SMTP_HOST",
        "port": "SMTP_PORT",
        "security": "SMTP_SECURITY",
        "username": "SMTP_USERNAME",
        "password": "SMTP_PASSWORD",
        "from": "SMTP_FROM",
        "timeout": "SMTP_TIMEOUT",
        "unsubscribe_url": "UNSUBSCRIBE_URL",
        "ca_file": "SMTP_CA_FILE",
    },
    "instagram": {"webhook_url": "INSTAGRAM_RELAY_URL", "auth_header": "INSTAGRAM_RELAY_AUTH"},
}

#: keys whose values are secrets (masked by value wherever they could show up).
_SECRET_KEYS = {"bot_token", "password", "auth_header"}


def _stored(kind: str) -> dict:
    """The secret of the credential for ``kind`` ({} when none is stored or it cannot be read)."""
    stmt = (
        select(Credential)
        .filter_by(kind=kind)
        .order_by(case((Credential.name == kind, 0), else_=1), Credential.id)
        .limit(1)
    )
    row = db.session.scalar(stmt)
    if row is None:
        return {}
    try:
        return dict(row.secret)
    except Exception:  # noqa: BLE001 - encrypted with another key: fall back to the environment
        return {}


def channel_settings(kind: str) -> dict:
    """The settings of channel ``kind``: the environment's defaults under the stored secret."""
    config = current_app.config
    out = {key: config.get(cfg) for key, cfg in DEFAULTS.get(kind, {}).items()}
    out.update({k: v for k, v in _stored(kind).items() if v not in (None, "")})
    return out


def secret_values(settings: dict) -> list[str]:
    """The secret values among ``settings`` (non-empty strings), for masking by value."""
    return [str(v) for k, v in settings.items() if k in _SECRET_KEYS and v]
