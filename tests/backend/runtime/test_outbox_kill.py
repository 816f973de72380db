"""Never twice per step: a worker process killed (SIGKILL) after the send, before the step's
checkpoint, and the run taken over by another worker sends nothing again."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from channel_servers import BotApi
from runtime_helpers import FlakyServer, linear, setup
from sqlalchemy import select, update

from backend.extensions import db
from backend.models import OutboundMessage, StepExecution, WorkflowExecution, utcnow
from backend.runtime.ingest import accept_event
from backend.runtime.runner import advance
from backend.services import contacts

pytestmark = [pytest.mark.redis]

TESTS = Path(__file__).resolve().parents[2]
# A worker that drains the event log and dies the moment the runner is about to checkpoint
# the step of node ``argv[5]`` -- after that node's send, before its checkpoint.
DYING_WORKER = """
import os, signal, sys
sys.path.insert(0, sys.argv[1])
from support import make_app
from backend.runtime import runner
from backend.runtime.processing import drain

real = runner.Run.checkpoint
def checkpoint(self, record=None):
    if record is not None and record.node_id == sys.argv[5]:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, record)
runner.Run.checkpoint = checkpoint
app = make_app(sys.argv[2], sys.argv[3], RQ_QUEUE=sys.argv[4], OUTBOUND_MODE="live",
               TELEGRAM_BOT_TOKEN=sys.argv[6], TELEGRAM_API_BASE=sys.argv[7])
with app.app_context():
    drain()
"""


def _killed_then_taken_over(app, node: str, token: str = "", api: str = "") -> WorkflowExecution:
    args = [
        str(TESTS),
        app.config["DATABASE_URL"],
        app.config["REDIS_URL"],
        app.config["RQ_QUEUE"],
        node,
        token,
        api,
    ]
    done = subprocess.run(
        [sys.executable, "-c", DYING_WORKER, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -9, done.stderr  # killed by the signal, not a crash
    db.session.expire_all()
    run = db.session.scalar(select(WorkflowExecution))
    assert run.status == "running" and run.step_count == 1  # the send step never checkpointed
    # The lease of the dead worker expires; another worker (this process) takes the run over.
    db.session.execute(update(WorkflowExecution).values(lease_expires_at=utcnow() - timedelta(1)))
    db.session.commit()
    saved = {k: app.config[k] for k in ("OUTBOUND_MODE", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE")}
    app.config.update(OUTBOUND_MODE="live", TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_BASE=api)
    try:
        assert advance(run.id) == "succeeded"
    finally:
        app.config.update(saved)
    db.session.expire_all()
    return db.session.get(WorkflowExecution, run.id)


def test_a_telegram_message_is_not_sent_again_after_a_kill(app):
    bot = BotApi("1:tok")
    try:
        setup(
            app, linear({"id": "send", "type": "action.send_message", "params": {"text": "once"}})
        )
        contacts.get_or_create_contact("c1", {"channel": "telegram"})
        db.session.commit()
        accept_event({"event_type": "PING", "user_id": "c1"}, dispatch=False)
        run = _killed_then_taken_over(app, "send", bot.token, bot.url)
    finally:
        bot.close()
    assert len(bot.requests) == 1
    step = db.session.scalar(select(StepExecution).filter_by(execution_id=run.id, node_id="send"))
    assert step.status == "succeeded" and step.output["duplicate"] is True
    row = db.session.scalar(select(OutboundMessage))
    assert (row.status, row.provider_message_id) == ("sent", "101")


def test_a_webhook_is_not_called_again_after_a_kill(app):
    server = FlakyServer()
    try:
        setup(app, linear({"id": "hook", "type": "action.webhook", "params": {"url": server.url}}))
        accept_event({"event_type": "PING", "user_id": "c1"}, dispatch=False)
        run = _killed_then_taken_over(app, "hook")
    finally:
        server.close()
    assert len(server.requests) == 1
    assert server.requests[0]["headers"]["Idempotency-Key"] == f"{run.id}:hook"
    step = db.session.scalar(select(StepExecution).filter_by(execution_id=run.id, node_id="hook"))
    assert step.status == "succeeded" and step.output["duplicate"] is True
