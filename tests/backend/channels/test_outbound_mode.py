"""Which outbound mode is on, said by the API and the pages; "test recipients only"."""

from __future__ import annotations

import pytest
from channel_servers import BotApi
from runtime_helpers import linear, setup, work
from sqlalchemy import select

from backend.extensions import db
from backend.models import OutboundMessage
from backend.runtime.ingest import accept_event
from backend.services import contacts


@pytest.fixture
def live(app):
    app.config["OUTBOUND_MODE"] = "live"
    yield app
    app.config["OUTBOUND_MODE"] = "capture"


def test_capture_is_the_default_and_the_api_says_so(editor, anon, app):
    assert app.config["OUTBOUND_MODE"] == "capture"
    assert anon.get("/health/").get_json()["outbound_mode"] == "capture"
    me = editor.get("/users/me/").get_json()
    assert me["outbound_mode"] == "capture" and me["email"] == "editor@example.com"


def test_live_mode_is_shown_in_the_api_and_the_top_bar(editor, anon, client, live):
    assert anon.get("/health/").get_json()["outbound_mode"] == "live"
    assert editor.get("/users/me/").get_json()["outbound_mode"] == "live"
    client.post("/login", data={"email": "editor@example.com", "password": "password123"})
    page = client.get("/workflows").get_data(as_text=True)
    assert 'id="outbound-mode"' in page and 'data-mode="live"' in page and "Live: sending" in page


def test_the_top_bar_says_test_mode_by_default(editor, client):
    client.post("/login", data={"email": "editor@example.com", "password": "password123"})
    page = client.get("/workflows").get_data(as_text=True)
    assert 'data-mode="capture"' in page and "Test mode: capturing" in page


def test_the_default_config_is_capture_even_with_other_variables(monkeypatch):
    from backend.config import load_config

    monkeypatch.delenv("OUTBOUND_MODE", raising=False)
    assert load_config()["OUTBOUND_MODE"] == "capture"


@pytest.mark.redis
def test_test_recipients_only_sends_live_only_to_contacts_tagged_test(app, live):
    bot = BotApi("1:t")
    app.config.update(TELEGRAM_BOT_TOKEN=bot.token, TELEGRAM_API_BASE=bot.url)
    try:
        send = {"id": "send", "type": "action.send_message", "params": {"text": "hi"}}
        setup(app, linear(send, test_recipients_only=True))
        tester = contacts.get_or_create_contact("tester", {"channel": "telegram"})
        contacts.add_tag(tester, "test")
        contacts.get_or_create_contact("customer", {"channel": "telegram"})
        db.session.commit()
        for user in ("tester", "customer"):
            accept_event({"event_type": "PING", "user_id": user})
        work(app)
    finally:
        app.config.update(TELEGRAM_BOT_TOKEN="", TELEGRAM_API_BASE="https://api.telegram.org")
        bot.close()
    assert [m["chat_id"] for m in bot.delivered] == ["tester"]
    rows = {r.to: (r.channel, r.status) for r in db.session.scalars(select(OutboundMessage))}
    assert rows == {"tester": ("telegram", "sent"), "customer": ("capture", "captured")}
