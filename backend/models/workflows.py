"""Workflows, their saved versions, event types and the materialised trigger rows."""

from __future__ import annotations

from backend.extensions import db
from backend.models.base import JSONType, UTCDateTime, utcnow

WORKFLOW_STATUSES = ("draft", "active", "paused", "archived")


class EventType(db.Model):
    __tablename__ = "event_types"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64), unique=True, nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    is_builtin = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class Workflow(db.Model):
    __tablename__ = "workflows"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), nullable=False, index=True)
    description = db.Column(db.Text, nullable=False, default="")
    status = db.Column(db.String(16), nullable=False, default="draft", index=True)
    graph = db.Column(JSONType, nullable=False)
    version = db.Column(db.Integer, nullable=False, default=1)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    activated_at = db.Column(UTCDateTime)

    versions = db.relationship(
        "WorkflowVersion",
        back_populates="workflow",
        cascade="all, delete-orphan",
        order_by="WorkflowVersion.version",
        passive_deletes=True,
    )
    triggers = db.relationship(
        "Trigger", back_populates="workflow", cascade="all, delete-orphan", passive_deletes=True
    )


class WorkflowVersion(db.Model):
    """A snapshot of a workflow's graph each time it is saved."""

    __tablename__ = "workflow_versions"
    __table_args__ = (db.UniqueConstraint("workflow_id", "version"),)

    id = db.Column(db.Integer, primary_key=True)
    workflow_id = db.Column(
        db.Integer, db.ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False
    )
    version = db.Column(db.Integer, nullable=False)
    graph = db.Column(JSONType, nullable=False)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    workflow = db.relationship("Workflow", back_populates="versions")


class Trigger(db.Model):
    """One trigger node of a workflow, materialised for discovery and the /triggers/ API.

    Rows exist for every workflow; ``is_active`` follows the workflow's status. The runtime's
    trigger index is built from the active rows only.
    """

    __tablename__ = "triggers"
    __table_args__ = (
        db.UniqueConstraint("workflow_id", "node_id"),
        db.Index("ix_triggers_active_event", "is_active", "event_type"),
    )

    id = db.Column(db.Integer, primary_key=True)
    workflow_id = db.Column(
        db.Integer, db.ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False
    )
    node_id = db.Column(db.String(100), nullable=False)
    node_type = db.Column(db.String(64), nullable=False)
    event_type = db.Column(db.String(64), nullable=False, index=True)
    filter = db.Column(JSONType)
    is_active = db.Column(db.Boolean, nullable=False, default=False)
    # trigger.webhook: the secret part of its URL; trigger.schedule: cron + timezone + next fire.
    webhook_key = db.Column(db.String(64), unique=True)
    cron = db.Column(db.String(120))
    timezone = db.Column(db.String(64))
    next_fire_at = db.Column(UTCDateTime, index=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    workflow = db.relationship("Workflow", back_populates="triggers")
