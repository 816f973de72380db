"""The templates gallery: ready workflows a marketer creates in one click.

Each template is a valid ``workflow-graph/v1`` graph plus a key, a name, a description and the
custom event types its triggers listen to (registered when the template is used, so the first
event is accepted). The two samples that ``make run`` creates (coupon, welcome) are defined here.
"""

from __future__ import annotations

__all__ = ["SAMPLE_KEYS", "TEMPLATE_KEYS", "templates", "get_template", "create_from_template"]

from sqlalchemy import select

from backend.extensions import db
from backend.models import EventType, Workflow
from backend.services import workflows as service

FORMAT = "workflow-graph/v1"


def _graph(name: str, settings: dict, nodes: list[tuple], chain: list[tuple]) -> dict:
    """A graph from ``(id, type, params)`` nodes laid out top to bottom and
    ``(source, target[, port])`` edges."""
    return {
        "format": FORMAT,
        "name": name,
        "settings": settings,
        "nodes": [
            {"id": nid, "type": ntype, "position": {"x": 0, "y": 120 * i}, "params": params}
            for i, (nid, ntype, params) in enumerate(nodes)
        ],
        "edges": [
            {
                "id": f"e{i + 1}",
                "source": edge[0],
                "target": edge[1],
                **({"source_port": edge[2]} if len(edge) > 2 else {}),
            }
            for i, edge in enumerate(chain)
        ],
    }


def _coupon_graph() -> dict:
    return {
        "format": "workflow-graph/v1",
        "name": "Coupon request",
        "settings": {
            "reentry": "always",
            "max_runs_per_contact_per_day": 3,
            "timezone": "Asia/Tehran",
        },
        "nodes": [
            {
                "id": "trigger",
                "type": "trigger.message_received",
                "position": {"x": 0, "y": 0},
                "params": {"keywords": ["کد تخفیف", "coupon", "discount"]},
            },
            {
                "id": "interested",
                "type": "logic.condition",
                "position": {"x": 320, "y": 0},
                "params": {
                    "rules": {
                        "all": [{"field": "user.tags", "op": "contains", "value": "interested"}]
                    }
                },
            },
            {
                "id": "send",
                "type": "action.send_message",
                "position": {"x": 640, "y": 0},
                "params": {"text": "{{ user.first_name }} عزیز، کد تخفیف شما: SAVE10 🎁"},
            },
            {
                "id": "tag",
                "type": "action.add_tag",
                "position": {"x": 960, "y": 0},
                "params": {"tag": "coupon_sent"},
            },
            {
                "id": "wait",
                "type": "flow.wait",
                "position": {"x": 1280, "y": 0},
                "params": {"minutes": 10},
            },
            {
                "id": "mail",
                "type": "action.send_email",
                "position": {"x": 1600, "y": 0},
                "params": {
                    "subject": "Your coupon is waiting",
                    "body": "Hi {{ user.first_name }}, your code SAVE10 is valid this week.",
                },
            },
        ],
        "edges": [
            {"id": "e1", "source": "trigger", "target": "interested"},
            {"id": "e2", "source": "interested", "source_port": "true", "target": "send"},
            {"id": "e3", "source": "send", "target": "tag"},
            {"id": "e4", "source": "tag", "target": "wait"},
            {"id": "e5", "source": "wait", "target": "mail"},
        ],
    }


def _welcome_graph() -> dict:
    return {
        "format": "workflow-graph/v1",
        "name": "Welcome new users",
        "settings": {"reentry": "once", "timezone": "Asia/Tehran"},
        "nodes": [
            {
                "id": "trigger",
                "type": "trigger.user_created",
                "position": {"x": 0, "y": 0},
                "params": {},
            },
            {
                "id": "welcome",
                "type": "action.send_message",
                "position": {"x": 320, "y": 0},
                "params": {"text": "سلام {{ user.first_name }}! به جمع ما خوش آمدید 🌱"},
            },
            {
                "id": "tag",
                "type": "action.add_tag",
                "position": {"x": 640, "y": 0},
                "params": {"tag": "welcomed"},
            },
        ],
        "edges": [
            {"id": "e1", "source": "trigger", "target": "welcome"},
            {"id": "e2", "source": "welcome", "target": "tag"},
        ],
    }


def _has_not(tag: str) -> dict:
    return {"not": {"field": "user.tags", "op": "contains", "value": tag}}


def _abandoned_cart() -> dict:
    return _graph(
        "Abandoned cart nudge",
        {"reentry": "once_per_hours", "reentry_hours": 24, "timezone": "UTC"},
        [
            ("trigger", "trigger.event", {"event_type": "CART_ABANDONED"}),
            ("wait", "flow.wait", {"hours": 1}),
            ("still_open", "logic.condition", {"rules": {"all": [_has_not("purchased")]}}),
            (
                "nudge",
                "action.send_message",
                {"text": "{{ user.first_name }}, your cart is still waiting for you 🛒"},
            ),
            ("tag", "action.add_tag", {"tag": "cart_nudged"}),
        ],
        [
            ("trigger", "wait"),
            ("wait", "still_open"),
            ("still_open", "nudge", "true"),
            ("nudge", "tag"),
        ],
    )


