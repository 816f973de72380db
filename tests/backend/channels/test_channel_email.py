"""The e-mail channel against a real aiosmtpd server: plain, STARTTLS, implicit TLS, auth,
HTML alternative, List-Unsubscribe, bounces."""

from __future__ import annotations

import pytest
from channel_servers import SmtpServer
from runtime_helpers import linear, setup, work
from sqlalchemy import select

from backend.extensions import db
from backend.models import Contact, OutboundMessage, StepExecution, WorkflowExecution
from backend.runtime.ingest import accept_event
from backend.services import contacts

pytestmark = [pytest.mark.redis]

MAIL = {
    "id": "mail",
    "type": "action.send_email",
    "params": {
        "subject": "Your coupon, {{ user.first_name }}",
        "body": "Hi {{ user.first_name }},\n\nyour code is SAVE10 & <b>yours</b>.",
    },
}
_KEYS = (
    "OUTBOUND_MODE",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_SECURITY",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_FROM",
    "SMTP_CA_FILE",
    "UNSUBSCRIBE_URL",
)


@pytest.fixture
def smtp(app, tmp_path, request):
    """An SMTP server (``request.param``: its options) and the app configured for it."""
    options = getattr(request, "param", {})
    server = SmtpServer(tmp_path, **options)
    saved = {k: app.config.get(k) for k in _KEYS}
    login = options.get("login") or ("", "")
    app.config.update(
        OUTBOUND_MODE="live",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=server.port,
        SMTP_SECURITY=options.get("security", "plain"),
        SMTP_USERNAME=login[0],
        SMTP_PASSWORD=login[1],
        SMTP_FROM="shop@example.com",
        SMTP_CA_FILE=server.cert or "",
        UNSUBSCRIBE_URL="https://shop.example.com/unsub?e={email}",
    )
    yield server
    app.config.update(saved)
    server.close()


def _run(app, email="sara@example.com"):
    contacts.get_or_create_contact("c1", {"first_name": "Sara", "email": email})
    db.session.commit()
    accept_event({"event_type": "PING", "user_id": "c1", "data": {}})
    work(app)
    db.session.expire_all()
    return db.session.scalar(select(WorkflowExecution))


SECURE = [
    {"security": "plain"},
    {"security": "starttls", "login": ("shop", "s3cret-pw")},
    {"security": "tls", "login": ("shop", "s3cret-pw")},
]


@pytest.mark.parametrize("smtp", SECURE, indirect=True, ids=lambda o: o["security"])
def test_an_email_arrives_with_text_html_and_unsubscribe(app, smtp):
    setup(app, linear(MAIL))
    assert _run(app).status == "succeeded"
    (msg,) = smtp.messages
    assert msg["To"] == "sara@example.com" and msg["From"] == "shop@example.com"
    assert msg["Subject"] == "Your coupon, Sara"
    assert "https://shop.example.com/unsub?e=sara@example.com" in msg["List-Unsubscribe"]
    assert "mailto:shop@example.com" in msg["List-Unsubscribe"]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "your code is SAVE10 & <b>yours</b>." in text
    assert "SAVE10 &amp; &lt;b&gt;yours&lt;/b&gt;" in html
    row = db.session.scalar(select(OutboundMessage))
    assert (row.channel, row.status, row.to) == ("email", "sent", "sara@example.com")
    assert row.provider_message_id == msg["Message-ID"]
    assert smtp.logins == ([True] if app.config["SMTP_USERNAME"] else [])


@pytest.mark.parametrize(
    "smtp", [{"security": "starttls", "login": ("shop", "right")}], indirect=True
)
def test_a_wrong_password_fails_without_retry(app, smtp):
    app.config["SMTP_PASSWORD"] = "wrong"
    setup(app, linear(MAIL))
    run = _run(app)
    assert run.status == "failed" and "authentication failed" in run.error
    assert smtp.messages == [] and smtp.logins and not any(smtp.logins)
    assert "wrong" not in run.error


@pytest.mark.parametrize("smtp", [{"reject": ["gone@example.com"]}], indirect=True)
def test_a_5xx_is_a_bounce_on_the_row_the_contact_and_the_step(app, smtp):
    setup(app, linear(MAIL))
    run = _run(app, email="gone@example.com")
    assert run.status == "failed"
    step = db.session.scalar(select(StepExecution).filter_by(node_id="mail"))
    assert step.status == "failed" and step.attempt == 1 and "bounced 550" in step.error
    assert db.session.scalar(select(OutboundMessage.status)) == "bounced"
    contact = db.session.scalar(select(Contact))
    assert contact.delivery_status["email"]["status"] == "bounced"


def test_html_bodies_get_a_plain_text_part(app, smtp):
    setup(
        app,
        linear(
            {
                **MAIL,
                "params": {
                    **MAIL["params"],
                    "html": True,
                    "body": "<p>Hi <b>{{ user.first_name }}</b></p>",
                },
            }
        ),
    )
    assert _run(app).status == "succeeded"
    (msg,) = smtp.messages
    assert msg.get_body(("plain",)).get_content().strip() == "Hi Sara"
    assert "<b>Sara</b>" in msg.get_body(("html",)).get_content()
