"""Real Chromium + a real worker: the marketer's edge (issue 13) in the browser.

- a draft made from the templates gallery is simulated over the stored events: the funnel is drawn
  on the canvas (counts on nodes, edge widths) with the skipped reasons;
- the explain page says why a contact without the ``interested`` tag got nothing;
- a goal set in the workflow settings ends a waiting run as ``converted``;
- quiet hours set in the settings hold a message: the run waits at the send node;
- the wake-ups page (top-bar link) lists that pending wait.

Screenshots go to ``test-artifacts/`` (``E2E_SHOT_DIR`` overrides).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from browserkit import *  # noqa: F403
from editorkit import shot
from playwright.sync_api import expect
from runkit import api_as, live_worker, sign_in  # noqa: F401

pytestmark = pytest.mark.browser
SLOW = 30_000


@pytest.fixture(scope="module")
def rest(live_server):
    return api_as(live_server, "editor@example.com")


def node(page, node_id: str):
    """The canvas node (not the run page's path entry of the same id)."""
    return page.locator(f".react-flow__node[data-node-id='{node_id}']")


def _wait_for(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _message(rest, user: str, content: str) -> None:
    rest.post(
        "/triggers/process_event/",
        {"event_type": "MESSAGE_RECEIVED", "user_id": user, "data": {"content": content}},
        expect=202,
    )


def _runs_of(rest, user: str) -> list[dict]:
    return rest.get(f"/workflow-executions/?contact={user}")["results"]


def _contact(rest, external_id: str, tags=()) -> dict:
    body = {"external_id": external_id, "first_name": external_id.title(), "tags": list(tags)}
    return rest.post("/contacts/", body, expect=201)


def _create(rest, name: str, nodes: list[dict]) -> int:
    edges = [
        {"id": f"e{i}", "source": a["id"], "target": b["id"]}
        for i, (a, b) in enumerate(zip(nodes, nodes[1:], strict=False))
    ]
    for i, n in enumerate(nodes):
        n["position"] = {"x": 260 * i, "y": 0}
    graph = {"format": "workflow-graph/v1", "name": name, "nodes": nodes, "edges": edges}
    return rest.post("/workflows/", {"name": name, "graph": graph}, expect=201)["id"]


def _trigger(word: str) -> dict:
    rule = {"field": "event.data.content", "op": "icontains", "value": word}
    return {
        "id": "trigger",
        "type": "trigger.message_received",
        "params": {"filter": {"all": [rule]}},
    }


def _save_and_activate(page) -> None:
    page.click("#save")
    expect(page.locator("#workflow-version")).not_to_contain_text("unsaved")
    page.click("#toggle-active")
    expect(page.locator("#workflow-status")).to_have_text("active", timeout=SLOW)


def test_simulate_a_template_draft_and_see_the_funnel(page, live_worker, rest):  # noqa: F811
    _contact(rest, "e2e-sim-ana", ["interested"])
    _contact(rest, "e2e-sim-bob")
    for user, text in [
        ("e2e-sim-ana", "coupon please"),
        ("e2e-sim-bob", "a coupon?"),
        ("e2e-sim-bob", "hello there"),
    ]:
        _message(rest, user, text)
    _wait_for(lambda: len(_runs_of(rest, "e2e-sim-bob")) >= 1)
    sign_in(page, "editor@example.com")
    page.click("#new-workflow")
    expect(page.locator("#template-gallery [data-template]")).to_have_count(6)
    shot(page, "edge-templates-gallery")
    page.click('[data-template="coupon"]')
    page.wait_for_selector('[data-node-id="trigger"]')
    wf_id = int(page.url.rstrip("/").split("/")[-1])
    rest.call("PATCH", f"/workflows/{wf_id}/", {"name": "Coupon draft (simulated)"})
    assert rest.get(f"/workflows/{wf_id}/")["status"] != "active"  # a draft
    page.click("#simulate")
    page.click('#simulate-panel [data-days="7"]')
    page.click("#simulate-run")
    expect(page.locator("#simulate-result")).to_be_visible(timeout=SLOW)
    expect(page.locator("#simulate-progress")).to_have_attribute("data-status", "finished")
    events = int(page.get_attribute("#sim-events", "data-value"))
    entered = int(node(page, "trigger").locator(".sim-badge").get_attribute("data-sim-entered"))
    sent = int(node(page, "send").locator(".sim-badge").get_attribute("data-sim-entered"))
    assert events >= 3 and entered >= 2 and 1 <= sent < entered
    first = page.locator('.react-flow__edge[data-edge-id="e1"]')
    assert int(first.get_attribute("data-sim-count")) == entered
    assert int(page.get_attribute("#sim-contacts", "data-value")) >= 1
    expect(page.locator('#sim-skipped tr[data-reason="not_matched"]')).to_be_visible()
    expect(page.locator("#sim-messages li").first).to_contain_text("SAVE")
    shot(page, "edge-simulate-funnel")
    for _ in range(3):
        page.click(".react-flow__controls-zoomin")
    shot(page, "edge-simulate-funnel-zoomed")
    page.click("#simulate-panel [aria-label='Close panel']")
    expect(page.locator(".sim-badge")).to_have_count(0)  # the funnel leaves with the panel


def test_explain_why_a_contact_without_the_tag_got_nothing(page, live_worker, rest):  # noqa: F811
    contact = _contact(rest, "e2e-notag")
    _message(rest, "e2e-notag", "coupon please")
    _wait_for(lambda: [r for r in _runs_of(rest, "e2e-notag") if r["status"] == "succeeded"])
    sign_in(page, "viewer@example.com")
    page.goto(f"/contacts/{contact['id']}")
    page.click("#contact-explain")
    page.wait_for_url(f"**/contacts/{contact['id']}/explain")
    verdict = page.locator(".verdict[data-outcome='ran']").filter(has_text="Coupon request").first
    expect(verdict).to_contain_text("the condition “interested” was false")
    expect(verdict).to_contain_text("user.tags contains “interested” — saw []")
    expect(verdict).to_contain_text("Nothing was sent")
    shot(page, "edge-explain")


def test_a_goal_set_in_the_settings_ends_a_waiting_run(page, live_worker, rest):  # noqa: F811
    wf_id = _create(
        rest,
        "Goal journey",
        [
            _trigger("e2e-goal"),
            {"id": "wait", "type": "flow.wait", "params": {"hours": 1}},
            {"id": "send", "type": "action.send_message", "params": {"text": "still there?"}},
        ],
    )
    contact = _contact(rest, "e2e-goal-c")
    sign_in(page, "editor@example.com")
    page.goto(f"/workflows/{wf_id}")
    page.click("#settings")
    page.select_option("#goal-kind", "tag")
    page.fill("#goal-value", "bought")
    page.click("#add-goal")
    expect(page.locator("#goal-list [data-goal-id='tag_bought']")).to_be_visible()
    page.check("#set-quiet")
    page.locator("#journey-settings").scroll_into_view_if_needed()
    shot(page, "edge-journey-settings")
    page.uncheck("#set-quiet")
    _save_and_activate(page)
    graph = rest.get(f"/workflows/{wf_id}/")["graph"]
    assert graph["settings"]["goals"] == [{"id": "tag_bought", "tag": "bought"}]
    _message(rest, "e2e-goal-c", "e2e-goal start")
    (run,) = _wait_for(
        lambda: [r for r in _runs_of(rest, "e2e-goal-c") if r["status"] == "waiting"]
    )
    rest.call("PATCH", f"/contacts/{contact['id']}/", {"tags": ["bought"]})
    _wait_for(lambda: rest.get(f"/workflow-executions/{run['id']}/")["status"] == "converted")
    page.goto(f"/workflows/{wf_id}/runs/{run['id']}")
    expect(page.locator("#run-status")).to_have_text("converted")
    expect(page.locator("#run-converted")).to_be_visible()
    expect(node(page, "wait")).to_have_attribute("data-status", "converted")
    assert page.locator("#run-cancel").count() == 0  # a converted run is over
    assert node(page, "send").get_attribute("data-status") is None  # nothing after the wait ran
    shot(page, "edge-goal-converted")
    page.goto(f"/workflows/{wf_id}")  # the conversion on the canvas counts ...
    page.click(".counts-picker button[data-window='24h']")
    expect(node(page, "wait").locator(".c-conv")).to_have_attribute("data-converted", "1")
    shot(page, "edge-goal-conversion-counts")
    page.goto("/workflows")  # ... and in the list
    row = page.locator(f"#workflow-table tr[data-workflow-id='{wf_id}'] td[data-conversions]")
    expect(row).to_have_attribute("data-conversions", "1")


def test_a_quiet_hours_message_waits_and_the_wake_ups_page_lists_it(page, live_worker, rest):  # noqa: F811
    wf_id = _create(
        rest,
        "Quiet journey",
        [
            _trigger("e2e-quiet"),
            {"id": "send", "type": "action.send_message", "params": {"text": "hi"}},
        ],
    )
    _contact(rest, "e2e-quiet-c")
    now = datetime.now(UTC)
    start, end = (
        (now - timedelta(hours=1)).strftime("%H:%M"),
        (now + timedelta(hours=2)).strftime("%H:%M"),
    )
    sign_in(page, "editor@example.com")
    page.goto(f"/workflows/{wf_id}")
    page.click("#settings")
    page.fill("#set-timezone", "UTC")
    page.check("#set-quiet")
    page.fill("#set-quiet-start", start)
    page.fill("#set-quiet-end", end)
    _save_and_activate(page)
    settings = rest.get(f"/workflows/{wf_id}/")["graph"]["settings"]
    assert settings["quiet_hours"] == {"start": start, "end": end}
    _message(rest, "e2e-quiet-c", "e2e-quiet now")
    (run,) = _wait_for(
        lambda: [r for r in _runs_of(rest, "e2e-quiet-c") if r["status"] == "waiting"]
    )
    page.goto(f"/workflows/{wf_id}/runs/{run['id']}")
    expect(page.locator("#run-status")).to_have_text("waiting")
    expect(node(page, "send")).to_have_attribute("data-status", "waiting")
    expect(page.locator("#run-resume")).to_contain_text("Held by the quiet hours; resumes")
    shot(page, "edge-quiet-hours-wait")
    page.click("nav.topnav a[href='/wake-ups']")
    row = page.locator(f"#wk-soonest tr[data-execution-id='{run['id']}']")
    expect(row).to_be_visible(timeout=SLOW)
    expect(row).to_contain_text("send")
    expect(page.locator(f".wk-workflow[data-workflow-id='{wf_id}']")).to_contain_text("1 pending")
    assert int(page.get_attribute("#wk-pending", "data-value")) >= 1
    shot(page, "edge-wakeups")


def test_publishing_offers_to_move_waiting_runs_to_the_new_version(page, live_worker, rest):  # noqa: F811
    wf_id = _create(
        rest,
        "Versioned journey",
        [
            _trigger("e2e-move"),
            {"id": "wait", "type": "flow.wait", "params": {"hours": 1}},
            {"id": "send", "type": "action.send_message", "params": {"text": "later"}},
        ],
    )
    rest.post(f"/workflows/{wf_id}/activate/")
    _contact(rest, "e2e-move-c")
    _message(rest, "e2e-move-c", "e2e-move please")
    (run,) = _wait_for(
        lambda: [r for r in _runs_of(rest, "e2e-move-c") if r["status"] == "waiting"]
    )
    sign_in(page, "editor@example.com")
    page.goto(f"/workflows/{wf_id}")
    page.fill("#workflow-name", "Versioned journey v2")
    page.click("#save")
    dialog = page.locator("#publish-dialog")
    expect(dialog).to_be_visible(timeout=SLOW)
    expect(page.locator("#publish-waiting")).to_have_text("1")
    shot(page, "edge-publish-waiting-runs")
    page.click("#runs-migrate")
    expect(page.locator("#notice")).to_contain_text("Moved 1 waiting run to version 2")
    assert rest.get(f"/workflow-executions/{run['id']}/")["workflow_version"] == 2
