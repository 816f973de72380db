"""Helpers every resource module shares: pagination, get-or-404, commits, small schemas.

Lists answer ``{"count", "next", "previous", "results"}`` like Django REST Framework's
``PageNumberPagination``; ``next`` / ``previous`` are absolute URLs or ``null``.
"""

from __future__ import annotations

__all__ = [
    "paginate",
    "paginate_list",
    "page_url",
    "get_or_404",
    "commit",
    "page_schema",
    "STR",
    "TEXT",
    "ID",
    "NULLABLE_STR",
    "DATE_QUERY",
    "created",
]

from urllib.parse import urlencode

from flask import jsonify, request
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.api.errors import ApiError
from backend.extensions import db

ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
DATE_QUERY = {
    "created_after": {
        "type": "string",
        "format": "date-time",
        "description": "ISO-8601; only rows created at or after it",
    },
    "created_before": {
        "type": "string",
        "format": "date-time",
        "description": "ISO-8601; only rows created before it",
    },
}


def within_dates(stmt, column, query: dict):
    """Apply the ``DATE_QUERY`` filters (``created_after`` / ``created_before``) to ``column``."""
    if query.get("created_after"):
        stmt = stmt.where(column >= query["created_after"])
    if query.get("created_before"):
        stmt = stmt.where(column < query["created_before"])
    return stmt


def STR(max_length: int, min_length: int = 0) -> dict:  # noqa: N802 - reads like a type
    """A JSON Schema string with the column's length cap."""
    schema = {"type": "string", "maxLength": max_length}
    if min_length:
        schema["minLength"] = min_length
    return schema


def NULLABLE_STR(max_length: int) -> dict:  # noqa: N802
    return {"type": ["string", "null"], "maxLength": max_length}


TEXT = {"type": "string", "maxLength": 100_000}


def page_schema(item_ref: dict) -> dict:
    """The paginated list envelope around ``item_ref``."""
    return {
        "type": "object",
        "required": ["count", "next", "previous", "results"],
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "next": {"type": ["string", "null"]},
            "previous": {"type": ["string", "null"]},
            "results": {"type": "array", "items": item_ref},
        },
    }


def page_url(page: int) -> str:
    """The current URL with ``page`` replaced."""
    args = request.args.to_dict()
    args["page"] = str(page)
    return f"{request.base_url}?{urlencode(args)}"


def paginate(stmt, query: dict, serialize) -> dict:
    """One page of ``stmt`` (a SQLAlchemy select) serialised with ``serialize``."""
    page, size = query["page"], query["page_size"]
    count = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(size).offset((page - 1) * size)).all()
    return {
        "count": count,
        "next": page_url(page + 1) if page * size < count else None,
        "previous": page_url(page - 1) if page > 1 and count else None,
        "results": [serialize(row) for row in rows],
    }


def paginate_list(items: list, query: dict) -> dict:
    """One page of an in-memory list (for resources that are not rows, like action nodes)."""
    page, size = query["page"], query["page_size"]
    return {
        "count": len(items),
        "next": page_url(page + 1) if page * size < len(items) else None,
        "previous": page_url(page - 1) if page > 1 and items else None,
        "results": items[(page - 1) * size : page * size],
    }


def get_or_404(model, ident: int, what: str | None = None):
    """The row with primary key ``ident`` or a JSON 404 naming it."""
    row = db.session.get(model, ident)
    if row is None:
        raise ApiError(404, f"{what or model.__name__} {ident} not found")
    return row


def commit(conflict: str = "conflicts with an existing row", field: str | None = None) -> None:
    """Commit; a unique-constraint violation becomes a 409 naming ``field``."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ApiError(409, conflict, field=field) from None


def created(payload: dict, status: int = 201):
    return jsonify(payload), status
