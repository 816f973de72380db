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
from backend.services.templates import SAMPLE_KEYS, templates

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


def sample_graphs() -> dict[str, tuple[str, dict]]:
    """The two standard examples, taken from the templates gallery: name -> (description, graph)."""
    return {
        template["name"]: (template["description"], template["graph"])
        for template in templates()
        if template["key"] in SAMPLE_KEYS
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
