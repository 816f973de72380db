"""Editor helpers: ``/tools/render-template/``, ``/tools/check-code/``, ``/context-paths/``.

None of them runs a workflow or changes data: a template preview renders in the engine's
sandbox, a code check only compiles, and the path list is read from recent contacts and events.
"""

from __future__ import annotations

__all__ = ["bp"]

from flask import Blueprint, jsonify

from backend.api.common import ID, TEXT
from backend.api.spec import component, operation
from backend.services import authoring
from backend.services.redaction import redact
from graph_engine import TemplateError

bp = Blueprint("authoring", __name__)

RENDER_BODY = {
    "type": "object",
    "required": ["template"],
    "additionalProperties": False,
    "properties": {
        "template": {"type": "string", "maxLength": 20_000},
        "context": {
            "type": "object",
            "description": "{user: {...}, event: {...}, ...}",
            "properties": {
                "user": {"type": "object"},
                "event": {"type": "object"},
                "conversation": {"type": "object"},
                "nodes": {"type": "object"},
            },
        },
    },
}
RENDER_REF = component(
    "TemplatePreview",
    {
        "type": "object",
        "required": ["ok", "text"],
        "properties": {"ok": {"const": True}, "text": {"type": "string"}},
    },
)
CODE_BODY = {
    "type": "object",
    "required": ["code"],
    "additionalProperties": False,
    "properties": {"code": TEXT},
}
CODE_REF = component(
    "CodeCheck",
    {
        "type": "object",
        "required": ["ok", "errors"],
        "properties": {
            "ok": {"type": "boolean"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["line", "column", "message"],
                    "properties": {
                        "line": {"type": ["integer", "null"]},
                        "column": {"type": ["integer", "null"]},
                        "message": {"type": "string"},
                    },
                },
            },
        },
    },
)
PATH_REF = component(
    "ContextPath",
    {
        "type": "object",
        "required": ["path", "type", "description"],
        "properties": {
            "path": {"type": "string"},
            "type": {"type": "string"},
            "description": {"type": "string"},
        },
    },
)


@operation(
    bp, "/tools/render-template/", "POST", role="editor", body=RENDER_BODY, response=RENDER_REF
)
def render_template(body):
    """Preview a template against a sample context (400 with the template's error)."""

    try:
        text = authoring.render_preview(body["template"], body.get("context") or {})
    except TemplateError as exc:
        return jsonify(
            {
                "error": "template_error",
                "code": "template_error",
                "field": "template",
                "detail": str(exc),
            }
        ), 400
    return jsonify({"ok": True, "text": redact(text)})  # credential references, not markers


@operation(bp, "/tools/check-code/", "POST", role="editor", body=CODE_BODY, response=CODE_REF)
def check_code(body):
    """Compile custom code with RestrictedPython; list its errors with line and column."""
    errors = authoring.check_code(body["code"])
    return jsonify({"ok": not errors, "errors": errors})


@operation(
    bp, "/context-paths/", query={"workflow_id": ID}, response={"type": "array", "items": PATH_REF}
)
def context_paths(query):
    """The paths conditions and templates may use (incl. fields and event keys seen in data)."""
    return jsonify(authoring.context_paths(query.get("workflow_id")))
