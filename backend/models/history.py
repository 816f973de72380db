"""Tag changes: every tag added to or removed from a contact, for the contact's timeline.

Rows are written here from the ORM's collection events on ``Contact.tags`` (the contacts API,
the admin, anything else that changes the collection), in the same transaction as the change
itself. The runtime's tag actions change tags by statements that tolerate a concurrent worker
and write their own rows, with the run's ``execution_id`` (:mod:`backend.runtime.effects`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event, insert, select

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow
from backend.models.contacts import Contact, Tag, contact_tags

TAG_ACTIONS = ("added", "removed")


class TagChange(db.Model):
    __tablename__ = "tag_changes"
    __table_args__ = (db.Index("ix_tag_changes_contact_created", "contact_id", "created_at"),)

    id = db.Column(db.Integer, primary_key=True)
    contact_id = db.Column(
        db.Integer, db.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False
    )
    tag = db.Column(db.String(100), nullable=False)  # the name: the tag itself may be deleted
    action = db.Column(db.String(10), nullable=False)  # added | removed
    source = db.Column(db.String(20), nullable=False, default="other")  # runtime|api|admin|other
    execution_id = db.Column(
        db.Integer, db.ForeignKey("workflow_executions.id", ondelete="SET NULL"), index=True
    )
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    # Never set: a flush that holds a new run and its tag changes INSERTs the run first (the
    # unit of work orders tables by relationships, not by foreign keys; see models.Note).
    execution = db.relationship("WorkflowExecution")


# -- recording --------------------------------------------------------------------------------
# Who changes tags through the collection: inside a web request the signed-in user (API or
# admin); anything else is "other". The web layer says who the signed-in caller is
# (``backend.api.init_app`` installs it): models sit below the API and auth, so they ask
# through this hook instead of importing them.
_author_provider: Callable[[], dict] | None = None


def use_author_provider(provider: Callable[[], dict] | None) -> None:
    """Install the function answering ``{"source", "user_id"?}`` for the changes it records
    (``None``: every change is ``"other"``)."""
    global _author_provider
    _author_provider = provider


def _request_author() -> dict:
    return _author_provider() if _author_provider is not None else {"source": "other"}


def _record(contact, tag, action: str) -> None:
    author = _request_author()
    contact.tag_changes.add(TagChange(tag=tag.name, action=action, created_at=utcnow(), **author))


@event.listens_for(Contact.tags, "append")
def _tag_added(contact, tag, initiator):
    _record(contact, tag, "added")


@event.listens_for(Contact.tags, "remove")
def _tag_removed(contact, tag, initiator):
    _record(contact, tag, "removed")


@event.listens_for(Tag, "before_delete")
def _tag_deleted(mapper, connection, tag):
    """Deleting a tag removes it from every contact (by cascade): record those removals too."""
    author = _request_author()
    ids = connection.scalars(
        select(contact_tags.c.contact_id).where(contact_tags.c.tag_id == tag.id)
    )
    rows = [
        {
            "contact_id": cid,
            "tag": tag.name,
            "action": "removed",
            "created_at": utcnow(),
            "execution_id": None,
            "user_id": None,
            **author,
        }
        for cid in ids
    ]
    if rows:
        connection.execute(insert(TagChange.__table__), rows)
