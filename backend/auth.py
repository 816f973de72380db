"""Who is calling, and may they? Sessions (browser), bearer tokens (API), roles, rate limits.

The API accepts ``Authorization: Bearer fm_...`` (looked up by its SHA-256 hash) or a
flask-login session; a session-authenticated unsafe request must carry the CSRF token in
``X-CSRFToken`` (the shell page renders it). Roles are ordered viewer < editor < admin:
viewers read, editors edit, admins manage users, tokens and credentials.
"""

from __future__ import annotations

__all__ = [
    "init_app",
    "current_principal",
    "authorize",
    "require_role",
    "can_read_workflow",
    "token_row",
]

import functools
import logging
from datetime import timedelta

from flask import current_app, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backend.errors import ServiceError as ApiError
from backend.extensions import db, login_manager
from backend.models import ApiToken, User, hash_token, utcnow

log = logging.getLogger(__name__)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "pages.login"
    login_manager.login_message = "Please sign in."
    login_manager.user_loader(_load_user)


def _load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, "use 'Authorization: Bearer <token>'", field="Authorization")
    return value.strip()


def token_row(plain: str) -> ApiToken | None:
    """The live (unrevoked) API token whose plain text is ``plain``, with its active user;
    ``None`` otherwise. The one bearer lookup: the API and Socket.IO both use it."""
    token = db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user))  # one round trip per request, not two
        .where(ApiToken.token_hash == hash_token(plain), ApiToken.revoked_at.is_(None))
    )
    return token if token is not None and token.user.is_active else None


def _token_user(plain: str) -> User:
    token = token_row(plain)
    if token is None:
        raise ApiError(401, "invalid or revoked token", field="Authorization")
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now  # at most once a minute: no write per request
        db.session.commit()
    return token.user


def _resolve() -> tuple[User | None, str | None]:
    plain = _bearer()
    if plain is not None:
        return _token_user(plain), "token"
    if current_user.is_authenticated:
        return current_user._get_current_object(), "session"
    return None, None


def current_principal() -> User | None:
    """The calling user (bearer token first, then the session), or None when anonymous.

    Cached per request (in the WSGI environ: an app context, and ``g``, may span requests).
    """
    key = "flowmarket.principal"
    if key not in request.environ:
        request.environ[key] = _resolve()
    return request.environ[key][0]


def _auth_via() -> str | None:
    current_principal()
    return request.environ["flowmarket.principal"][1]


def _check_csrf() -> None:
    if request.method in SAFE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    from flask_wtf.csrf import ValidationError, validate_csrf

    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except ValidationError as exc:
        raise ApiError(403, f"CSRF check failed: {exc}", field="X-CSRFToken") from None


def _rate_limit() -> None:
    """Fixed one-minute window per token (or client IP) in Redis; fails open without Redis."""
    limit = int(current_app.config.get("API_RATE_LIMIT_PER_MINUTE") or 0)
    if limit <= 0:
        return
    header = request.headers.get("Authorization", "")
    who = hash_token(header)[:24] if header else (request.remote_addr or "unknown")
    key = f"flowmarket:ratelimit:{who}"
    try:
        from backend.queue import get_redis

        pipe = get_redis().pipeline()
        pipe.set(key, 0, ex=60, nx=True)  # opens the window (works on every Redis version)
        pipe.incr(key)
        pipe.ttl(key)
        _, count, ttl = pipe.execute()
    except Exception:  # Redis down or not configured: never block the API on it
        log.debug("rate limit skipped", exc_info=True)
        return
    if count > limit:
        retry = str(max(int(ttl), 1))
        raise ApiError(429, "rate limit exceeded, retry later", headers={"Retry-After": retry})


def authorize(role: str) -> User:
    """Require an authenticated principal with ``role`` or stronger: 401 / 403 / 429 otherwise."""
    _rate_limit()
    user = current_principal()
    if user is None:
        raise ApiError(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    if _auth_via() == "session":
        _check_csrf()
    if not user.has_role(role):
        raise ApiError(403, f"this needs the {role} role (you are {user.role})")
    return user


def require_role(role: str):
    """Decorator form of :func:`authorize` for views outside the operation registry."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            authorize(role)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def can_read_workflow(user, workflow_id) -> bool:
    """Whether ``user`` may watch the runs of workflow ``workflow_id``.

    There is no per-workflow access list: an active viewer (or above) may read every workflow,
    so the id only has to be one a workflow can have (the caller checks that it exists).
    """
    valid_id = (
        isinstance(workflow_id, int) and not isinstance(workflow_id, bool) and workflow_id > 0
    )
    active = user is not None and getattr(user, "is_active", False)
    return bool(valid_id and active and user.has_role("viewer"))
