"""JSON error bodies for the API: every failure is ``{"detail", "code", "field"?, "errors"?}``.

Views, services and the runtime raise :class:`backend.errors.ServiceError` (``ApiError`` here)
or a subclass; the handlers registered by :func:`init_app` turn it, werkzeug's HTTP errors and
graph-engine validation errors into JSON, here and nowhere else. Bad input is never a 500.

>>> ApiError(400, "name is required", field="name").body()
{'detail': 'name is required', 'code': 'bad_request', 'field': 'name'}
"""

from __future__ import annotations

__all__ = ["ApiError", "CODES", "init_app", "issues_body", "json_error"]

import contextlib
import logging

from flask import current_app, jsonify, request
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from backend.errors import CODES, ServiceError
from backend.extensions import db
from graph_engine import ValidationError

log = logging.getLogger(__name__)

#: The name views use for the server's one error type.
ApiError = ServiceError


def json_error(status: int, detail: str, **kwargs):
    """A JSON error response (status, body, headers) without raising."""
    err = ApiError(status, detail, **kwargs)
    return jsonify(err.body()), status, err.headers


def issues_body(issues) -> list[dict]:
    """graph_engine Issues as JSON error items (each names its node / edge / field)."""
    return [issue.to_dict() if hasattr(issue, "to_dict") else dict(issue) for issue in issues]


def _handle_service_error(err: ServiceError):
    """Any refusal of the server's one error type, as its JSON body."""
    db.session.rollback()
    return jsonify(err.body()), err.status, err.headers


def _is_api() -> bool:
    """Below the API prefix, or the webhook-trigger URLs: machines call these, they get JSON."""
    prefix = current_app.config["API_PREFIX"]
    path = request.path
    return path == prefix or path.startswith((prefix + "/", "/hooks/"))


def _handle_http(err: HTTPException):
    """HTTP errors below the API prefix as JSON; pages keep Flask's default error pages."""
    if not _is_api():
        return err
    status = err.code or 500
    detail = err.description or err.name
    if status == 413:
        detail = "request body too large"
    if status == 405:
        detail = f"method {request.method} not allowed here"
    headers = {}
    if status == 405:
        headers = {k: v for k, v in err.get_headers() if k.lower() == "allow"}
    return jsonify({"detail": detail, "code": CODES.get(status, "error")}), status, headers


def _handle_validation(err):
    """An engine ValidationError that escaped a view: 400 naming every bad node."""
    db.session.rollback()
    return jsonify(
        {"detail": "graph is not valid", "code": "invalid_graph", "errors": issues_body(err.issues)}
    ), 400


def _handle_db_error(err):
    """Safety net: a constraint the view did not pre-check is a conflict / bad value, not a 500."""
    db.session.rollback()
    if not _is_api():
        return InternalServerError(original_exception=err)
    log.warning("database refused an API write: %s", type(err.orig).__name__)
    if isinstance(err, IntegrityError):
        return jsonify({"detail": "conflicts with existing data", "code": "conflict"}), 409
    return jsonify({"detail": "a value does not fit its column", "code": "bad_request"}), 400


DB_RETRY_AFTER = "5"


def _handle_db_down(err):
    """The database is unreachable or did not answer in time: 503, try again shortly."""
    with contextlib.suppress(Exception):
        db.session.rollback()
    log.warning("database unavailable: %s", str(err.orig if hasattr(err, "orig") else err)[:200])
    body = {
        "detail": "the database is unavailable, retry later",
        "code": "unavailable",
        "part": "database",
    }
    if not _is_api():
        return (
            "The database is unavailable; retry in a few seconds.",
            503,
            {"Retry-After": DB_RETRY_AFTER, "Content-Type": "text/plain; charset=utf-8"},
        )
    return jsonify(body), 503, {"Retry-After": DB_RETRY_AFTER}


def _handle_unexpected(err: Exception):
    db.session.rollback()
    if not _is_api():
        return InternalServerError(original_exception=err)
    log.exception("unhandled API error")
    return jsonify({"detail": "internal server error", "code": "server_error"}), 500


def init_app(app) -> None:
    """Register the JSON error handlers (they answer JSON only below the API prefix)."""
    app.register_error_handler(ServiceError, _handle_service_error)
    app.register_error_handler(ValidationError, _handle_validation)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(IntegrityError, _handle_db_error)
    app.register_error_handler(DataError, _handle_db_error)
    for outage in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(outage, _handle_db_down)
    app.register_error_handler(Exception, _handle_unexpected)
