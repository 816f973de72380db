"""Real Chromium: the editor's finishing touches.

- a node is disabled from its right-click menu, the ``D`` shortcut or the node panel; undo brings
  it back; the saved graph has it ``disabled`` and a test run passes through it (``skipped``);
- viewing an old version shows the node panel read-only;
- after a save, the dialog about runs waiting on older versions asks once per version;
- a sticky note keeps its new size after save and reload;
- the simulate funnel's count badges stay readable on a wide graph.

Screenshots go to ``test-artifacts/`` (``E2E_SHOT_DIR`` overrides).
"""

from __future__ import annotations

import re
import time

import pytest
from browserkit import *  # noqa: F403
from editorkit import Api, node, open_editor, shot, sign_in
from playwright.sync_api import expect
from runkit import api_as, live_worker  # noqa: F401

pytestmark = pytest.mark.browser
SLOW = 30_000


def chain(*nodes: dict) -> dict:
    """A graph whose nodes run one after the other, laid out left to right."""
    placed = [{**n, "position": {"x": 300 * i, "y": 0}} for i, n in enumerate(nodes)]
    edges = [
        {"id": f"e{i + 1}", "source": a["id"], "target": b["id"]}
        for i, (a, b) in enumerate(zip(placed, placed[1:], strict=False))
    ]
    return {"format": "workflow-graph/v1", "nodes": placed, "edges": edges}


TRIGGER = {"id": "trigger", "type": "trigger.message_received", "params": {}}
SEND = {
    "id": "send",
    "type": "action.send_message",
    "params": {"text": "Hello {{ user.first_name }}"},
}
TAG = {"id": "tag", "type": "action.add_tag", "params": {"tag": "greeted"}}


def saved(page) -> None:
    page.click("#save")
    expect(page.locator("#workflow-version")).not_to_contain_text("unsaved")


def test_a_disabled_node_is_saved_and_a_test_run_passes_through_it(page):
    sign_in(page)
    api = Api(page)
    wf = api.create("Disable me", chain(TRIGGER, SEND, TAG))
    open_editor(page, wf["id"])
    send, tag = node(page, "send"), node(page, "tag")
    # 0. The right-click menu from the keyboard: its second item switches the node off.
    tag.click(button="right")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(tag).to_have_attribute("data-disabled", "true")
    page.keyboard.press("Control+z")
    expect(tag).not_to_have_attribute("data-disabled", "true")
    # 1. The right-click menu switches it off; the card is dimmed and says so.
    send.click(button="right")
    expect(page.locator("#node-menu")).to_be_visible()
    shot(page, "polish-node-menu")
    page.click("#node-menu [data-menu=toggle-disabled]")
    expect(page.locator("#node-menu")).to_have_count(0)
    expect(send).to_have_attribute("data-disabled", "true")
    expect(send.locator(".card-off")).to_be_visible()
    assert float(send.locator(".card-node").evaluate("el => getComputedStyle(el).opacity")) < 1
    shot(page, "polish-node-disabled")
    # 2. Undoable like every edit; D toggles the selection.
    page.keyboard.press("Control+z")
    expect(send).not_to_have_attribute("data-disabled", "true")
    page.keyboard.press("Control+Shift+z")
    expect(send).to_have_attribute("data-disabled", "true")
    page.keyboard.press("d")  # "send" is still selected from the right-click
    expect(send).not_to_have_attribute("data-disabled", "true")
    # 3. The node panel's switch; the saved graph carries it.
    send.dblclick()
    toggle = page.locator("#node-disabled")
    expect(toggle).not_to_be_checked()
    toggle.check()
    expect(send).to_have_attribute("data-disabled", "true")
    saved(page)
    nodes = {n["id"]: n for n in api.workflow(wf["id"])["graph"]["nodes"]}
    assert nodes["send"]["disabled"] is True
    assert "disabled" not in nodes["tag"] and "disabled" not in nodes["trigger"]
    # 4. A test run passes through it: nothing captured, the next node still runs.
    page.keyboard.press("Escape")
    page.click("#test-button")
    page.click("#test-run-go")
    expect(page.locator("#test-run-result")).to_have_attribute("data-result-status", "succeeded")
    expect(send).to_have_attribute("data-status", "skipped")
    expect(tag).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#test-run-result .chat-bubble")).to_have_count(0)
    shot(page, "polish-disabled-test-run")


