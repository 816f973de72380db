"""JSON error bodies for the API: every failure is ``{"detail", "code", "field"?, "errors"?}``.

Views raise :class:`ApiError` (or let a typed error bubble up); the handlers registered by
:func:`init_app` turn it, werkzeug's HTTP errors and graph-engine validation errors into JSON.
Bad input is never a 500.

>>> ApiError(400, "name is required", field="name").body()
{'detail': 'name is required', 'code': 'bad_request', 'field': 'name'}
"""

from __future__ import annotations

__all__ = ["ApiError", "CODES", "init_app", "issues_body", "json_error"]

import logging

from flask import jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from backend.extensions import db

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "throttled",
    500: "server_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error the client can act on. ``errors`` lists per-field / per-node problems."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        field: str | None = None,
        node_id: str | None = None,
        errors: list[dict] | None = None,
        code: str | None = None,
        headers: dict | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field
        self.node_id = node_id
        self.errors = errors
        self.code = code or CODES.get(status, "error")
        self.headers = headers or {}

    def body(self) -> dict:
        out = {"detail": self.detail, "code": self.code}
        if self.field is not None:
            out["field"] = self.field
        if self.node_id is not None:
            out["node_id"] = self.node_id
        if self.errors:
            out["errors"] = self.errors
        return out


def json_error(status: int, detail: str, **kwargs):
    """A JSON error response (status, body, headers) without raising."""
    err = ApiError(status, detail, **kwargs)
    return jsonify(err.body()), status, err.headers


def issues_body(issues) -> list[dict]:
    """graph_engine Issues as JSON error items (each names its node / edge / field)."""
    return [issue.to_dict() if hasattr(issue, "to_dict") else dict(issue) for issue in issues]


def _handle_api_error(err: ApiError):
    db.session.rollback()
    return jsonify(err.body()), err.status, err.headers


def _is_api() -> bool:
    from backend.api import PREFIX

    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


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


def _handle_service(err):
    """A service-layer refusal (``status``, ``detail``, ``field``, ``errors``) as JSON."""
    db.session.rollback()
    api = ApiError(err.status, err.detail, field=err.field, errors=err.errors)
    return jsonify(api.body()), api.status


def _handle_db_error(err):
    """Safety net: a constraint the view did not pre-check is a conflict / bad value, not a 500."""
    from sqlalchemy.exc import IntegrityError

    db.session.rollback()
    if not _is_api():
        return InternalServerError(original_exception=err)
    log.warning("database refused an API write: %s", type(err.orig).__name__)
    if isinstance(err, IntegrityError):
        return jsonify({"detail": "conflicts with existing data", "code": "conflict"}), 409
    return jsonify({"detail": "a value does not fit its column", "code": "bad_request"}), 400


def _handle_unexpected(err: Exception):
    db.session.rollback()
    if not _is_api():
        return InternalServerError(original_exception=err)
    log.exception("unhandled API error")
    return jsonify({"detail": "internal server error", "code": "server_error"}), 500


def init_app(app) -> None:
    """Register the JSON error handlers (they answer JSON only below the API prefix)."""
    from sqlalchemy.exc import DataError, IntegrityError

    from backend.services.workflows import WorkflowError
    from graph_engine import ValidationError

    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(WorkflowError, _handle_service)
    app.register_error_handler(ValidationError, _handle_validation)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(IntegrityError, _handle_db_error)
    app.register_error_handler(DataError, _handle_db_error)
    app.register_error_handler(Exception, _handle_unexpected)
