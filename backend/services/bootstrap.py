"""First-run setup: the standard event types, the two sample workflows, the first admin.

All three are idempotent: running them again changes nothing that already exists.
"""

from __future__ import annotations

__all__ = [
    "STANDARD_EVENT_TYPES",
    "seed_event_types",
    "setup_sample_workflows",
    "sample_graphs",
    "ensure_first_admin",
    "create_user",
]

import secrets

from flask import current_app
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import ROLES, EventType, User, Workflow
from backend.services import workflows as service

STANDARD_EVENT_TYPES = {
    "MESSAGE_RECEIVED": "A customer sent a message (data.content holds the text).",
    "USER_CREATED": "A new customer registered on the platform.",
    "TAG_ADDED": "A tag was added to a contact (data.tag).",
    "TAG_REMOVED": "A tag was removed from a contact (data.tag).",
    "CONVERSATION_STATUS_CHANGED": "A conversation changed status (data.from_status, data.to_status).",
    "WEBHOOK_RECEIVED": "A workflow's webhook URL received a POST.",
    "SCHEDULE": "A schedule trigger fired.",
    "MANUAL": "Someone ran a workflow by hand.",
}


def seed_event_types() -> int:
    """Create the standard event types that are missing; returns how many were created."""
    existing = set(db.session.scalars(select(EventType.name)))
    missing = [name for name in STANDARD_EVENT_TYPES if name not in existing]
    for name in missing:
        db.session.add(
            EventType(name=name, description=STANDARD_EVENT_TYPES[name], is_builtin=True)
        )
    db.session.commit()
    return len(missing)


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


def sample_graphs() -> dict[str, tuple[str, dict]]:
    """The two standard examples: name -> (description, graph)."""
    return {
        "Coupon request": (
            "Sends a coupon to interested customers who ask for one, tags them "
            "coupon_sent and follows up by email 10 minutes later.",
            _coupon_graph(),
        ),
        "Welcome new users": (
            "Greets every new customer in Persian and tags them welcomed.",
            _welcome_graph(),
        ),
    }


def setup_sample_workflows(activate: bool = True) -> list[Workflow]:
    """Create (and activate) the sample workflows that don't exist yet, by name."""

    seed_event_types()
    created = []
    for name, (description, graph) in sample_graphs().items():
        if db.session.scalar(select(Workflow.id).where(Workflow.name == name)) is not None:
            continue
        workflow = service.create_workflow(name, description, graph)
        if activate:
            service.activate(workflow)
        created.append(workflow)
    return created


def create_user(email: str, password: str, role: str = "viewer") -> User:
    """Create a user (ValueError for a bad role, an existing email or a short password)."""
    email = email.strip().lower()
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise ValueError("the password needs at least 8 characters")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise ValueError(f"a user with email {email} already exists")
    user = User(email=email, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def ensure_first_admin() -> str | None:
    """When there is no user at all, create an admin and return how to log in (else None)."""
    if db.session.scalar(select(func.count()).select_from(User)):
        return None
    email = current_app.config.get("ADMIN_EMAIL") or "admin@example.com"
    password = secrets.token_urlsafe(12)
    create_user(email, password, "admin")
    host, port = current_app.config.get("HOST", "127.0.0.1"), current_app.config.get("PORT", 8000)
    return (
        f"Created the first admin account.\n  Sign in at http://{host}:{port}/login\n"
        f"  email:    {email}\n  password: {password}\n"
        "  (change it in /admin/ -> Users; this password is not shown again)"
    )
