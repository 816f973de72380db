"""Action node types: everything that changes the world, always through the effects object.

Each run renders its template params against the context, calls one effects method (passing
``call.idempotency_key`` where a duplicate would be visible to the customer) and returns the
effect's result as its output. Actions that change the contact (tags, fields) or the
conversation return it in ``NodeResult.updates`` (``{"user": ...}`` / ``{"conversation": ...}``);
the interpreter writes those into the context so later nodes see the change.
"""

from __future__ import annotations

__all__ = ["NODE_TYPES", "SEND_RETRY"]

from graph_engine.effects import CHANNELS
from graph_engine.errors import EffectError, NodeError
from graph_engine.nodes import NodeCall, NodeResult
from graph_engine.registry import NodeType

#: Default retry policy of actions that talk to an outside service.
SEND_RETRY = {"max_attempts": 3, "backoff_seconds": 30, "backoff_factor": 2}


def _text(title: str, description: str = "", max_length: int = 10_000) -> dict:
    return {"type": "string", "title": title, "description": description, "maxLength": max_length}


def _schema(properties: dict, required: tuple = ()) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def _send_message(call: NodeCall) -> NodeResult:
    params = call.render(call.params)
    channel = params.get("channel") or call.contact.get("channel") or None
    payload = {
        "to": str(call.contact.get("external_id") or ""),
        "channel": channel,
        "text": params["text"],
    }
    receipt = call.effects.send(call.outbound("message", payload))
    return NodeResult({"channel": channel, "text": params["text"], **receipt}, input=params)


def _send_email(call: NodeCall) -> NodeResult:
    params = call.render(call.params)
    to = params.get("to") or call.contact.get("email")
    if not to:
        raise EffectError("the contact has no email address", retryable=False)
    subject = params.get("subject", "")
    payload = {
        "to": to,
        "subject": subject,
        "body": params.get("body", ""),
        "html": bool(params.get("html", False)),
    }
    receipt = call.effects.send(call.outbound("email", payload, conversation=None))
    return NodeResult({"to": to, "subject": subject, **receipt}, input=params)


def _tagger(method: str):
    def run(call: NodeCall) -> NodeResult:
        params = call.render(call.params)
        tag = str(params["tag"]).strip()
        if not tag:
            raise NodeError(call.node_id, "the tag rendered empty")
        contact = getattr(call.effects, method)(call.contact, tag)
        output = {"tag": tag, "tags": list(contact.get("tags") or [])}
        return NodeResult(output, input=params, updates={"user": contact})

    return run


def _update_user(call: NodeCall) -> NodeResult:
    params = call.render(call.params)
    contact = call.effects.update_user(call.contact, params["changes"])
    return NodeResult({"changes": params["changes"]}, input=params, updates={"user": contact})


def _add_note(call: NodeCall) -> NodeResult:
    params = call.render(call.params)
    return NodeResult(
        call.effects.add_note(call.contact, call.conversation, params["text"]), input=params
    )


def _set_status(call: NodeCall) -> NodeResult:
    params = call.render(call.params)
    conversation = call.effects.set_conversation_status(call.conversation, params["status"])
    output = {"status": params["status"]}
    return NodeResult(output, input=params, updates={"conversation": conversation})


def _webhook(call: NodeCall) -> NodeResult:
    params = call.render(call.params)
    request = call.outbound(
        "webhook",
        {"method": params.get("method", "POST"), "url": params["url"], "body": params.get("body")},
        options={
            "headers": params.get("headers") or {},
            "timeout": float(params.get("timeout", 10)),
        },
        once=False,
        effect="http_request",
        contact=None,
        conversation=None,
    )
    response = call.effects.send(request)
    status = response.get("status", 0)
    if params.get("fail_on_status", True) and not 200 <= status < 400:
        retryable = status >= 500 or status in (408, 429)
        raise NodeError(call.node_id, f"webhook answered HTTP {status}", retryable=retryable)
    return NodeResult(response, input=params)


def _custom_code(call: NodeCall) -> NodeResult:
    timeout = float(call.params.get("timeout", 2.0))
    result = call.effects.run_code(call.params["code"], call.context, timeout=timeout)
    return NodeResult(result, input={"timeout": timeout})


_CHANNEL = {
    "type": "string",
    "title": "Channel",
    "enum": list(CHANNELS),
    "description": "Default: the contact's own channel.",
}
_TAG = _text("Tag", "Tag name (a template is allowed).", 100)
_CHANGES = {
    "type": "object",
    "title": "Changes",
    "minProperties": 1,
    "maxProperties": 50,
    "description": "Contact attributes to set, e.g. first_name or fields.score; "
    "values are templates.",
    "propertyNames": {
        "pattern": "^(first_name|last_name|email|phone|channel|fields\\.[A-Za-z0-9_]{1,64})$"
    },
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
}
_HEADERS = {
    "type": "object",
    "title": "Headers",
    "maxProperties": 50,
    "additionalProperties": {"type": "string", "maxLength": 4000},
}


