"""Real Chromium + a real worker: runs light up on the canvas live, a past run's page, a test run's
captured Persian message, the contact page, and roles on retry.

One module-scoped story on the seeded coupon workflow: a contact tagged ``interested`` asks for
a coupon through the API while the editor is open; the run is then read on its own page and on
the contact's page.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from browserkit import *  # noqa: F403
from playwright.sync_api import expect
from runkit import *  # noqa: F403

pytestmark = pytest.mark.browser
LIVE_TIMEOUT = 30_000
CONTACT = "e2e-sara"


@pytest.fixture(scope="module")
def editor_api(live_server):
    return api_as(live_server, "editor@example.com")  # noqa: F405


@pytest.fixture(scope="module")
def story(live_server, live_worker, editor_api):  # noqa: F811
    """The coupon workflow's id and the contact who will ask for a coupon."""
    contact = editor_api.post(
        "/contacts/",
        {
            "external_id": CONTACT,
            "first_name": "Sara",
            "tags": ["interested"],
            "channel": "telegram",
        },
        expect=201,
    )
    return {"workflow": coupon_id(editor_api), "contact": contact["id"], "run": None}  # noqa: F405


def _node(page, node_id: str):
    return page.locator(f".react-flow__node[data-node-id='{node_id}']")


def test_a_run_lights_up_live_on_the_open_canvas(page, story, editor_api, tmp_path):
    sign_in(page, "editor@example.com")  # noqa: F405
    page.goto(f"/workflows/{story['workflow']}")
    expect(_node(page, "trigger")).to_be_visible()
    expect(page.locator(".live-dot.live-live")).to_be_visible(timeout=LIVE_TIMEOUT)
    accepted = editor_api.post(
        "/triggers/process_event/",
        {
            "event_type": "MESSAGE_RECEIVED",
            "user_id": CONTACT,
            "conversation_id": "e2e-conv",
            "data": {"content": "سلام، کد تخفیف دارید؟", "first_name": "Sara"},
        },
        expect=202,
    )
    assert accepted
    for node in ("trigger", "interested", "send", "tag"):
        expect(_node(page, node)).to_have_attribute(
            "data-status", "succeeded", timeout=LIVE_TIMEOUT
        )
    expect(_node(page, "wait")).to_have_attribute("data-status", "waiting", timeout=LIVE_TIMEOUT)
    assert _node(page, "mail").get_attribute("data-status") is None
    expect(page.locator(".react-flow__edge[data-edge-id='e4']")).to_have_class(
        re.compile("edge-taken")
    )
    expect(_node(page, "wait").locator(".run-badge .resume")).to_be_visible()
    row = page.locator("#runs-table tr.run-row").first
    expect(row).to_have_attribute("data-run-status", "waiting")
    expect(row.locator(".run-contact")).to_have_text(CONTACT, timeout=LIVE_TIMEOUT)
    story["run"] = int(row.get_attribute("data-run-id"))
    assert save_shot(page, "live-canvas", tmp_path).stat().st_size > 10_000  # noqa: F405
    page.click(".counts-picker button[data-window='24h']")
    counts = _node(page, "send").locator(".run-badge .counts")
    expect(counts).to_have_attribute("data-entered", "1")
    expect(_node(page, "mail").locator(".run-badge .counts")).to_have_attribute("data-entered", "0")
    save_shot(page, "node-counts", tmp_path)  # noqa: F405


def test_the_canvas_catches_up_after_a_socket_gap(page, story, editor_api):
    assert story["run"], "needs the live run"
    editor_api.post(
        "/contacts/",
        {"external_id": "e2e-reza", "first_name": "Reza", "tags": ["interested"]},
        expect=201,
    )
    sign_in(page, "editor@example.com")  # noqa: F405
    page.goto(f"/workflows/{story['workflow']}")
    expect(page.locator(".live-dot.live-live")).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(page.locator(f"#runs-table tr[data-run-id='{story['run']}']")).to_be_visible()
    page.evaluate("window.flowmarketLive.disconnect()")
    expect(page.locator(".live-dot.live-offline")).to_be_visible()
    editor_api.post(
        "/triggers/process_event/",
        {
            "event_type": "MESSAGE_RECEIVED",
            "user_id": "e2e-reza",
            "data": {"content": "coupon?"},
        },
        expect=202,
    )
    runs = _wait_for(lambda: editor_api.get("/workflow-executions/?contact=e2e-reza")["results"])
    _wait_for(
        lambda: editor_api.get(f"/workflow-executions/{runs[0]['id']}/")["status"] == "waiting"
    )
    assert page.locator(f"#runs-table tr[data-run-id='{runs[0]['id']}']").count() == 0
    page.evaluate("window.flowmarketLive.connect()")
    row = page.locator(f"#runs-table tr[data-run-id='{runs[0]['id']}']")
    expect(row).to_have_attribute("data-run-status", "waiting", timeout=LIVE_TIMEOUT)
    expect(row.locator(".run-contact")).to_have_text("e2e-reza")
    expect(_node(page, "wait")).to_have_attribute("data-status", "waiting")
    expect(_node(page, "send")).to_have_attribute("data-status", "succeeded")


