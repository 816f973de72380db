"""Who is calling, and may they? Sessions (browser), bearer tokens (API), roles.

The API accepts ``Authorization: Bearer fm_...`` (looked up by its SHA-256 hash) or a
flask-login session; a session-authenticated unsafe request must carry the CSRF token in
``X-CSRFToken`` (the shell page renders it). Roles are ordered viewer < editor < admin:
viewers read, editors edit, admins manage users, tokens and credentials.
"""

from __future__ import annotations

__all__ = [
    "init_app",
    "current_principal",
    "current_caller",
    "authorize",
    "require_role",
    "can_read_workflow",
    "token_row",
    "client_address",
    "bearer_key",
    "presume_access_version",
]

import functools
import logging
from datetime import timedelta

from flask import current_app, request
from flask_login import current_user
from flask_wtf.csrf import ValidationError, validate_csrf
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from backend import token_cache
from backend.errors import ServiceError as ApiError
from backend.extensions import db, login_manager
from backend.models import ApiToken, User, hash_token, utcnow

log = logging.getLogger(__name__)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def init_app(app) -> None:
    token_cache.init_app(app)  # revocations and role changes reach every process's cache
    login_manager.init_app(app)
    login_manager.login_view = "pages.login"
    login_manager.login_message = "Please sign in."
    login_manager.user_loader(_load_user)


def _load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def client_address() -> str:
    """The caller's address (``X-Forwarded-For`` is trusted only behind ``PROXY_COUNT`` proxies)."""
    return request.remote_addr or "unknown"


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


def bearer_key() -> tuple | None:
    """The token cache's key for this call's bearer token; ``None`` without a (well-formed) one."""
    try:
        plain = _bearer()
    except ApiError:
        return None
    return None if plain is None else _cache_key(plain)


def _cache_key(plain: str) -> tuple:
    return (id(db.engine), hash_token(plain))


_PRESUMED = "flowmarket.access_version"


def presume_access_version(version: bytes | None | bool) -> None:
    """The access version as read for this call before its token is looked up (by the API's
    rate limit, in the same round trip as its count): the lookup need not ask Redis again."""
    request.environ[_PRESUMED] = version


def _access_version() -> bytes | None | bool:
    if _PRESUMED in request.environ:
        return request.environ[_PRESUMED]
    return token_cache.version()


def _token_user(plain: str) -> User:
    """The token's user: from this process's cache while no access changed (a detached
    snapshot), else the database (:mod:`backend.token_cache` says when an entry is still
    trusted)."""
    key = _cache_key(plain)
    version = _access_version()  # read before the query: a later change is never missed
    user = token_cache.lookup(key, version)
    if user is not None:
        return user
    token = token_row(plain)
    if token is None:
        raise ApiError(401, "invalid or revoked token", field="Authorization")
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now  # at most once a minute: no write per request
        db.session.commit()
    token_cache.remember(key, version, token, TOKEN_TOUCH_INTERVAL)
    return token.user


def _resolve() -> tuple[User | None, str | None]:
    plain = _bearer()
    if plain is not None:
        return _token_user(plain), "token"
    if current_user.is_authenticated:
        return current_user._get_current_object(), "session"
    return None, None


_PRINCIPAL = "flowmarket.principal"


def _principal() -> tuple[User | None, str | None]:
    """``(user, how it authenticated)``, resolved once per request (in the WSGI environ: an
    app context, and ``g``, may span requests). ``user`` may be the token cache's detached
    snapshot."""
    environ = request.environ
    if _PRINCIPAL + ".error" in environ:  # the database was down a moment ago: don't wait twice
        raise environ[_PRINCIPAL + ".error"]
    if _PRINCIPAL not in environ:
        try:
            environ[_PRINCIPAL] = _resolve()
        except SQLAlchemyError as exc:
            environ[_PRINCIPAL + ".error"] = exc
            raise
    return environ[_PRINCIPAL]


def current_caller() -> User | None:
    """The calling user as checks read it (id, role, active), or None when anonymous: possibly
    a detached snapshot shared with other requests, so never modified nor attached to a row;
    :func:`current_principal` gives the user as a row of this request's session.

    Why apart: merging the snapshot into a session (and closing that session at the end of
    the request) was a twentieth of the web CPU of a posted event, whose checks need neither.
    """
    return _principal()[0]


def current_principal() -> User | None:
    """The calling user (bearer token first, then the session) in this request's database
    session, or None when anonymous."""
    user, via = _principal()
    if user is not None and user not in db.session:
        user = db.session.merge(user, load=False)
        request.environ[_PRINCIPAL] = (user, via)
    return user


def _auth_via() -> str | None:
    return _principal()[1]


def _check_csrf() -> None:
    if request.method in SAFE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except ValidationError as exc:
        raise ApiError(403, f"CSRF check failed: {exc}", field="X-CSRFToken") from None


def authorize(role: str) -> None:
    """Require an authenticated principal with ``role`` or stronger: 401 / 403 otherwise.

    (Rate limits apply before the view, per resolved principal: :mod:`backend.security`.)
    """
    user = current_caller()
    if user is None:
        raise ApiError(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    if _auth_via() == "session":
        _check_csrf()
    if not user.has_role(role):
        raise ApiError(403, f"this needs the {role} role (you are {user.role})")


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