def test_an_old_version_shows_its_node_panel_read_only(page):
    sign_in(page)
    api = Api(page)
    wf = api.create("Versions read-only", chain(TRIGGER, SEND, TAG))
    newer = chain(TRIGGER, {**SEND, "params": {"text": "Newer text"}}, TAG)
    status, _ = api.call("PUT", f"/workflows/{wf['id']}/", {"name": wf["name"], "graph": newer})
    assert status == 200
    open_editor(page, wf["id"])
    page.click("#history")
    page.click('#history-panel [data-version="1"] [data-action=view]')
    expect(page.locator("#readonly-banner")).to_be_visible()
    node(page, "send").dblclick()
    panel = page.locator('[data-inspector-for="send"]')
    expect(panel).to_be_visible()
    text = page.locator("#p_send_text")
    expect(text).to_have_value("Hello {{ user.first_name }}")  # version 1's text, not the newer one
    expect(text).to_be_disabled()
    expect(page.locator("#node-disabled")).to_be_disabled()
    assert page.get_attribute("#node-title", "readonly") is not None
    shot(page, "polish-history-node-panel")
    # Closing the node panel brings the history panel back, still on version 1.
    panel.get_by_label("Close panel").click()
    expect(page.locator('#history-panel [data-version="1"]')).to_have_class("viewing")
    expect(page.locator("#readonly-banner")).to_be_visible()
    page.click("#readonly-back")
    expect(page.locator("#readonly-banner")).to_have_count(0)
    node(page, "send").dblclick()
    expect(page.locator("#p_send_text")).to_have_value("Newer text")
    expect(page.locator("#p_send_text")).to_be_enabled()


def _wait_for(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _waiting_run(rest, user: str, text: str) -> dict:
    """Send ``text`` from contact ``user`` and return the run once it waits."""
    rest.post("/contacts/", {"external_id": user, "first_name": "Ana"}, expect=201)
    body = {"event_type": "MESSAGE_RECEIVED", "user_id": user, "data": {"content": text}}
    rest.post("/triggers/process_event/", body, expect=202)
    runs = f"/workflow-executions/?contact={user}"
    return _wait_for(lambda: [r for r in rest.get(runs)["results"] if r["status"] == "waiting"])[0]


def _rename_and_save(page, name: str) -> None:
    page.fill("#workflow-name", name)
    page.click("#save")


def test_the_waiting_runs_dialog_asks_once_per_version(page, live_server, live_worker):  # noqa: F811
    rest = api_as(live_server, "editor@example.com")
    trigger = {
        **TRIGGER,
        "params": {
            "filter": {
                "all": [{"field": "event.data.content", "op": "icontains", "value": "e2e-ask"}]
            }
        },
    }
    wait = {"id": "wait", "type": "flow.wait", "params": {"hours": 1}}
    graph = chain(trigger, wait, SEND)
    wf_id = rest.post("/workflows/", {"name": "Asked", "graph": graph}, expect=201)["id"]
    rest.post(f"/workflows/{wf_id}/activate/")
    first = _waiting_run(rest, "e2e-ask-1", "e2e-ask one")  # waits on version 1
    sign_in(page)
    open_editor(page, wf_id)
    # Version 2: asked about the run on version 1; the user lets it finish there.
    _rename_and_save(page, "Asked v2")
    dialog = page.locator("#publish-dialog")
    expect(dialog).to_be_visible(timeout=SLOW)
    expect(dialog.locator("li[data-version]")).to_have_count(1)
    page.click("#runs-keep")
    expect(dialog).to_have_count(0)
    # Version 3: nothing new waits, so no question; the notice says the run is finishing.
    _rename_and_save(page, "Asked v3")
    expect(page.locator("#notice")).to_contain_text(
        "Saved as version 3. 1 waiting run finishes on an older version", timeout=SLOW
    )
    expect(dialog).to_have_count(0)
    # Version 4: a run now waits on version 3 (not asked about): the dialog lists only that one ...
    second = _waiting_run(rest, "e2e-ask-2", "e2e-ask two")
    assert second["workflow_version"] == 3
    _rename_and_save(page, "Asked v4")
    expect(dialog).to_be_visible(timeout=SLOW)
    expect(dialog.locator("li[data-version]")).to_have_count(1)
    expect(dialog.locator('li[data-version="3"]')).to_be_visible()
    expect(page.locator("#publish-waiting")).to_have_text("1")
    shot(page, "polish-publish-asks-new-version-only")
    # ... and moving moves that one, not the run the user chose to leave on version 1.
    page.click("#runs-migrate")
    expect(page.locator("#notice")).to_contain_text("Moved 1 waiting run to version 4")
    assert rest.get(f"/workflow-executions/{second['id']}/")["workflow_version"] == 4
    assert rest.get(f"/workflow-executions/{first['id']}/")["workflow_version"] == 1
    # Across a reload the choice for version 1 holds: version 5 asks only about the moved run,
    # which waits on version 4 now.
    page.reload()
    page.wait_for_selector("[data-node-id]")
    _rename_and_save(page, "Asked v5")
    expect(dialog).to_be_visible(timeout=SLOW)
    expect(dialog.locator("li[data-version]")).to_have_count(1)
    expect(dialog.locator('li[data-version="4"]')).to_be_visible()


def _note_size(page, note_id: str) -> tuple[int, int]:
    """The note's size in canvas units (its node element's style, which zoom does not change)."""
    return tuple(
        page.locator(f'.react-flow__node[data-note-id="{note_id}"]').evaluate(
            "el => [Math.round(parseFloat(el.style.width)), Math.round(parseFloat(el.style.height))]"
        )
    )


def test_a_resized_note_keeps_its_size_after_save_and_reload(page):
    sign_in(page)
    api = Api(page)
    graph = chain(TRIGGER)
    note = {"id": "note", "text": "Resize me", "position": {"x": 0, "y": 160}}
    graph["ui"] = {"notes": [{**note, "width": 220, "height": 120}]}
    wf = api.create("Notes", graph)
    open_editor(page, wf["id"])
    card = page.locator('.react-flow__node[data-note-id="note"]')
    card.click(position={"x": 3, "y": 3})  # the note's rim, not its text box: selects it
    handle = card.locator(".react-flow__resize-control.handle.bottom.right")
    expect(handle).to_be_visible()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 90, y + 50, steps=6)
    page.mouse.move(x + 180, y + 100, steps=6)
    page.mouse.up()
    width, height = _note_size(page, "note")
    assert width >= 300 and height >= 180, (width, height)
    shot(page, "polish-note-resized")
    page.keyboard.press("Control+z")  # a resize is one undo step
    expect(card).to_have_attribute("style", re.compile(r"width: 220px; height: 120px"))
    page.keyboard.press("Control+Shift+z")
    assert _note_size(page, "note") == (width, height)
    page.click("#save")
    expect(page.locator("#workflow-version")).to_have_text("v2")
    (stored,) = api.workflow(wf["id"])["graph"]["ui"]["notes"]
    assert (stored["width"], stored["height"]) == (width, height)
    assert stored["text"] == "Resize me"
    page.reload()
    page.wait_for_selector('.react-flow__node[data-note-id="note"]')
    assert _note_size(page, "note") == (width, height)


