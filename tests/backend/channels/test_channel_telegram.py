"""The Telegram channel against a local Bot-API-shaped server, through the real runtime."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channel_servers import BotApi
from runtime_helpers import linear, setup, work
from sqlalchemy import select

from backend.extensions import db
from backend.models import (
    Contact,
    Credential,
    OutboundMessage,
    StepExecution,
    WorkflowExecution,
    utcnow,
)
from backend.runtime.ingest import accept_event
from backend.services import contacts

pytestmark = [pytest.mark.redis]

SEND = {
    "id": "send",
    "type": "action.send_message",
    "params": {"text": "{{ user.first_name }}, کد تخفیف شما: SAVE10"},
}


@pytest.fixture
def bot(app):
    server = BotApi("123:env-token")
    saved = {k: app.config[k] for k in ("OUTBOUND_MODE", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE")}
    app.config.update(
        OUTBOUND_MODE="live", TELEGRAM_BOT_TOKEN=server.token, TELEGRAM_API_BASE=server.url
    )
    yield server
    app.config.update(saved)
    server.close()


def _run(app, user="c1", **contact):
    contacts.get_or_create_contact(user, {"first_name": "Sara", "channel": "telegram", **contact})
    db.session.commit()
    accept_event({"event_type": "PING", "user_id": user, "data": {}})
    work(app)
    db.session.expire_all()
    return db.session.scalar(select(WorkflowExecution))


def _steps(run) -> list[StepExecution]:
    return list(
        db.session.scalars(
            select(StepExecution).filter_by(execution_id=run.id).order_by(StepExecution.seq)
        )
    )


def test_a_message_reaches_the_chat_once_with_its_provider_id(app, bot):
    setup(app, linear(SEND))
    run = _run(app)
    assert run.status == "succeeded"
    assert bot.delivered == [{"chat_id": "c1", "text": "Sara, کد تخفیف شما: SAVE10"}]
    (row,) = db.session.scalars(select(OutboundMessage)).all()
    assert (row.channel, row.status, row.to, row.text) == (
        "telegram",
        "sent",
        "c1",
        "Sara, کد تخفیف شما: SAVE10",
    )
    assert row.provider_message_id == "101" and row.execution_id == run.id
    assert _steps(run)[-1].output["provider_message_id"] == "101"


def test_the_chat_id_comes_from_the_contacts_telegram_id(app, bot):
    setup(app, linear(SEND))
    contact = contacts.get_or_create_contact("c1", {"first_name": "Sara", "channel": "telegram"})
    contact.channel_ids = {"telegram": "5550001"}
    db.session.commit()
    assert _run(app).status == "succeeded"
    assert [m["chat_id"] for m in bot.delivered] == ["5550001"]


def test_a_stored_credential_overrides_the_environment_token(app, bot):
    setup(app, linear(SEND))
    bot.token = "999:stored-token"
    row = Credential(name="telegram", kind="telegram")
    row.secret = {"bot_token": "999:stored-token"}
    db.session.add(row)
    db.session.commit()
    assert _run(app).status == "succeeded"
    assert bot.requests[0]["path"] == "/bot999:stored-token/sendMessage"


def test_429_waits_at_least_retry_after_then_sends(app, bot):
    setup(app, linear(SEND))
    bot.retry_afters = [90]  # longer than the node's 30 s backoff
    before = utcnow()
    run = _run(app)
    assert run.status == "waiting"
    assert run.resume_at >= before + timedelta(seconds=89)
    (step,) = [s for s in _steps(run) if s.node_id == "send"]
    assert step.status == "retrying" and "retry after 90" in step.error
    assert db.session.scalar(select(OutboundMessage.status)) == "failed"


@pytest.mark.parametrize(
    ("chat", "status", "words"),
    [
        ("blocked", "blocked", "bot was blocked by the user"),
        ("missing", "failed", "chat not found"),
    ],
)
def test_blocked_or_unknown_chats_are_recorded_and_not_retried(app, bot, chat, status, words):
    setup(app, linear(SEND))
    run = _run(app, user=chat)
    assert run.status == "failed"
    (step,) = [s for s in _steps(run) if s.node_id == "send"]
    assert step.status == "failed" and step.attempt == 1 and words in step.error
    assert len(bot.requests) == 1
    assert db.session.scalar(select(OutboundMessage.status)) == status
    contact = db.session.scalar(select(Contact).filter_by(external_id=chat))
    assert contact.delivery_status["telegram"]["status"] == status
    assert words in contact.delivery_status["telegram"]["error"]


def test_a_step_replayed_after_its_send_does_not_send_again(app, bot):
    """A worker killed between the send and the step's checkpoint: the replay finds the
    committed outbox row and answers from it."""
    from backend.runtime.effects import DbEffects
    from graph_engine import Outbound

    contact = contacts.get_or_create_contact("c1", {"channel": "telegram"})
    db.session.commit()
    request = Outbound(
        "message",
        "send",
        "77:send",
        {"to": "c1", "channel": "telegram", "text": "hi"},
        contact={"id": contact.id},
    )
    first = DbEffects(None).send(request)
    db.session.rollback()  # the step's transaction never committed
    again = DbEffects(None).send(request)
    assert len(bot.requests) == 1
    assert again["duplicate"] is True
    assert again["provider_message_id"] == first["provider_message_id"] == "101"