def _wait_for(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_the_run_page_shows_a_nodes_output(page, story, tmp_path):
    assert story["run"], "needs the live run"
    sign_in(page, "viewer@example.com")  # noqa: F405
    page.goto(f"/workflows/{story['workflow']}/runs/{story['run']}")
    expect(page.locator("#run-status")).to_have_text("waiting")
    expect(_node(page, "send")).to_have_attribute("data-status", "succeeded")
    expect(_node(page, "wait")).to_have_attribute("data-status", "waiting")
    page.locator(".path-list button[data-node-id='send']").click()
    panel = page.locator("#step-panel[data-node-id='send']")
    expect(panel.locator(".step-output pre")).to_contain_text("SAVE10")
    expect(panel.locator(".step-input pre")).to_contain_text("SAVE10")
    page.locator(".path-list button[data-node-id='wait']").click()
    expect(page.locator("#step-panel .resume")).to_contain_text("Resumes")
    assert page.locator("#run-retry, #run-cancel").count() == 0  # a viewer gets no buttons
    save_shot(page, "run-page", tmp_path)  # noqa: F405


def test_a_viewer_cannot_retry_an_editor_can(page, story, editor_api, live_server):
    assert story["run"], "needs the live run"
    viewer = api_as(live_server, "viewer@example.com")  # noqa: F405
    viewer.post(f"/workflow-executions/{story['run']}/cancel/", expect=403)
    editor_api.post(f"/workflow-executions/{story['run']}/cancel/")
    viewer.post(f"/workflow-executions/{story['run']}/retry/", expect=403)
    sign_in(page, "viewer@example.com")  # noqa: F405
    page.goto(f"/workflows/{story['workflow']}/runs/{story['run']}")
    expect(page.locator("#run-status")).to_have_text("cancelled")
    assert page.locator("#run-retry").count() == 0
    # Leave the run page first: signed out under it, its next request gets a 401 and
    # sends the tab to /login?next=..., which can overtake the sign-in below.
    page.goto("about:blank")
    page.context.clear_cookies()
    sign_in(page, "editor@example.com")  # noqa: F405
    page.goto(f"/workflows/{story['workflow']}/runs/{story['run']}")
    expect(page.locator("#run-retry")).to_be_visible()


def test_a_test_run_shows_the_captured_persian_message(page, story, tmp_path):
    sign_in(page, "editor@example.com")  # noqa: F405
    page.goto(f"/workflows/{story['workflow']}")
    expect(_node(page, "trigger")).to_be_visible()
    page.click("#test-button")
    expect(page.locator("#test-event")).to_contain_text("MESSAGE_RECEIVED")
    expect(page.locator("#test-contact")).to_contain_text("interested")
    contact = json.loads(page.input_value("#test-contact"))
    page.fill("#test-contact", json.dumps({**contact, "first_name": "سارا"}, ensure_ascii=False))
    page.click("#test-run-go")
    bubble = page.locator(".chat-bubble .chat-text").first
    expect(bubble).to_have_text("سارا عزیز، کد تخفیف شما: SAVE10 🎁")
    assert bubble.get_attribute("dir") == "auto"
    assert bubble.evaluate("el => getComputedStyle(el).direction") == "rtl"
    expect(_node(page, "send")).to_have_attribute("data-status", "succeeded")
    expect(_node(page, "wait")).to_have_attribute("data-status", "waiting")
    page.check("#test-run-panel input[type=checkbox]")
    page.click("#test-run-go")
    expect(page.locator(".inbox-subject")).to_have_text("Your coupon is waiting")
    expect(_node(page, "mail")).to_have_attribute("data-status", "succeeded")
    save_shot(page, "test-run", tmp_path)  # noqa: F405


def test_the_contact_page_lists_the_event_the_run_and_the_message(page, story, tmp_path):
    assert story["run"], "needs the live run"
    sign_in(page, "viewer@example.com")  # noqa: F405
    page.goto(f"/contacts/{story['contact']}")
    timeline = page.locator("#timeline")
    expect(timeline.locator("[data-kind=event]").first).to_contain_text("کد تخفیف")
    expect(timeline.locator("[data-kind=run]").first).to_contain_text("Coupon request")
    expect(timeline.locator("[data-kind=message]").first).to_contain_text("SAVE10")
    expect(timeline.locator("[data-kind=tag_added]").first).to_contain_text("coupon_sent")
    expect(page.locator("#contact-tags")).to_contain_text("interested")
    save_shot(page, "contact", tmp_path)  # noqa: F405
    page.goto("/contacts")
    expect(page.locator("#contact-table")).to_contain_text(CONTACT)
    save_shot(page, "contacts", tmp_path)  # noqa: F405
    page.locator(f"#contact-table a[href='/contacts/{story['contact']}']").click()
    page.click("#contact-runs-tab")
    page.locator(f"#contact-runs a[href$='/runs/{story['run']}']").click()
    page.wait_for_url(f"**/runs/{story['run']}")
    expect(page.locator("#run-page")).to_be_visible()
