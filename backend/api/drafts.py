"""Working on a graph before (or without) saving it: validate, test-run, duplicate.

``validate/`` and ``test-run/`` take a graph in the body and never write to the database;
``duplicate/`` copies a saved workflow into a new draft.
"""

from __future__ import annotations

__all__ = ["bp", "VALIDATION_REF", "report_json"]

from flask import Blueprint, current_app, jsonify

from backend.api.common import STR, created, get_or_404
from backend.api.errors import ApiError
from backend.api.schemas import EVENT
from backend.api.spec import component, operation
from backend.api.workflows import WORKFLOW_REF, workflow_json
from backend.auth import current_principal
from backend.models import Workflow
from backend.services import versions
from backend.services.dry_run import BadSample, DryRunInvalid, dry_run
from backend.services.redaction import redact
from backend.services.workflows import validation_report

bp = Blueprint("drafts", __name__)

_ISSUE = {
    "type": "object",
    "required": ["code", "message", "severity"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "node_id": {"type": "string"},
        "edge_id": {"type": "string"},
        "field": {"type": "string"},
        "path": {"type": "string"},
        "severity": {"enum": ["error", "warning"]},
    },
}
VALIDATION_REF = component(
    "ValidationReport",
    {
        "type": "object",
        "required": ["ok", "errors", "warnings"],
        "properties": {
            "ok": {"type": "boolean"},
            "errors": {"type": "array", "items": _ISSUE},
            "warnings": {"type": "array", "items": _ISSUE},
        },
    },
)
_STEP = {
    "type": "object",
    "required": ["seq", "node_id", "node_type", "status"],
    "properties": {
        "seq": {"type": "integer"},
        "node_id": {"type": "string"},
        "node_type": {"type": "string"},
        "status": {"type": "string"},
        "attempts": {"type": "integer"},
        "resume_at": {"type": ["string", "null"]},
        "error": {"type": ["string", "null"]},
        "input": {},
        "output": {},
    },
}
TEST_RUN_REF = component(
    "TestRun",
    {
        "type": "object",
        "required": ["result", "steps", "edges_taken", "messages", "effects"],
        "properties": {
            "result": {
                "type": "object",
                "required": ["status"],
                "properties": {
                    "status": {"type": "string"},
                    "waiting_until": {"type": ["string", "null"]},
                    "error": {"type": ["string", "null"]},
                },
            },
            "trigger_node_id": {"type": "string"},
            "steps": {"type": "array", "items": _STEP},
            "edges_taken": {"type": "array", "items": {"type": "string"}},
            "messages": {"type": "array", "items": {"type": "object"}},
            "effects": {"type": "array", "items": {"type": "object"}},
            "context": {"type": "object"},
        },
    },
)
_CONTACT = {
    "type": "object",
    "maxProperties": 50,
    "description": "the sample contact (user.* in conditions and templates)",
    "properties": {
        "external_id": STR(191, 1),
        "first_name": STR(100),
        "last_name": STR(100),
        "email": {"type": ["string", "null"], "maxLength": 254},
        "phone": {"type": ["string", "null"], "maxLength": 40},
        "channel": {"type": ["string", "null"], "maxLength": 20},
        "tags": {"type": "array", "maxItems": 200, "items": STR(100, 1)},
        "fields": {"type": "object", "maxProperties": 200},
    },
}
TEST_RUN_BODY = {
    "type": "object",
    "required": ["graph"],
    "additionalProperties": False,
    "properties": {
        "graph": {"type": "object", "description": "a workflow-graph/v1 graph (saved or not)"},
        "event": EVENT,
        "contact": _CONTACT,
        "fast_forward": {
            "type": "boolean",
            "default": False,
            "description": "continue past waits as if their time had come",
        },
        "trigger_node_id": {**STR(100, 1), "description": "only this trigger (default: any)"},
        "workflow_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    },
}


def report_json(report) -> dict:
    """A validation report with each issue's param path also under ``path``."""
    out = report.to_dict()
    for issue in out["errors"] + out["warnings"]:
        if issue.get("field"):
            issue["path"] = issue["field"]
    return out


@operation(
    bp,
    "/workflows/validate/",
    "POST",
    role="editor",
    body={"type": "object"},
    response=VALIDATION_REF,
)
def validate_graph(body):
    """Validate a graph without saving it: every error names its node or edge id."""

    return jsonify(report_json(validation_report(body)))


@operation(
    bp, "/workflows/test-run/", "POST", role="editor", body=TEST_RUN_BODY, response=TEST_RUN_REF
)
def test_run_graph(body):
    """Run a (draft) graph in memory on a sample event and contact; nothing is sent or saved."""
    try:
        outcome = dry_run(
            body["graph"],
            body.get("event"),
            body.get("contact"),
            fast_forward=bool(body.get("fast_forward")),
            trigger_node_id=body.get("trigger_node_id"),
            workflow_id=body.get("workflow_id"),
            max_nodes=current_app.config.get("MAX_GRAPH_NODES", 500),
        )
    except DryRunInvalid as exc:
        first = exc.errors[0]
        raise ApiError(
            400,
            f"graph is not valid: {first['message']}",
            code="invalid_graph",
            field="graph",
            node_id=first.get("node_id"),
            errors=exc.errors,
        ) from None
    except BadSample as exc:
        raise ApiError(400, f"{exc.field}: {exc}", field=exc.field) from None
    return jsonify(redact(outcome))  # credential references, not markers


@operation(
    bp,
    "/workflows/<id:wf_id>/duplicate/",
    "POST",
    role="editor",
    response=WORKFLOW_REF,
    status=201,
    errors=(404,),
)
def duplicate_workflow(wf_id):
    """Copy a workflow into a new draft named "<name> (copy)"."""
    copy = versions.duplicate_workflow(get_or_404(Workflow, wf_id), current_principal())
    return created(workflow_json(copy, detail=True))
