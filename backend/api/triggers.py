"""``/triggers/``: the trigger nodes of every workflow; process an event; test a trigger."""

from __future__ import annotations

__all__ = ["bp", "trigger_json"]

from flask import Blueprint, jsonify
from sqlalchemy import select

from backend.api.common import ID, STR, get_or_404, paginate
from backend.api.schemas import EVENT, EVENT_TYPE_NAME
from backend.api.spec import component, operation
from backend.auth import current_principal
from backend.models import Trigger, Workflow, iso
from backend.runtime.ingest import accept_events, accept_single
from backend.services import nodes
from graph_engine import GraphEngineError, default_registry, explain

bp = Blueprint("triggers", __name__)


def _trigger_types() -> list[str]:
    return [t.type for t in default_registry.all() if t.category == "trigger"]


_TIME = {"type": ["string", "null"]}
TRIGGER_REF = component(
    "Trigger",
    {
        "type": "object",
        "required": ["id", "workflow_id", "node_id", "node_type", "event_type", "is_active"],
        "properties": {
            "id": {"type": "integer"},
            "workflow_id": {"type": "integer"},
            "workflow_name": {"type": "string"},
            "workflow_status": {"type": "string"},
            "node_id": {"type": "string"},
            "node_type": {"type": "string"},
            "event_type": {"type": "string"},
            "params": {"type": "object"},
            "filter": {},
            "is_active": {"type": "boolean"},
            "webhook_path": {"type": ["string", "null"]},
            "cron": {"type": ["string", "null"]},
            "timezone": {"type": ["string", "null"]},
            "next_fire_at": _TIME,
            "created_at": {"type": "string"},
            "updated_at": {"type": "string"},
        },
    },
)
CREATE = {
    "type": "object",
    "required": ["workflow_id", "type"],
    "additionalProperties": False,
    "properties": {
        "workflow_id": ID,
        "type": {"enum": _trigger_types()},
        "params": {"type": "object"},
        "node_id": STR(100, 1),
        "title": STR(200),
        "position": {
            "type": "object",
            "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        },
        "connect_to": {**STR(100, 1), "description": "add an edge from the trigger to this node"},
    },
}
TEST = {
    "type": "object",
    "required": ["event"],
    "additionalProperties": False,
    "properties": {
        "event": EVENT,
        "contact": {
            "type": "object",
            "description": "user.* for the test; default: "
            "the stored contact named by event.user_id",
        },
    },
}
ACCEPTED_REF = component(
    "EventAccepted",
    {
        "type": "object",
        "required": ["event_id", "status", "duplicate"],
        "properties": {
            "event_id": {"type": "integer"},
            "status": {"type": "string"},
            "duplicate": {"type": "boolean"},
            "idempotency_key": {"type": "string"},
        },
    },
)
#: Events per batch request: a 1 MB body holds ~1,000 small events.
MAX_BATCH = 1000
EVENTS = {
    "type": "object",
    "required": ["events"],
    "properties": {"events": {"type": "array", "maxItems": MAX_BATCH, "items": EVENT}},
    "additionalProperties": False,
}
BATCH_REF = component(
    "EventsAccepted",
    {
        "type": "object",
        "required": ["results"],
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "EventAccepted's fields, or ``error`` for a refused event.",
                    "properties": {
                        "event_id": {"type": "integer"},
                        "status": {"type": "string"},
                        "duplicate": {"type": "boolean"},
                        "idempotency_key": {"type": "string"},
                        "error": {"type": "object"},
                    },
                },
            }
        },
    },
)
TEST_REF = component(
    "TriggerTestResult",
    {
        "type": "object",
        "required": ["fires", "reason"],
        "properties": {"fires": {"type": "boolean"}, "reason": {"type": "object"}},
    },
)
LIST_QUERY = {
    "workflow": ID,
    "event_type": EVENT_TYPE_NAME,
    "is_active": {"type": "boolean"},
    "node_type": STR(64),
}


