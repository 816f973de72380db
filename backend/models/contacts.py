"""Contacts (the customers), their tags, conversations, notes and outbound messages."""

from __future__ import annotations

from backend.extensions import db
from backend.models.base import JSONType, UTCDateTime, utcnow

contact_tags = db.Table(
    "contact_tags",
    db.Column(
        "contact_id", db.Integer, db.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    ),
    db.Column("tag_id", db.Integer, db.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    db.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)


class Tag(db.Model):
    __tablename__ = "tags"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), unique=True, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class Contact(db.Model):
    __tablename__ = "contacts"

    id = db.Column(db.Integer, primary_key=True)
    external_id = db.Column(db.String(191), unique=True, nullable=False)
    first_name = db.Column(db.String(100), nullable=False, default="")
    last_name = db.Column(db.String(100), nullable=False, default="")
    email = db.Column(db.String(254), index=True)
    phone = db.Column(db.String(40))
    channel = db.Column(db.String(20), index=True)  # telegram | instagram | email | web
    channel_ids = db.Column(JSONType, nullable=False, default=dict)  # {"telegram": "<chat id>"}
    fields = db.Column(JSONType, nullable=False, default=dict)
    # Per channel, the last permanent delivery problem: {"telegram": {"status": "blocked", ...}}.
    delivery_status = db.Column(JSONType)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    tags = db.relationship("Tag", secondary=contact_tags, order_by="Tag.name", lazy="selectin")
    # Written by backend.models.history when ``tags`` changes; never loaded whole.
    tag_changes = db.relationship("TagChange", lazy="write_only", passive_deletes=True)

    @property
    def tag_names(self) -> list[str]:
        return [t.name for t in self.tags]


class Conversation(db.Model):
    __tablename__ = "conversations"

    id = db.Column(db.Integer, primary_key=True)
    external_id = db.Column(db.String(191), unique=True, nullable=False)
    contact_id = db.Column(db.Integer, db.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    channel = db.Column(db.String(20))
    status = db.Column(db.String(20), nullable=False, default="open", index=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    contact = db.relationship("Contact")


class Note(db.Model):
    __tablename__ = "notes"

    id = db.Column(db.Integer, primary_key=True)
    contact_id = db.Column(db.Integer, db.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    conversation_id = db.Column(
        db.Integer, db.ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    execution_id = db.Column(
        db.Integer, db.ForeignKey("workflow_executions.id", ondelete="SET NULL")
    )
    text = db.Column(db.Text, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    # Never set: it tells the unit of work to INSERT a new run before its notes when one
    # flush holds both (it orders tables by relationships, not by foreign keys). A drain
    # batch's new runs stay pending until the batch writes them (backend.runtime.batch).
    execution = db.relationship("WorkflowExecution")


class OutboundMessage(db.Model):
    """Every message / email / webhook call a workflow sent (or captured in test mode)."""

    __tablename__ = "outbound_messages"

    id = db.Column(db.Integer, primary_key=True)
    contact_id = db.Column(
        db.Integer, db.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    conversation_id = db.Column(
        db.Integer, db.ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    execution_id = db.Column(
        db.Integer, db.ForeignKey("workflow_executions.id", ondelete="SET NULL"), index=True
    )
    node_id = db.Column(db.String(100))
    kind = db.Column(db.String(20), nullable=False)  # message | email | webhook | sms
    channel = db.Column(db.String(20), nullable=False)  # capture|telegram|instagram|email|http
    to = db.Column(db.String(500))
    subject = db.Column(db.String(500))
    text = db.Column(db.Text, nullable=False, default="")
    # captured (test mode) | queued | sent | failed | blocked | bounced
    status = db.Column(db.String(20), nullable=False, default="captured")
    provider_message_id = db.Column(db.String(191))
    error = db.Column(db.Text)
    response = db.Column(JSONType)
    # execution id + node id: a retried step never sends twice.
    idempotency_key = db.Column(db.String(191), unique=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    execution = db.relationship("WorkflowExecution")  # the flush order only: see Note
