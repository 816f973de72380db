"""Webhook triggers: ``POST /hooks/<webhook_key>`` starts the workflow with the posted body.

Each ``trigger.webhook`` node gets its own secret key when the workflow is saved (shown by the
``/triggers/`` API); the key *is* the credential, so the endpoint takes no other auth. The body
(JSON, form or text, at most ``MAX_EVENT_BYTES``) becomes ``event.data.body``; an
``Idempotency-Key`` header (or ``event_id`` in a JSON body) makes retries by the sender safe.
Errors are the API's JSON bodies; calls are rate-limited per address and key
(``HOOK_RATE_LIMIT_PER_MINUTE``, :mod:`backend.security`). The event is stored like the API's
single events (:func:`~backend.runtime.ingest.accept_single`: one autocommitted INSERT, no ORM
object), and the trigger is read as three columns.
"""

from __future__ import annotations

__all__ = ["bp", "OPENAPI_PATH"]

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import bindparam, select

from backend.api.validation import check_text, load_json
from backend.extensions import csrf, db
from backend.models import Trigger
from backend.runtime.ingest import IngestError, accept_single
from backend.services.redaction import redact

bp = Blueprint("hooks", __name__)
csrf.exempt(bp)

_FORWARDED_HEADERS = ("Content-Type", "User-Agent", "X-Request-Id")

#: This endpoint in the OpenAPI document (it lives outside the API prefix, keyed by its URL).
OPENAPI_PATH = {
    "post": {
        "operationId": "hooks.receive",
        "tags": ["webhooks"],
        "security": [],
        "summary": "Start a workflow's webhook trigger with the posted body.",
        "description": "The URL of each `trigger.webhook` node (its `webhook_url` in `/triggers/`). "
        "The body (JSON, form or text, at most MAX_EVENT_BYTES) becomes "
        "`event.data.body`; `user_id` / `conversation_id` in a JSON body name the "
        "contact; an `Idempotency-Key` header makes the sender's retries safe.",
        "parameters": [
            {"name": "webhook_key", "in": "path", "required": True, "schema": {"type": "string"}},
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 191},
            },
        ],
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
        "responses": {
            "202": {
                "description": "Accepted: the event is logged and will be processed",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["event_id", "status", "created"],
                            "properties": {
                                "event_id": {"type": "integer"},
                                "idempotency_key": {"type": "string"},
                                "status": {"type": "string"},
                                "created": {"type": "boolean"},
                            },
                        }
                    }
                },
            },
            "404": {"description": "No active webhook trigger at this URL"},
            "413": {"description": "Body too large"},
        },
    }
}


#: The trigger a webhook key starts: three columns, no ORM object (read on every call).
_TRIGGER = select(Trigger.workflow_id, Trigger.node_id, Trigger.is_active).where(
    Trigger.webhook_key == bindparam("key")
)


def _error(status: int, code: str, detail: str):
    return jsonify({"detail": detail, "code": code}), status


def _body():
    """The posted body; malformed or absurdly nested JSON is a 400 like the API's."""
    if request.is_json:
        if not request.get_data().strip():
            return None
        data = load_json(request.get_data())
        check_text(data, "body")
        return data
    if request.form:
        return request.form.to_dict()
    return request.get_data(as_text=True)


@bp.post("/hooks/<webhook_key>")
def receive(webhook_key: str):
    """Accept a webhook call for an active ``trigger.webhook`` node (202 with the event id)."""
    trigger = db.session.execute(_TRIGGER, {"key": webhook_key[:64]}).first()
    if trigger is None or not trigger.is_active:
        return _error(404, "not_found", "no active webhook trigger at this URL")
    limit = current_app.config["MAX_EVENT_BYTES"]
    if (request.content_length or 0) > limit or len(request.get_data()) > limit:
        return _error(413, "payload_too_large", f"the body exceeds {limit} bytes")
    body = _body()
    fields = body if isinstance(body, dict) else {}
    headers = {k: v for k, v in request.headers.items() if k in _FORWARDED_HEADERS}
    payload = {
        "event_type": "WEBHOOK_RECEIVED",
        "data": {"body": body, "query": request.args.to_dict(), "headers": redact(headers)},
        "user_id": fields.get("user_id"),
        "conversation_id": fields.get("conversation_id"),
        "event_id": request.headers.get("Idempotency-Key") or fields.get("event_id"),
    }
    try:
        accepted = accept_single(
            payload,
            source="webhook",
            workflow_id=trigger.workflow_id,
            trigger_node_id=trigger.node_id,
        )
    except IngestError as exc:
        return _error(exc.status_code, exc.code, exc.message)
    return jsonify(
        {
            "event_id": accepted["event_id"],
            "idempotency_key": accepted["idempotency_key"],
            "status": accepted["status"],
            "created": not accepted["duplicate"],
        }
    ), 202