def _action(type_name, title, description, icon, run, schema, **extra) -> NodeType:
    return NodeType(
        type=type_name,
        category="action",
        title=title,
        description=description,
        icon=icon,
        params_schema=schema,
        run=run,
        **extra,
    )


NODE_TYPES = [
    _action(
        "action.send_message",
        "Send message",
        "Send a message to the contact.",
        "send",
        _send_message,
        _schema(
            {
                "text": {
                    **_text("Text", "Message template, e.g. 'Hi {{ user.first_name }}'"),
                    "minLength": 1,
                },
                "channel": _CHANNEL,
            },
            ("text",),
        ),
        retry=dict(SEND_RETRY),
        template_fields=("text",),
        needs_contact=True,
    ),
    _action(
        "action.send_email",
        "Send email",
        "Send an email to the contact (or 'to').",
        "mail",
        _send_email,
        _schema(
            {
                "subject": _text("Subject", "", 500),
                "body": _text("Body", "", 100_000),
                "to": _text("To", "Default: the contact's email.", 320),
                "html": {"type": "boolean", "title": "HTML body", "default": False},
            },
            ("subject", "body"),
        ),
        retry=dict(SEND_RETRY),
        template_fields=("subject", "body", "to"),
    ),
    _action(
        "action.add_tag",
        "Add tag",
        "Add a tag to the contact.",
        "tag",
        _tagger("add_tag"),
        _schema({"tag": {**_TAG, "minLength": 1}}, ("tag",)),
        template_fields=("tag",),
        needs_contact=True,
    ),
    _action(
        "action.remove_tag",
        "Remove tag",
        "Remove a tag from the contact.",
        "tag-off",
        _tagger("remove_tag"),
        _schema({"tag": {**_TAG, "minLength": 1}}, ("tag",)),
        template_fields=("tag",),
        needs_contact=True,
    ),
    _action(
        "action.update_user",
        "Update contact",
        "Set contact attributes or custom fields.",
        "user-check",
        _update_user,
        _schema({"changes": _CHANGES}, ("changes",)),
        template_fields=("changes",),
        needs_contact=True,
    ),
    _action(
        "action.add_note",
        "Add note",
        "Attach an internal note to the conversation.",
        "file-text",
        _add_note,
        _schema({"text": {**_text("Text"), "minLength": 1}}, ("text",)),
        template_fields=("text",),
    ),
    _action(
        "action.webhook",
        "Call webhook",
        "Send an HTTP request to another service.",
        "link",
        _webhook,
        _schema(
            {
                "method": {
                    "type": "string",
                    "title": "Method",
                    "default": "POST",
                    "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"],
                },
                "url": {
                    **_text("URL", "http(s) URL (a template is allowed).", 2000),
                    "minLength": 1,
                },
                "headers": _HEADERS,
                "body": {
                    "title": "Body",
                    "description": "A template string or a JSON value whose strings are templates.",
                },
                "timeout": {
                    "type": "number",
                    "title": "Timeout (s)",
                    "default": 10,
                    "exclusiveMinimum": 0,
                    "maximum": 60,
                },
                "fail_on_status": {
                    "type": "boolean",
                    "default": True,
                    "title": "Fail on HTTP error status",
                },
            },
            ("url",),
        ),
        retry=dict(SEND_RETRY),
        template_fields=("url", "headers", "body"),
        url_fields=("url",),
        header_fields=("headers",),
    ),
    _action(
        "action.set_conversation_status",
        "Set conversation status",
        "Open, close or park the conversation.",
        "flag",
        _set_status,
        _schema(
            {"status": {**_text("Status", "e.g. open, closed, pending", 64), "minLength": 1}},
            ("status",),
        ),
        template_fields=("status",),
    ),
    _action(
        "action.custom_code",
        "Custom code",
        "Run sandboxed Python; its returned value becomes the node output.",
        "code",
        _custom_code,
        _schema(
            {
                "code": {
                    **_text("Code", "Python; return a value or assign `result`.", 50_000),
                    "minLength": 1,
                },
                "timeout": {
                    "type": "number",
                    "title": "Timeout (s)",
                    "default": 2,
                    "exclusiveMinimum": 0,
                    "maximum": 10,
                },
            },
            ("code",),
        ),
        code_fields=("code",),
    ),
]