# On-screen text size: the element's font size times the zoom and scale applied to it.
READABLE = """ids => ids.every(id => {
  const badge = document.querySelector(`.react-flow__node[data-node-id="${id}"] .sim-badge`);
  const px = parseFloat(getComputedStyle(badge).fontSize) * badge.getBoundingClientRect().height / badge.offsetHeight;
  const edge = document.querySelector('.react-flow__edge[data-edge-id="e1"] .react-flow__edge-text');
  return px >= 11 && edge.getBoundingClientRect().height >= 10;
})"""
GROWN_4X = """() => {
  const zoom = new DOMMatrixReadOnly(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a;
  const badge = document.querySelector('.react-flow__node[data-node-id="trigger"] .sim-badge');
  const shown = badge.getBoundingClientRect().height / badge.offsetHeight;
  return zoom < 0.2 && Math.abs(shown - 4 * zoom) < 0.01;
}"""


def test_the_simulate_funnel_stays_readable_on_a_wide_graph(page, live_server, live_worker):  # noqa: F811
    rest = api_as(live_server, "editor@example.com")
    trigger = {
        **TRIGGER,
        "params": {
            "filter": {
                "all": [{"field": "event.data.content", "op": "icontains", "value": "e2e-wide"}]
            }
        },
    }
    tags = [
        {"id": f"tag{i}", "type": "action.add_tag", "params": {"tag": f"step{i}"}}
        for i in range(1, 15)
    ]
    graph = chain(trigger, *tags)  # 15 nodes in a row: about 4,500 canvas pixels wide
    wf_id = rest.post("/workflows/", {"name": "Wide funnel", "graph": graph}, expect=201)["id"]
    rest.post("/contacts/", {"external_id": "e2e-wide-c", "first_name": "Wide"}, expect=201)
    for text in ("e2e-wide one", "e2e-wide two", "unrelated"):
        body = {
            "event_type": "MESSAGE_RECEIVED",
            "user_id": "e2e-wide-c",
            "data": {"content": text},
        }
        rest.post("/triggers/process_event/", body, expect=202)
    sign_in(page)
    open_editor(page, wf_id)
    page.click("#simulate")
    page.click("#simulate-run")
    expect(page.locator("#simulate-result")).to_be_visible(timeout=SLOW)
    expect(node(page, "trigger").locator(".sim-badge")).to_have_attribute("data-sim-entered", "2")
    # Every count is readable on screen (the view settles after a short animation: poll) ...
    page.wait_for_function(READABLE, arg=["trigger", "tag7", "tag14"], timeout=SLOW)
    shot(page, "polish-simulate-wide-funnel")
    # ... and the funnel starts in view, for the user to pan along.
    canvas = page.locator(".react-flow").bounding_box()
    first = node(page, "trigger").bounding_box()
    assert canvas["x"] <= first["x"]
    assert first["x"] + first["width"] <= canvas["x"] + canvas["width"]
    # The whole graph anyway (zoom about 0.14): the counts grow against the zoom, up to 4 times.
    page.click("#zoom-fit")
    page.wait_for_function(GROWN_4X, timeout=SLOW)
    shot(page, "polish-simulate-wide-funnel-fit")
