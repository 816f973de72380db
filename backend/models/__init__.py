"""All models, importable from one place: ``from backend.models import Workflow``."""

from backend.models.auth import ROLES, ApiToken, Credential, User, hash_token
from backend.models.base import insert_for, iso, utcnow
from backend.models.contacts import Contact, Conversation, Note, OutboundMessage, Tag, contact_tags
from backend.models.history import TAG_ACTIONS, TagChange
from backend.models.runs import (
    EVENT_STATUSES,
    EXECUTION_STATUSES,
    FINISHED,
    EventLog,
    StepExecution,
    WorkflowExecution,
)
from backend.models.workflows import (
    WORKFLOW_STATUSES,
    EventType,
    Trigger,
    Workflow,
    WorkflowVersion,
)

__all__ = [
    "ROLES",
    "ApiToken",
    "Credential",
    "User",
    "hash_token",
    "insert_for",
    "iso",
    "utcnow",
    "Contact",
    "Conversation",
    "Note",
    "OutboundMessage",
    "Tag",
    "contact_tags",
    "TAG_ACTIONS",
    "TagChange",
    "EVENT_STATUSES",
    "EXECUTION_STATUSES",
    "FINISHED",
    "EventLog",
    "StepExecution",
    "WorkflowExecution",
    "WORKFLOW_STATUSES",
    "EventType",
    "Trigger",
    "Workflow",
    "WorkflowVersion",
]
