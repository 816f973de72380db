"""``action.send_sms`` through the real runtime: recorded by the capture channel, untouched backend."""

from __future__ import annotations

import pytest
from runtime_helpers import linear, setup, work
from sqlalchemy import select

from backend.extensions import db
from backend.models import OutboundMessage, WorkflowExecution
from backend.runtime.ingest import accept_event
from backend.services import contacts

pytestmark = [pytest.mark.redis]


def test_an_sms_is_captured_once_with_its_run_and_node(app):
    sms = {"id": "sms", "type": "action.send_sms", "params": {"text": "Hi {{ user.first_name }}"}}
    setup(app, linear(sms))
    contacts.get_or_create_contact("c1", {"first_name": "Sara", "phone": "+989121234567"})
    db.session.commit()
    accept_event({"event_type": "PING", "user_id": "c1", "data": {}})
    work(app)
    db.session.expire_all()
    run = db.session.scalar(select(WorkflowExecution))
    assert run.status == "succeeded"
    (out,) = db.session.scalars(select(OutboundMessage)).all()
    assert (out.kind, out.channel, out.to, out.text) == (
        "sms",
        "capture",
        "+989121234567",
        "Hi Sara",
    )
    assert (out.execution_id, out.node_id, out.status) == (run.id, "sms", "captured")
    assert out.response == {"requested_channel": "sms"}
