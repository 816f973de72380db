"""The README's first example, call for call: it produces a visible result where it says."""

from __future__ import annotations

import pytest
from runtime_helpers import work

from backend.runtime import discovery, interpreters
from backend.services.bootstrap import setup_sample_workflows

pytestmark = [pytest.mark.redis]


def test_the_first_curl_example_captures_the_coupon_message(app, editor):
    discovery.reset()
    interpreters.reset()
    setup_sample_workflows()  # what `make run` seeds
    contact = editor.post(
        "/contacts/",
        {
            "external_id": "customer123",
            "first_name": "Sara",
            "channel": "telegram",
            "tags": ["interested"],
        },
    )
    assert contact.status_code == 201
    sent = editor.post(
        "/triggers/process_event/",
        {
            "event_type": "MESSAGE_RECEIVED",
            "user_id": "customer123",
            "conversation_id": "conv123",
            "data": {"content": "سلام، کد تخفیف دارید؟"},
        },
    )
    assert sent.status_code == 202
    work(app)
    messages = editor.get("/outbound-messages/", channel="capture").get_json()["results"]
    assert [m["text"] for m in messages] == ["Sara عزیز، کد تخفیف شما: SAVE10 🎁"]
    runs = editor.get("/workflow-executions/").get_json()["results"]
    assert [r["status"] for r in runs] == ["waiting"]  # the follow-up e-mail in ten minutes
    tags = editor.get(f"/contacts/{contact.get_json()['id']}/").get_json()["tags"]
    assert tags == ["coupon_sent", "interested"]
