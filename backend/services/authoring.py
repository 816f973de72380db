"""Authoring helpers for the editor: template previews, code checks, the context's paths.

Nothing here runs a workflow or touches a contact: templates render in the engine's Jinja2
sandbox against the sample context the editor sends, code is only compiled (RestrictedPython),
and the path list reads field names from recent contacts and event payloads.
"""

from __future__ import annotations

__all__ = ["render_preview", "check_code", "context_paths", "STATIC_PATHS"]

import ast
import re

from sqlalchemy import select

from backend.extensions import db
from backend.models import Contact, EventLog, Workflow, WorkflowExecution
from graph_engine import check_code as compile_errors
from graph_engine import render

_LINE = re.compile(r"^Line (\d+): (.*)$", re.S)
SAMPLE_ROWS = 500
MAX_KEYS = 200

STATIC_PATHS = [
    ("event.type", "string", "the event type, e.g. MESSAGE_RECEIVED"),
    ("event.data", "object", "the event's payload"),
    ("event.data.content", "string", "a message's text (MESSAGE_RECEIVED)"),
    ("event.timestamp", "string", "when the event happened (ISO 8601)"),
    ("event.user_id", "string", "the contact's external id"),
    ("event.conversation_id", "string", "the conversation's external id"),
    ("event.id", "string", "the event's id (idempotency key)"),
    ("user.external_id", "string", "the contact's id on the platform"),
    ("user.first_name", "string", "first name"),
    ("user.last_name", "string", "last name"),
    ("user.email", "string", "e-mail address"),
    ("user.phone", "string", "phone number"),
    ("user.channel", "string", "telegram, instagram, email or web"),
    ("user.tags", "array", "the contact's tag names"),
    ("user.fields", "object", "custom fields"),
    ("user.created_at", "string", "when the contact was created"),
    ("conversation.external_id", "string", "the conversation's id on the platform"),
    ("conversation.status", "string", "open, closed, ..."),
    ("conversation.channel", "string", "the conversation's channel"),
    ("workflow.id", "integer", "this workflow's id"),
    ("workflow.name", "string", "this workflow's name"),
    ("execution.id", "string", "this run's id"),
    ("execution.started_at", "string", "when this run started"),
]


def render_preview(template: str, context: dict) -> str:
    """``template`` rendered against ``context`` (missing parts default to empty objects)."""

    full = {
        "event": {},
        "user": {},
        "conversation": {},
        "nodes": {},
        "workflow": {},
        "execution": {},
        **context,
    }
    return render(template, full)


def check_code(code: str) -> list[dict]:
    """RestrictedPython compile errors as ``{line, column, message}`` (column may be None)."""

    column = None
    try:
        ast.parse(code)
    except SyntaxError as exc:
        column = exc.offset
    except (RecursionError, MemoryError, ValueError):
        pass
    out = []
    for message in compile_errors(code):
        match = _LINE.match(message)
        line = int(match.group(1)) if match else None
        text = match.group(2) if match else message
        out.append(
            {"line": line, "column": column if "SyntaxError" in text else None, "message": text}
        )
    return out


def _type_name(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "null")


def _field_paths() -> dict[str, str]:
    rows = db.session.scalars(select(Contact.fields).order_by(Contact.id.desc()).limit(SAMPLE_ROWS))
    seen: dict[str, str] = {}
    for fields in rows:
        for key, value in (fields or {}).items():
            if len(seen) < MAX_KEYS:
                seen.setdefault(f"user.fields.{key}", _type_name(value))
    return seen


def _event_paths(workflow_id: int | None) -> dict[str, str]:
    stmt = select(EventLog.payload).order_by(EventLog.id.desc()).limit(SAMPLE_ROWS)
    if workflow_id is not None:
        runs = select(WorkflowExecution.event_id).where(
            WorkflowExecution.workflow_id == workflow_id
        )
        stmt = stmt.where(EventLog.id.in_(runs))
    seen: dict[str, str] = {}
    for payload in db.session.scalars(stmt):
        data = (payload or {}).get("data") if isinstance(payload, dict) else None
        for key, value in (data or {}).items():
            if len(seen) < MAX_KEYS:
                seen.setdefault(f"event.data.{key}", _type_name(value))
    return seen


def _node_paths(workflow_id: int | None) -> list[dict]:
    workflow = db.session.get(Workflow, workflow_id) if workflow_id is not None else None
    if workflow is None:
        return []
    return [
        {
            "path": f"nodes.{node['id']}",
            "type": "object",
            "description": f"what node {node['id']} ({node.get('type')}) returned",
        }
        for node in workflow.graph.get("nodes", [])
        if isinstance(node, dict)
    ]


def context_paths(workflow_id: int | None = None) -> list[dict]:
    """Every path a condition or template may use, static ones first, then those seen in data."""
    out = [{"path": p, "type": t, "description": d} for p, t, d in STATIC_PATHS]
    known = {item["path"] for item in out}
    for path, kind in {**_event_paths(workflow_id), **_field_paths()}.items():
        if path not in known:
            what = (
                "a custom field seen on contacts"
                if path.startswith("user.")
                else "a key seen in recent events' data"
            )
            out.append({"path": path, "type": kind, "description": what})
            known.add(path)
    return out + _node_paths(workflow_id)
