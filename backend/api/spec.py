"""One declaration per operation: the route, its auth rule, its request and response schemas.

``@operation(bp, "/workflows/<id:wf_id>/", "PUT", body=WORKFLOW_IN, response="Workflow")``
registers the Flask route, enforces the role, parses and validates the JSON body and the query
string against the declared JSON Schemas, and records everything for the OpenAPI document
(:mod:`backend.api.openapi`), so nothing is described twice.

Views receive the parsed body as ``body=`` and the parsed query as ``query=`` keyword arguments
when they declare them.
"""

from __future__ import annotations

__all__ = ["Operation", "OPERATIONS", "COMPONENTS", "operation", "component", "IdConverter"]

import functools
from dataclasses import dataclass, field

from flask import Blueprint, request
from werkzeug.routing import BaseConverter, ValidationError

from backend.api.components import COMPONENTS, component
from backend.api.validation import PAGE_QUERY, parse_json_body, parse_query
from backend.auth import authorize

MAX_ID = 2**31 - 1


class IdConverter(BaseConverter):
    """``<id:name>``: a positive database id; anything else (or too large) is a 404."""

    regex = r"\d{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


@dataclass
class Operation:
    """What the OpenAPI document says about one route + method."""

    blueprint: str
    name: str
    rule: str
    method: str
    summary: str
    role: str | None
    body: dict | None = None
    body_required: bool = True
    query: dict | None = None
    response: str | dict | None = None
    status: int = 200
    paginated: bool = False
    errors: tuple[int, ...] = ()
    tags: list[str] = field(default_factory=list)
    description: str = ""


OPERATIONS: list[Operation] = []


def operation(
    bp: Blueprint,
    rule: str,
    method: str = "GET",
    *,
    role: str | None = "viewer",
    body: dict | None = None,
    body_required: bool = True,
    query: dict | None = None,
    response: str | dict | None = None,
    status: int = 200,
    paginated: bool = False,
    errors: tuple[int, ...] = (),
    tag: str | None = None,
):
    """Register a view for ``method rule`` on ``bp`` and describe it (``role=None``: public)."""

    if paginated:
        query = {**PAGE_QUERY, **(query or {})}

    def decorator(view):
        doc = (view.__doc__ or view.__name__).replace("``", "`")
        summary, _, description = doc.strip().partition("\n")
        OPERATIONS.append(
            Operation(
                blueprint=bp.name,
                name=view.__name__,
                rule=rule,
                method=method,
                summary=summary.strip(),
                role=role,
                body=body,
                body_required=body_required,
                query=query,
                response=response,
                status=status,
                paginated=paginated,
                errors=errors,
                tags=[tag or bp.name],
                description=description.strip(),
            )
        )

        @functools.wraps(view)
        def wrapper(**kwargs):
            if role is not None:
                authorize(role)
            if query is not None:
                kwargs["query"] = parse_query(query, request.args)
            if body is not None:
                kwargs["body"] = parse_json_body(body, required=body_required)
            return view(**kwargs)

        endpoint = f"{view.__name__}_{method.lower()}"
        bp.add_url_rule(rule, endpoint=endpoint, view_func=wrapper, methods=[method])
        return wrapper

    return decorator