def _reengagement() -> dict:
    return _graph(
        "Re-engagement after 30 days",
        {"reentry": "always", "timezone": "UTC"},
        [
            ("trigger", "trigger.event", {"event_type": "ORDER_PAID"}),
            (
                "mark",
                "action.update_user",
                {"changes": {"fields.last_order_id": "{{ event.data.order_id }}"}},
            ),
            ("wait", "flow.wait", {"days": 30}),
            (
                "quiet",
                "logic.condition",
                {
                    "rules": {
                        "all": [
                            {
                                "code": (
                                    "return user['fields'].get('last_order_id') == event['data'].get('order_id')"
                                )
                            }
                        ]
                    }
                },
            ),
            (
                "comeback",
                "action.send_message",
                {"text": "We miss you, {{ user.first_name }}! Here is 15% off: BACK15"},
            ),
            ("tag", "action.add_tag", {"tag": "reengaged"}),
        ],
        [
            ("trigger", "mark"),
            ("mark", "wait"),
            ("wait", "quiet"),
            ("quiet", "comeback", "true"),
            ("comeback", "tag"),
        ],
    )


def _birthday() -> dict:
    return _graph(
        "Birthday greeting",
        {"reentry": "once_per_hours", "reentry_hours": 8000, "timezone": "UTC"},
        [
            ("trigger", "trigger.event", {"event_type": "CONTACT_BIRTHDAY"}),
            (
                "greet",
                "action.send_message",
                {"text": "Happy birthday, {{ user.first_name }}! 🎂 A gift for you: BDAY20"},
            ),
            (
                "mail",
                "action.send_email",
                {
                    "subject": "Happy birthday!",
                    "body": "Hi {{ user.first_name }}, enjoy 20% off with BDAY20.",
                },
            ),
            ("tag", "action.add_tag", {"tag": "birthday_greeted"}),
        ],
        [("trigger", "greet"), ("greet", "mail"), ("mail", "tag")],
    )


def _survey() -> dict:
    return _graph(
        "Satisfaction survey",
        {"reentry": "once_per_hours", "reentry_hours": 720, "timezone": "UTC"},
        [
            ("trigger", "trigger.conversation_status_changed", {"to": "closed"}),
            ("wait", "flow.wait", {"hours": 2}),
            (
                "ask",
                "action.send_message",
                {"text": "{{ user.first_name }}, how did we do? Reply with a number from 1 to 5."},
            ),
            ("tag", "action.add_tag", {"tag": "survey_sent"}),
        ],
        [("trigger", "wait"), ("wait", "ask"), ("ask", "tag")],
    )


def _catalogue() -> list[tuple[str, str, str, dict]]:
    return [
        (
            "coupon",
            "Coupon request",
            "Sends a coupon to interested customers who ask for one, tags them "
            "coupon_sent and follows up by email 10 minutes later.",
            _coupon_graph(),
        ),
        (
            "welcome",
            "Welcome new users",
            "Greets every new customer in Persian and tags them welcomed.",
            _welcome_graph(),
        ),
        (
            "abandoned_cart",
            "Abandoned cart nudge",
            "An hour after CART_ABANDONED, nudges the "
            "contact unless they are tagged purchased meanwhile.",
            _abandoned_cart(),
        ),
        (
            "reengagement",
            "Re-engagement after 30 days",
            "30 days after an ORDER_PAID with no newer order, sends a come-back offer.",
            _reengagement(),
        ),
        (
            "birthday",
            "Birthday greeting",
            "On CONTACT_BIRTHDAY (sent daily by your platform), a "
            "message and an e-mail with a gift code, once a year.",
            _birthday(),
        ),
        (
            "survey",
            "Satisfaction survey",
            "Two hours after a conversation is closed, asks the contact to rate the service.",
            _survey(),
        ),
    ]


#: The templates ``make run`` creates and activates on first start (the README's examples).
SAMPLE_KEYS = ("coupon", "welcome")
TEMPLATE_KEYS = tuple(key for key, *_ in _catalogue())


def _event_types(graph: dict) -> list[str]:
    return sorted(
        {n["params"]["event_type"] for n in graph["nodes"] if n["type"] == "trigger.event"}
    )


def templates() -> list[dict]:
    """Every template: ``{key, name, description, graph, event_types}``."""
    return [
        {
            "key": key,
            "name": name,
            "description": desc,
            "graph": graph,
            "event_types": _event_types(graph),
        }
        for key, name, desc, graph in _catalogue()
    ]


def get_template(key: str) -> dict | None:
    """One template by key, or None."""
    return next((t for t in templates() if t["key"] == key), None)


def create_from_template(template: dict, name: str | None, user=None) -> Workflow:
    """A new draft workflow from ``template``; its custom event types are registered."""
    for event_type in template["event_types"]:
        if db.session.scalar(select(EventType.id).where(EventType.name == event_type)) is None:
            db.session.add(
                EventType(
                    name=event_type,
                    description=f"Used by the {template['name']!r} template.",
                    is_builtin=False,
                )
            )
    graph = dict(template["graph"], name=name or template["name"])
    return service.create_workflow(graph["name"], template["description"], graph, user)
