"""The event log, workflow executions (runs) and their step records."""

from __future__ import annotations

from backend.extensions import db
from backend.models.base import JSONType, UTCDateTime, utcnow

EVENT_STATUSES = ("received", "processing", "processed", "failed")
EXECUTION_STATUSES = (
    "pending",
    "running",
    "waiting",
    "succeeded",
    "failed",
    "cancelled",
    "converted",
)
FINISHED = ("succeeded", "failed", "cancelled", "converted")  # converted: a goal ended it


class EventLog(db.Model):
    """Every incoming event, committed before it is dispatched (the source of truth)."""

    __tablename__ = "event_logs"
    __table_args__ = (
        # The drain claims the oldest received events by id (see the migration claim_index).
        db.Index("ix_event_logs_status_id", "status", "id"),
        db.Index("ix_event_logs_type_received", "event_type", "received_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    event_type = db.Column(db.String(64), nullable=False)
    idempotency_key = db.Column(db.String(191), unique=True, nullable=False)
    source = db.Column(db.String(20), nullable=False, default="api")  # api|webhook|schedule|manual
    payload = db.Column(JSONType, nullable=False)  # redacted
    user_id = db.Column(db.String(191), index=True)  # the contact's external id
    conversation_id = db.Column(db.String(191))
    contact_id = db.Column(
        db.Integer, db.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    status = db.Column(db.String(20), nullable=False, default="received")
    matched_workflows = db.Column(JSONType, nullable=False, default=list)
    fallback = db.Column(JSONType)  # what the AI fallback did, when it ran
    error = db.Column(db.Text)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    received_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    processed_at = db.Column(UTCDateTime)


class WorkflowExecution(db.Model):
    """One run of a workflow: its checkpointed run state, lease and timings."""

    __tablename__ = "workflow_executions"
    __table_args__ = (
        db.Index("ix_executions_status_lease", "status", "lease_expires_at"),
        db.Index("ix_executions_status_resume", "status", "resume_at"),
        db.Index("ix_executions_workflow_created", "workflow_id", "created_at"),
        db.Index("ix_executions_contact_workflow", "contact_id", "workflow_id", "created_at"),
        # A contact's runs in one state (its waiting ones: goals, the batch's rows, frequency
        # caps), without reading the contact's whole history; also the contact's runs alone.
        db.Index("ix_executions_contact_status", "contact_id", "status"),
    )

    id = db.Column(db.Integer, primary_key=True)
    workflow_id = db.Column(
        db.Integer, db.ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False
    )
    workflow_version = db.Column(db.Integer, nullable=False, default=1)
    event_id = db.Column(
        db.Integer, db.ForeignKey("event_logs.id", ondelete="SET NULL"), index=True
    )
    contact_id = db.Column(
        db.Integer, db.ForeignKey("contacts.id", ondelete="SET NULL")
    )  # goals, explain and contact pages look runs up by contact (ix_executions_contact_status)
    trigger_node_id = db.Column(db.String(100), nullable=False)
    # No index of its own: ix_executions_status_lease and ix_executions_status_resume lead with it.
    status = db.Column(db.String(16), nullable=False, default="pending")
    state = db.Column(JSONType)  # graph_engine RunState.to_dict(), checkpointed after every step
    step_count = db.Column(db.Integer, nullable=False, default=0)
    lease_owner = db.Column(db.String(100))
    lease_expires_at = db.Column(UTCDateTime)
    resume_at = db.Column(UTCDateTime)
    rq_job_id = db.Column(db.String(100))
    error = db.Column(db.Text)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    started_at = db.Column(UTCDateTime)
    finished_at = db.Column(UTCDateTime)
    duration_ms = db.Column(db.Float)

    workflow = db.relationship("Workflow")
    contact = db.relationship("Contact")
    steps = db.relationship(
        "StepExecution",
        back_populates="execution",
        order_by="StepExecution.seq",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class StepExecution(db.Model):
    """One step of a run. ``seq`` is the run's step counter, so a step is never recorded twice."""

    __tablename__ = "step_executions"
    __table_args__ = (db.UniqueConstraint("execution_id", "seq"),)

    id = db.Column(db.Integer, primary_key=True)
    execution_id = db.Column(
        db.Integer, db.ForeignKey("workflow_executions.id", ondelete="CASCADE"), nullable=False
    )
    seq = db.Column(db.Integer, nullable=False)
    node_id = db.Column(db.String(100), nullable=False)
    node_type = db.Column(db.String(64), nullable=False)
    attempt = db.Column(db.Integer, nullable=False, default=1)
    status = db.Column(db.String(16), nullable=False)
    port = db.Column(db.String(64))
    input = db.Column(JSONType)
    output = db.Column(JSONType)
    error = db.Column(db.Text)
    started_at = db.Column(UTCDateTime)
    finished_at = db.Column(UTCDateTime)
    duration_ms = db.Column(db.Float)

    execution = db.relationship("WorkflowExecution", back_populates="steps")
