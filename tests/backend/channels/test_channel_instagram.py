"""Instagram through a local relay webhook (the seed's N8N_WEBHOOK_URL), through the runtime."""

from __future__ import annotations

import pytest
from channel_servers import Relay
from runtime_helpers import linear, setup, work
from sqlalchemy import select

from backend.extensions import db
from backend.models import OutboundMessage, StepExecution, WorkflowExecution
from backend.runtime.ingest import accept_event
from backend.services import contacts

pytestmark = [pytest.mark.redis]

SEND = {
    "id": "send",
    "type": "action.send_message",
    "params": {"text": "سلام {{ user.first_name }}"},
}


@pytest.fixture
def relay(app, request):
    server = Relay(getattr(request, "param", ()))
    saved = {
        k: app.config[k] for k in ("OUTBOUND_MODE", "INSTAGRAM_RELAY_URL", "INSTAGRAM_RELAY_AUTH")
    }
    app.config.update(
        OUTBOUND_MODE="live",
        INSTAGRAM_RELAY_URL=f"{server.url}/hook/ig",
        INSTAGRAM_RELAY_AUTH="Bearer relay-secret-123",
    )
    yield server
    app.config.update(saved)
    server.close()


def _run(app):
    contacts.get_or_create_contact("c1", {"first_name": "Sara", "channel": "instagram"})
    db.session.commit()
    accept_event({"event_type": "PING", "user_id": "c1", "conversation_id": "ig-conv", "data": {}})
    work(app)
    db.session.expire_all()
    return db.session.scalar(select(WorkflowExecution))


def test_the_relay_gets_recipient_channel_text_and_its_answer_is_recorded(app, relay):
    setup(app, linear(SEND))
    run = _run(app)
    assert run.status == "succeeded"
    (req,) = relay.requests
    assert req["path"] == "/hook/ig"
    assert req["headers"]["Authorization"] == "Bearer relay-secret-123"
    body = req["body"]
    assert (body["recipient"], body["channel"], body["text"]) == ("c1", "instagram", "سلام Sara")
    assert req["headers"]["Idempotency-Key"] == body["idempotency_key"] == f"{run.id}:send"
    row = db.session.scalar(select(OutboundMessage))
    assert (row.channel, row.status, row.provider_message_id) == ("instagram", "sent", "ig-1")
    assert row.response == {"status": 200, "body": {"id": "ig-1", "ok": True}}


@pytest.mark.parametrize("relay", [[503]], indirect=True)
def test_a_relay_error_is_retried_by_the_policy(app, relay):
    setup(app, linear(SEND))
    run = _run(app)
    assert run.status == "waiting"  # the node's backoff before attempt 2
    step = db.session.scalar(select(StepExecution).filter_by(node_id="send"))
    assert step.status == "retrying" and "HTTP 503" in step.error
    assert db.session.scalar(select(OutboundMessage.status)) == "failed"


@pytest.mark.parametrize("relay", [[400]], indirect=True)
def test_a_relay_4xx_fails_without_retry(app, relay):
    setup(app, linear(SEND))
    run = _run(app)
    assert run.status == "failed" and len(relay.requests) == 1
