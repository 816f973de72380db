"""The runtime's tag actions: what they record, and how they meet a concurrent writer.

Two workers change one contact's tags at once (PostgreSQL): the run whose change came second
waits for the other transaction, then changes nothing and records nothing -- before, its flush
failed on the link row's primary key (or found no row to delete) and its whole drain batch was
rolled back and done again run by run. A run that leaves a drain batch (a live send) has its
tag change undone with it, and the contact's tags read again for the batch's other runs."""

from __future__ import annotations

import pytest
from channel_servers import BotApi
from runtime_helpers import linear, setup, work
from sqlalchemy import func, select
from support import behind_a_lock

from backend.extensions import db
from backend.models import EventLog, TagChange, WorkflowExecution, contact_tags
from backend.runtime.effects import DbEffects
from backend.runtime.ingest import accept_events
from backend.services import contacts

pytestmark = [pytest.mark.redis]


def _recorded() -> tuple[int, int]:
    """How many tag changes the history and the internal events hold."""
    internal = select(func.count(EventLog.id)).filter_by(source="internal")
    return db.session.scalar(select(func.count(TagChange.id))), db.session.scalar(internal)


@pytest.mark.parametrize("action", ["add_tag", "remove_tag"])
def test_a_tag_another_worker_changes_meanwhile_is_waited_for_not_a_conflict(app, action):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite serialises writers itself)")
    (workflow,) = setup(
        app, linear({"id": "n", "type": "action.add_note", "params": {"text": "x"}})
    )
    contact = contacts.get_or_create_contact("c1")
    vip = contacts.get_or_create_tag("vip")
    if action == "remove_tag":
        contacts.add_tag(contact, "vip")
    run = WorkflowExecution(workflow_id=workflow.id, trigger_node_id="t", contact_id=contact.id)
    db.session.add(run)
    db.session.commit()
    run_id, contact_id = run.id, contact.id
    before = _recorded()

    if action == "add_tag":
        other = "INSERT INTO contact_tags VALUES (%s, %s, now())", (contact_id, vip.id)
    else:
        other = "DELETE FROM contact_tags WHERE contact_id = %s", (contact_id,)
    result: dict = {}

    def this_run():
        with app.app_context():
            try:
                result["user"] = getattr(DbEffects(run_id), action)({"id": contact_id}, "vip")
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 -- asserted below
                db.session.rollback()
                result["error"] = exc

    behind_a_lock(*other, this_run)  # the other worker's batch, mid-transaction
    assert "error" not in result, result.get("error")
    assert ("vip" in result["user"]["tags"]) == (action == "add_tag")
    db.session.expire_all()
    links = db.session.scalar(select(func.count()).select_from(contact_tags))
    assert links == (1 if action == "add_tag" else 0)
    # The other worker made the change: this run records none of it.
    assert _recorded() == before


def test_a_run_records_its_own_tag_changes_once(app):
    """Without a concurrent writer the run's add and remove are each one history row and one
    internal event, attributed to the run; doing either again changes nothing."""
    (workflow,) = setup(
        app, linear({"id": "n", "type": "action.add_note", "params": {"text": "x"}})
    )
    contact = contacts.get_or_create_contact("c1")
    run = WorkflowExecution(workflow_id=workflow.id, trigger_node_id="t", contact_id=contact.id)
    db.session.add(run)
    db.session.commit()
    effects = DbEffects(run.id)
    for action in ("add_tag", "add_tag", "remove_tag", "remove_tag"):
        getattr(effects, action)({"id": contact.id}, "vip")
    db.session.commit()
    db.session.expire_all()
    changes = db.session.execute(
        select(TagChange.action, TagChange.source, TagChange.execution_id).order_by(TagChange.id)
    ).all()
    assert changes == [("added", "runtime", run.id), ("removed", "runtime", run.id)]
    events = db.session.scalars(
        select(EventLog).filter_by(source="internal").order_by(EventLog.id)
    ).all()
    assert [(e.event_type, e.payload["data"]["tag"]) for e in events] == [
        ("TAG_ADDED", "vip"),
        ("TAG_REMOVED", "vip"),
    ]
    assert all(e.payload["cause"]["execution_id"] == run.id for e in events)
    assert db.session.scalar(select(func.count()).select_from(contact_tags)) == 0


def test_a_run_leaving_the_batch_undoes_its_tag_for_the_batch_s_other_runs(app, monkeypatch):
    """One event, two workflows: the first run tags the contact then sends live, so it leaves
    the batch and its savepoint undoes the tag; the second run, in the batch after it, must
    see the contact untagged and tag it itself. Advanced on its own, the first finds the tag."""
    bot = BotApi("1:t")
    settings = {
        "OUTBOUND_MODE": "live",
        "TELEGRAM_BOT_TOKEN": bot.token,
        "TELEGRAM_API_BASE": bot.url,
    }
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    try:
        tag = {"id": "tag", "type": "action.add_tag", "params": {"tag": "vip"}}
        send = {"id": "send", "type": "action.send_message", "params": {"text": "hi"}}
        sender, tagger = setup(app, linear(tag, send), linear(tag))
        contacts.get_or_create_contact("c1", {"channel": "telegram"})
        db.session.commit()
        accept_events([{"event_type": "PING", "user_id": "c1"}])
        work(app)
    finally:
        bot.close()
    db.session.expire_all()
    runs = db.session.scalars(select(WorkflowExecution).order_by(WorkflowExecution.id)).all()
    assert [(r.workflow_id, r.status) for r in runs] == [
        (sender.id, "succeeded"),
        (tagger.id, "succeeded"),
    ]
    assert len(bot.delivered) == 1
    assert db.session.scalar(select(func.count()).select_from(contact_tags)) == 1
    changes = db.session.execute(select(TagChange.action, TagChange.execution_id)).all()
    assert changes == [("added", runs[1].id)]
    events = db.session.scalars(select(EventLog.event_type).filter_by(source="internal")).all()
    assert events == ["TAG_ADDED"]