def trigger_json(row: Trigger) -> dict:
    node = nodes.find_node(row.workflow, row.node_id) or {}
    can_edit = (user := current_principal()) is not None and user.has_role("editor")
    return {
        "id": row.id,
        "workflow_id": row.workflow_id,
        "workflow_name": row.workflow.name,
        "workflow_status": row.workflow.status,
        "node_id": row.node_id,
        "node_type": row.node_type,
        "event_type": row.event_type,
        "params": node.get("params") or {},
        "filter": row.filter,
        "is_active": row.is_active,
        "webhook_path": f"/hooks/{row.webhook_key}" if row.webhook_key and can_edit else None,
        "cron": row.cron,
        "timezone": row.timezone,
        "next_fire_at": iso(row.next_fire_at),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


@operation(bp, "/triggers/", paginated=True, query=LIST_QUERY, response=TRIGGER_REF)
def list_triggers(query):
    """List the trigger nodes of all workflows (filter by workflow, event type, active)."""
    stmt = select(Trigger).order_by(Trigger.id)
    filters = {
        "workflow": Trigger.workflow_id,
        "event_type": Trigger.event_type,
        "is_active": Trigger.is_active,
        "node_type": Trigger.node_type,
    }
    for name, column in filters.items():
        if query.get(name) is not None:
            stmt = stmt.where(column == query[name])
    return jsonify(paginate(stmt, query, trigger_json))


@operation(bp, "/triggers/<id:trigger_id>/", response=TRIGGER_REF, errors=(404,))
def get_trigger(trigger_id):
    """One trigger."""
    return jsonify(trigger_json(get_or_404(Trigger, trigger_id)))


@operation(
    bp,
    "/triggers/",
    "POST",
    role="editor",
    body=CREATE,
    response=TRIGGER_REF,
    status=201,
    errors=(404, 409),
)
def create_trigger(body):
    """Add a trigger node to a workflow's graph (saved as a new version)."""
    workflow = get_or_404(Workflow, body["workflow_id"])
    node = nodes.add_node(workflow, body, current_principal(), connect_to=body.get("connect_to"))
    row = next(r for r in workflow.triggers if r.node_id == node["id"])
    return jsonify(trigger_json(row)), 201


@operation(
    bp,
    "/triggers/process_event/",
    "POST",
    role="editor",
    body=EVENT,
    status=202,
    response=ACCEPTED_REF,
    errors=(413,),
)
def process_event(body):
    """Accept an event: logged, then matched against active triggers in the background.

    A repeated ``event_id`` is not processed twice (``duplicate: true``).
    """
    return jsonify(accept_single(body, source="api")), 202


@operation(
    bp,
    "/triggers/process_events/",
    "POST",
    role="editor",
    body=EVENTS,
    status=202,
    response=BATCH_REF,
    errors=(413,),
)
def process_events(body):
    """Accept many events in one request; one result per event, in order.

    Each event has its own idempotency key (``event_id``) and its own result: accepted,
    ``duplicate``, or an ``error`` naming the field (the other events are still accepted).
    """
    return jsonify({"results": accept_events(body["events"], source="api")}), 202


@operation(
    bp,
    "/triggers/<id:trigger_id>/test/",
    "POST",
    role="editor",
    body=TEST,
    response=TEST_REF,
    errors=(404,),
)
def test_trigger(trigger_id, body):
    """Would this sample event fire this trigger? Answers with the reason tree."""

    row = get_or_404(Trigger, trigger_id)
    context = nodes.sample_context(row.workflow, body["event"], body.get("contact"))
    event_type = context["event"]["type"]
    if event_type != row.event_type:
        reason = {
            "result": False,
            "op": "event_type",
            "actual": event_type,
            "expected": row.event_type,
        }
        return jsonify({"fires": False, "reason": reason})
    if not row.filter:
        return jsonify(
            {
                "fires": True,
                "reason": {
                    "result": True,
                    "op": "event_type",
                    "actual": event_type,
                    "detail": "no filter",
                },
            }
        )
    try:
        tree = explain(row.filter, context)
    except GraphEngineError as exc:
        tree = {"result": False, "error": str(exc)}
    return jsonify({"fires": bool(tree.get("result")), "reason": tree})
