"""The seed's coupon scenario end to end, live, against real servers on 127.0.0.1.

A Persian message comes in through the API; the sample "Coupon request" workflow sends the
coupon on Telegram (a local Bot-API-shaped server), tags the contact ``coupon_sent`` -- whose
``TAG_ADDED`` starts a second workflow that thanks them on Instagram (a local relay) -- waits
its ten minutes (shortened by ``WAIT_SCALE``, not skipped) and e-mails the follow-up to a real
aiosmtpd server over STARTTLS with a password. Then no secret (bot token, SMTP password, relay
auth header) may appear in the event log, the run records, the traces, the API or the logs.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime

import pytest
from apikit import Api, make_user
from channel_servers import BotApi, Relay, SmtpServer
from runtime_helpers import linear, work
from socketkit import Client
from sqlalchemy import select

from backend.extensions import db
from backend.models import (
    Credential,
    EventLog,
    OutboundMessage,
    StepExecution,
    Workflow,
    WorkflowExecution,
)
from backend.runtime import discovery, interpreters
from backend.services import contacts
from backend.services.bootstrap import setup_sample_workflows
from backend.services.workflows import activate, create_workflow

pytestmark = [pytest.mark.redis]

BOT_TOKEN = "7401234567:AAF-sekret-bot-token-Xy9"
SMTP_PASSWORD = "smtp-pa55-Zq81-sekret"
RELAY_AUTH = "Bearer relay-sekret-77Hk"
SECRETS = (BOT_TOKEN, SMTP_PASSWORD, RELAY_AUTH, "sekret")
THANKS = {
    "id": "thanks",
    "type": "action.send_message",
    "params": {"channel": "instagram", "text": "ممنون {{ user.first_name }} 🙏"},
}


def _credential(name: str, secret: dict) -> None:
    row = Credential(name=name, kind=name)
    row.secret = secret
    db.session.add(row)


@pytest.fixture
def servers(app, tmp_path):
    bot, relay = BotApi(BOT_TOKEN), Relay()
    smtp = SmtpServer(tmp_path, security="starttls", login=("shop", SMTP_PASSWORD))
    saved = {k: app.config[k] for k in ("OUTBOUND_MODE", "WAIT_SCALE")}
    app.config.update(OUTBOUND_MODE="live", WAIT_SCALE=0.001)  # 10 minutes -> 0.6 s
    _credential("telegram", {"bot_token": BOT_TOKEN, "api_base": bot.url})
    _credential(
        "smtp",
        {
            "host": "127.0.0.1",
            "port": smtp.port,
            "security": "starttls",
            "username": "shop",
            "password": SMTP_PASSWORD,
            "ca_file": smtp.cert,
            "from": "shop@example.com",
        },
    )
    _credential("instagram", {"webhook_url": f"{relay.url}/relay", "auth_header": RELAY_AUTH})
    db.session.commit()
    yield bot, relay, smtp
    app.config.update(saved)
    for server in (bot, relay, smtp):
        server.close()


def _workflows(app):
    discovery.reset()
    interpreters.reset()
    setup_sample_workflows()
    thanks = create_workflow(
        "Thank coupon takers",
        graph=linear(
            THANKS,
            trigger={"id": "t", "type": "trigger.tag_added", "params": {"tag": "coupon_sent"}},
        ),
    )
    activate(thanks)
    coupon = db.session.scalar(select(Workflow).filter_by(name="Coupon request"))
    return coupon, thanks


def _until_finished(app, run_id: int, timeout: float = 60) -> WorkflowExecution:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        work(app, scheduler=True)  # runs the resume job once it is due
        db.session.expire_all()
        run = db.session.get(WorkflowExecution, run_id)
        if run.status not in ("pending", "running", "waiting"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still {run.status}")


def test_the_coupon_scenario_live_and_no_secret_leaks(app, servers, server_url, caplog):
    caplog.set_level(logging.DEBUG)
    bot, relay, smtp = servers
    coupon, thanks = _workflows(app)
    _, token = make_user("ops@example.com", "admin")
    api = Api(app.test_client(), token)
    watcher = Client(server_url, token)
    for wf in (coupon, thanks):
        assert watcher.watch(workflow_id=wf.id)["ok"]
    sara = contacts.get_or_create_contact(
        "tg-5550001", {"first_name": "سارا", "channel": "telegram", "email": "sara@example.com"}
    )
    contacts.add_tag(sara, "interested")
    db.session.commit()

    answer = api.post(
        "/triggers/process_event/",
        {
            "event_type": "MESSAGE_RECEIVED",
            "user_id": "tg-5550001",
            "conversation_id": "tg-chat-1",
            "data": {"content": "سلام، کد تخفیف دارید؟"},
        },
    )
    assert answer.status_code == 202
    work(app)
    run = db.session.scalar(select(WorkflowExecution).filter_by(workflow_id=coupon.id))
    run = _until_finished(app, run.id)

    # The coupon on "Telegram", the TAG_ADDED run on "Instagram", the e-mail after the wait.
    assert run.status == "succeeded", run.error
    assert bot.delivered == [
        {"chat_id": "tg-5550001", "text": "سارا عزیز، کد تخفیف شما: SAVE10 🎁"}
    ]
    tags = {
        e.payload["data"]["tag"]: e
        for e in db.session.scalars(select(EventLog).filter_by(event_type="TAG_ADDED"))
    }
    assert sorted(tags) == ["coupon_sent", "interested"]  # by the run / by the setup
    tag_event = tags["coupon_sent"]
    assert tag_event.payload["cause"] == {"execution_id": run.id, "depth": 1}
    second = db.session.scalar(select(WorkflowExecution).filter_by(workflow_id=thanks.id))
    assert second.status == "succeeded" and second.event_id == tag_event.id
    assert [r["body"]["text"] for r in relay.requests] == ["ممنون سارا 🙏"]
    assert relay.requests[0]["headers"]["Authorization"] == RELAY_AUTH
    (mail,) = smtp.messages
    assert mail["To"] == "sara@example.com" and mail["Subject"] == "Your coupon is waiting"
    assert "سارا" in mail.get_body(("plain",)).get_content()
    steps = {
        s.node_id: s
        for s in db.session.scalars(select(StepExecution).filter_by(execution_id=run.id))
    }
    waited = datetime.fromisoformat(steps["wait"].output["resume_at"])
    assert steps["wait"].status == "succeeded" and steps["wait"].output["resumed_at"]
    assert steps["mail"].started_at >= waited  # the wait was shortened, not skipped
    statuses = sorted((m.channel, m.status) for m in db.session.scalars(select(OutboundMessage)))
    assert statuses == [("email", "sent"), ("instagram", "sent"), ("telegram", "sent")]

    # No secret anywhere: records, API answers, traces, logs.
    records = [
        *db.session.scalars(select(EventLog.payload)),
        *db.session.execute(select(WorkflowExecution.state, WorkflowExecution.error)),
        *db.session.execute(select(StepExecution.input, StepExecution.output, StepExecution.error)),
        *db.session.execute(
            select(
                OutboundMessage.to,
                OutboundMessage.text,
                OutboundMessage.response,
                OutboundMessage.error,
            )
        ),
    ]
    answers = [
        api.get(path).get_data(as_text=True)
        for path in (
            "/trigger-event-logs/",
            "/workflow-executions/",
            f"/workflow-executions/{run.id}/",
            f"/workflow-executions/{second.id}/",
            "/contacts/",
            "/credentials/",
            "/health/",
            f"/workflows/{coupon.id}/",
        )
    ]
    traces = watcher.wait(10)
    watcher.close()
    assert any(t["kind"] == "step_finished" for t in traces)
    haystack = json.dumps([records, traces], default=str, ensure_ascii=False)
    haystack += "".join(answers) + caplog.text
    for secret in SECRETS:
        assert secret not in haystack, secret
