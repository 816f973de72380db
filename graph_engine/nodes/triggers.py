"""Trigger node types: where a run starts.

A trigger declares the event type it listens to and a filter on the event context; the backend
indexes them with :func:`graph_engine.registry.trigger_spec` and :mod:`graph_engine.matching`.
When a run starts, the trigger node itself just records which event started it.

Event data conventions for the standard events: ``MESSAGE_RECEIVED`` carries
``data.content``; ``TAG_ADDED`` carries ``data.tag``; ``CONVERSATION_STATUS_CHANGED`` carries
``data.from_status`` and ``data.to_status``; targeted events (``SCHEDULE``, ``MANUAL``,
``WEBHOOK_RECEIVED``) may carry ``data.workflow_id`` / ``data.node_id`` to address one trigger.

The status-change trigger's params are named like the event's data (``from_status``,
``to_status``); the older ``from`` / ``to`` are still read from stored graphs.

>>> _status_change({"from_status": "open", "to_status": "closed"})[1]
{'field': 'event.data.to_status', 'op': 'equals', 'value': 'closed'}
>>> _status_change({"from": "open"})
[{'field': 'event.data.from_status', 'op': 'equals', 'value': 'open'}]
>>> next_schedule({"cron": "30 9 * * *"}, datetime(2024, 1, 1, tzinfo=UTC), "Asia/Tehran")
datetime.datetime(2024, 1, 1, 6, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

__all__ = ["NODE_TYPES", "next_schedule", "valid_timezone"]

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from graph_engine.errors import NodeError
from graph_engine.nodes import RULES_REF, NodeCall, NodeResult, rules_schema
from graph_engine.registry import NodeType

_FILTER = {
    **RULES_REF,
    "title": "Filter",
    "description": "Conditions on the event context (event.*, user.*, conversation.*).",
}


def _run(call: NodeCall) -> NodeResult:
    problem = (call.context.get("user") or {}).get("lookup_error")
    if problem:  # the contact could not be looked up (a contact adapter): say so on this step
        raise NodeError(call.node_id, str(problem))
    event = call.context.get("event") or {}
    return NodeResult({"event_id": event.get("id"), "event_type": event.get("type")})


def valid_timezone(name: object) -> bool:
    """Whether ``name`` is an IANA timezone name known to zoneinfo.

    >>> valid_timezone("Asia/Tehran"), valid_timezone("Mars/Olympus")
    (True, False)
    """
    if not isinstance(name, str) or not name or ".." in name or name.startswith("/"):
        return False
    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        return False
    return True


def _keywords(params: dict) -> list[dict]:
    words = params.get("keywords")
    return [{"any": [_leaf("event.data.content", "icontains", k) for k in words]}] if words else []


def _tag(params: dict) -> list[dict]:
    return [_leaf("event.data.tag", "equals", params["tag"])] if params.get("tag") else []


def _status_change(params: dict) -> list[dict]:
    parts = []
    for name, legacy in (("from_status", "from"), ("to_status", "to")):
        value = params.get(name) or params.get(legacy)
        if value:
            parts.append(_leaf(f"event.data.{name}", "equals", value))
    return parts


def _leaf(path: str, op: str, value) -> dict:
    return {"field": path, "op": op, "value": value}


def next_schedule(params: dict, after: datetime, timezone: str = "UTC") -> datetime:
    """The next time (aware, UTC) a ``trigger.schedule`` with these params fires after ``after``."""
    tz = ZoneInfo(params.get("timezone") or timezone)
    fire = croniter(params["cron"], after.astimezone(tz)).get_next(datetime)
    return fire.astimezone(UTC)


def _check_schedule(params: dict) -> list[tuple[str, str]]:
    problems = []
    cron = params.get("cron")
    if isinstance(cron, str) and not croniter.is_valid(cron):
        problems.append(("cron", f"invalid cron expression {cron!r}"))
    tz = params.get("timezone")
    if tz is not None and not valid_timezone(tz):
        problems.append(("timezone", f"unknown timezone {tz!r}"))
    return problems


def _schema(properties: dict | None = None, required: tuple = (), with_filter: bool = True) -> dict:
    props = dict(properties or {})
    if with_filter:
        props["filter"] = _FILTER
    schema = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return rules_schema(schema)


def _trigger(type_name, title, description, icon, event_type, schema, **extra) -> NodeType:
    return NodeType(
        type=type_name,
        category="trigger",
        title=title,
        description=description,
        icon=icon,
        params_schema=schema,
        run=_run,
        inputs=(),
        outputs=("out",),
        event_type=event_type,
        rule_fields=("filter",),
        error_port=False,
        **extra,
    )


_KEYWORDS = {
    "type": "array",
    "title": "Keywords",
    "description": "Fires when the message contains any of these words (case-insensitive).",
    "items": {"type": "string", "minLength": 1, "maxLength": 200},
    "maxItems": 100,
    "default": [],
}
_STATUS = {"type": "string", "maxLength": 64}

NODE_TYPES = [
    _trigger(
        "trigger.message_received",
        "Message received",
        "Starts when a customer sends a message (optionally containing keywords).",
        "message-circle",
        "MESSAGE_RECEIVED",
        _schema({"keywords": _KEYWORDS}),
        filter_parts=_keywords,
    ),
    _trigger(
        "trigger.user_created",
        "New contact",
        "Starts when a new contact is created.",
        "user-plus",
        "USER_CREATED",
        _schema(),
    ),
    _trigger(
        "trigger.tag_added",
        "Tag added",
        "Starts when a tag is added to a contact.",
        "tag",
        "TAG_ADDED",
        _schema(
            {
                "tag": {
                    "type": "string",
                    "title": "Tag",
                    "maxLength": 100,
                    "description": "Only this tag (empty: any tag).",
                }
            }
        ),
        filter_parts=_tag,
    ),
    _trigger(
        "trigger.tag_removed",
        "Tag removed",
        "Starts when a tag is removed from a contact.",
        "tag",
        "TAG_REMOVED",
        _schema(
            {
                "tag": {
                    "type": "string",
                    "title": "Tag",
                    "maxLength": 100,
                    "description": "Only this tag (empty: any tag).",
                }
            }
        ),
        filter_parts=_tag,
    ),
    _trigger(
        "trigger.conversation_status_changed",
        "Conversation status changed",
        "Starts when a conversation changes status (optionally from / to given statuses).",
        "refresh-cw",
        "CONVERSATION_STATUS_CHANGED",
        _schema(
            {
                "from_status": {**_STATUS, "title": "From status"},
                "to_status": {**_STATUS, "title": "To status"},
                "from": {
                    **_STATUS,
                    "title": "From status (old name)",
                    "deprecated": True,
                    "description": "Use from_status.",
                },
                "to": {
                    **_STATUS,
                    "title": "To status (old name)",
                    "deprecated": True,
                    "description": "Use to_status.",
                },
            }
        ),
        filter_parts=_status_change,
    ),
    _trigger(
        "trigger.event",
        "Custom event",
        "Starts on any named event sent to the API.",
        "zap",
        lambda params: params.get("event_type"),
        _schema(
            {
                "event_type": {
                    "type": "string",
                    "title": "Event type",
                    "pattern": "^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$",
                    "maxLength": 64,
                    "description": "UPPER_SNAKE name, e.g. ORDER_PAID.",
                }
            },
            required=("event_type",),
        ),
    ),
    _trigger(
        "trigger.webhook",
        "Webhook",
        "Starts when the workflow's webhook URL receives a POST.",
        "globe",
        "WEBHOOK_RECEIVED",
        _schema(),
        targeted=True,
    ),
    _trigger(
        "trigger.schedule",
        "Schedule",
        "Starts on a cron schedule.",
        "clock",
        "SCHEDULE",
        _schema(
            {
                "cron": {
                    "type": "string",
                    "title": "Cron expression",
                    "maxLength": 100,
                    "description": "Five-field cron, e.g. '0 9 * * mon'.",
                },
                "timezone": {
                    "type": "string",
                    "title": "Timezone",
                    "description": "IANA name; default: the workflow's timezone.",
                },
                "target_tag": {
                    "type": "string",
                    "title": "For each contact tagged",
                    "maxLength": 100,
                    "description": "One run per contact with "
                    "this tag (empty: one run, without a contact).",
                },
                "target_rules": {
                    **RULES_REF,
                    "title": "For each contact matching",
                    "description": "Rules on user.* choosing the contacts.",
                },
            },
            required=("cron",),
            with_filter=False,
        ),
        check=_check_schedule,
        targeted=True,
        next_fire=next_schedule,
        contactless=lambda params: not (params.get("target_tag") or params.get("target_rules")),
    ),
    _trigger(
        "trigger.manual",
        "Manual",
        "Starts when someone runs the workflow by hand.",
        "play",
        "MANUAL",
        _schema(with_filter=False),
        targeted=True,
    ),
]
