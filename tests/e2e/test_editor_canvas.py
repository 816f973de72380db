"""Real Chromium: export / import, undo / redo, copy / paste between workflows, auto-layout,
validation errors on the right nodes, version history and save conflicts, notes and shortcuts."""

from __future__ import annotations

import copy
import json

import pytest
from browserkit import *  # noqa: F403
from editorkit import Api, node, open_editor, shot, sign_in

pytestmark = pytest.mark.browser


def coupon_graph(api: Api) -> dict:
    status, samples = api.call("GET", "/workflow-samples/")
    assert status == 200
    return copy.deepcopy(next(s["graph"] for s in samples if s["key"] == "coupon"))


def node_ids(page) -> list[str]:
    return page.eval_on_selector_all("[data-node-id]", "els => els.map(e => e.dataset.nodeId)")


def save(page) -> None:
    page.click("#save")
    page.wait_for_selector("#workflow-version:not(:has(.dirty)), #notice:has-text('Not saved')")
    assert "Not saved" not in (page.locator("#notice").all_inner_texts() or [""])[0]


def test_export_then_import_gives_the_same_graph(page, tmp_path):
    sign_in(page)
    api = Api(page)
    wf = api.create("Export me", coupon_graph(api))
    open_editor(page, wf["id"])
    with page.expect_download() as info:
        page.click("#export")
    exported = json.loads(info.value.path().read_text(encoding="utf-8"))
    assert exported["nodes"] == api.workflow(wf["id"])["graph"]["nodes"]
    file = tmp_path / "coupon.workflow.json"
    file.write_text(json.dumps(exported), encoding="utf-8")
    page.goto("/workflows")
    page.click("#import-workflow")
    page.set_input_files("#import-dialog input[type=file]", str(file))
    page.wait_for_selector("#import-dialog .import-report[data-ok=true]")
    page.click("#import-new")
    page.wait_for_url(
        lambda url: url.rstrip("/").split("/")[-1] not in ("workflows", str(wf["id"]))
    )
    new_id = int(page.url.rstrip("/").split("/")[-1])
    imported = api.workflow(new_id)["graph"]
    for key in ("nodes", "edges", "settings"):
        assert imported[key] == exported[key], key


def test_import_shows_validation_errors_before_saving(page):
    sign_in(page)
    api = Api(page)
    before = api.call("GET", "/workflows/")[1]["count"]
    page.click("#import-workflow")
    bad = {
        "format": "workflow-graph/v1",
        "nodes": [{"id": "x", "type": "action.send_message", "params": {}}],
        "edges": [],
    }
    page.fill("#import-dialog textarea", json.dumps(bad))
    page.wait_for_selector("#import-dialog .import-report[data-ok=false]")
    codes = page.eval_on_selector_all(
        "#import-dialog [data-issue-code]", "els => els.map(e => e.dataset.issueCode)"
    )
    assert "no_trigger" in codes
    assert api.call("GET", "/workflows/")[1]["count"] == before  # nothing saved yet


def test_undo_redo_of_delete_and_move(page):
    sign_in(page)
    api = Api(page)
    wf = api.create("Undo me", coupon_graph(api))
    open_editor(page, wf["id"])
    start = sorted(node_ids(page))
    node(page, "send").click()
    page.keyboard.press("Delete")
    page.wait_for_function("() => !document.querySelector('[data-node-id=\"send\"]')")
    assert page.locator('[data-edge-id="e2"]').count() == 0  # its edges went with it
    page.keyboard.press("Control+z")
    page.wait_for_selector('[data-edge-id="e2"]')  # drawn once the restored node is measured
    assert sorted(node_ids(page)) == start
    page.keyboard.press("Control+Shift+z")
    page.wait_for_function("() => !document.querySelector('[data-node-id=\"send\"]')")
    page.click("#undo")
    page.wait_for_selector('[data-node-id="send"]')
    box = node(page, "tag").bounding_box()
    page.mouse.move(box["x"] + 60, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 260, box["y"] + 220, steps=10)
    page.mouse.up()
    moved = node(page, "tag").bounding_box()
    assert moved["x"] > box["x"] + 100
    page.click("#undo")
    page.wait_for_function(
        "x => Math.abs(document.querySelector('[data-node-id=\"tag\"]').getBoundingClientRect().x - x) < 2",
        arg=box["x"],
    )
    page.click("#redo")
    page.wait_for_function(
        "x => document.querySelector('[data-node-id=\"tag\"]').getBoundingClientRect().x > x + 100",
        arg=box["x"],
    )


def test_copy_paste_between_two_workflows(page):
    sign_in(page)
    api = Api(page)
    source = api.create("Copy from", coupon_graph(api))
    target = api.create("Paste into")
    open_editor(page, source["id"])
    node(page, "send").click()
    node(page, "tag").click(modifiers=["Shift"])
    assert page.locator(".react-flow__node.selected").count() == 2
    page.keyboard.press("Control+c")
    open_editor(page, target["id"])
    page.locator(".react-flow__pane").click(position={"x": 300, "y": 300})
    page.keyboard.press("Control+v")
    page.wait_for_function("() => document.querySelectorAll('[data-node-id]').length === 2")
    assert page.locator("[data-edge-id]").count() == 1
    save(page)
    graph = api.workflow(target["id"])["graph"]
    assert sorted(n["type"] for n in graph["nodes"]) == ["action.add_tag", "action.send_message"]
    texts = [n["params"].get("text") for n in graph["nodes"] if n["type"] == "action.send_message"]
    assert texts == [
        next(n for n in coupon_graph(api)["nodes"] if n["id"] == "send")["params"]["text"]
    ]
    (edge,) = graph["edges"]
    assert {edge["source"], edge["target"]} == {n["id"] for n in graph["nodes"]}
    shot(page, "editor-pasted")


def test_auto_layout_leaves_no_overlapping_nodes(page):
    sign_in(page)
    api = Api(page)
    graph = coupon_graph(api)
    for n in graph["nodes"]:
        n["position"] = {"x": 0, "y": 0}
    wf = api.create("Piled up", graph)
    open_editor(page, wf["id"])
    page.click("#auto-layout")
    page.click("#zoom-fit")
    page.wait_for_timeout(300)  # the fit animation (200 ms); the boxes are checked after it
    boxes = page.eval_on_selector_all(
        "[data-node-id]",
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })",
    )
    assert len(boxes) == len(graph["nodes"])
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a[0] + a[2] <= b[0]
                or b[0] + b[2] <= a[0]
                or a[1] + a[3] <= b[1]
                or b[1] + b[3] <= a[1]
            )
            assert apart, (a, b)
    shot(page, "editor-auto-layout")
    save(page)
    saved = api.workflow(wf["id"])["graph"]
    assert len({(n["position"]["x"], n["position"]["y"]) for n in saved["nodes"]}) == len(
        graph["nodes"]
    )


def test_invalid_graph_shows_errors_on_the_right_nodes_and_refuses_activation(page):
    sign_in(page)
    api = Api(page)
    graph = coupon_graph(api)
    for n in graph["nodes"]:
        if n["id"] == "send":
            n["params"] = {}
        if n["id"] == "wait":
            n["params"] = {"minutes": -5}
    wf = api.create("Broken", graph)
    expected = {
        i["node_id"] for i in api.workflow(wf["id"])["validation"]["errors"] if i.get("node_id")
    }
    assert expected == {"send", "wait"}
    open_editor(page, wf["id"])
    page.wait_for_selector("[data-invalid=true]")
    invalid = page.eval_on_selector_all(
        "[data-invalid=true]", "els => els.map(e => e.dataset.nodeId)"
    )
    assert set(invalid) == expected
    assert node(page, "send").locator(".card-badge").count() == 1
    page.click("#toggle-active")
    page.wait_for_selector("#notice:has-text('Cannot activate')")
    assert api.workflow(wf["id"])["status"] == "draft"
    node(page, "send").dblclick()
    page.wait_for_selector(
        '[data-inspector-for="send"] .field-errors, [data-inspector-for="send"] .issue'
    )
    shot(page, "editor-invalid")
    page.fill("#p_send_text", "Hello {{ user.first_name }}")
    page.click('[aria-label="Close panel"]')
    page.click("#zoom-fit")
    node(page, "wait").dblclick()
    page.fill("#p_wait_minutes", "5")
    page.wait_for_function("() => !document.querySelector('[data-invalid=true]')")
    page.click("#toggle-active")  # saves first, then activates
    page.wait_for_selector("#workflow-status:text('active')")
    assert api.workflow(wf["id"])["status"] == "active"


def test_version_history_view_and_restore_and_save_conflict(page):
    sign_in(page)
    api = Api(page)
    wf = api.create("Versions", coupon_graph(api))
    open_editor(page, wf["id"])
    node(page, "tag").click()
    page.keyboard.press("Delete")
    save(page)
    assert "tag" not in {n["id"] for n in api.workflow(wf["id"])["graph"]["nodes"]}
    page.click("#history")
    page.click('#history-panel [data-version="1"] [data-action=view]')
    page.wait_for_selector("#readonly-banner")
    page.wait_for_selector('[data-node-id="tag"]')  # version 1 still had it
    shot(page, "editor-history")
    page.click('#history-panel [data-version="1"] [data-action=restore]')
    page.wait_for_selector("#notice:has-text('restored')")
    restored = api.workflow(wf["id"])
    assert restored["version"] == 3 and "tag" in {n["id"] for n in restored["graph"]["nodes"]}
    # Someone else saves meanwhile: our next save is refused and shown, not silently applied.
    theirs = copy.deepcopy(restored["graph"])
    theirs["name"] = "Theirs"
    status, _ = api.call("PUT", f"/workflows/{wf['id']}/", {"name": "Theirs", "graph": theirs})
    assert status == 200
    page.fill("#workflow-name", "Mine")
    page.click("#save")
    page.wait_for_selector("#conflict-dialog")
    assert api.workflow(wf["id"])["name"] == "Theirs"
    page.click("#conflict-overwrite")
    page.wait_for_selector("#workflow-version:not(:has(.dirty))")
    assert api.workflow(wf["id"])["name"] == "Mine"


def test_plus_port_notes_palette_search_and_shortcuts(page):
    sign_in(page)
    api = Api(page)
    wf = api.create("Plus", coupon_graph(api))
    open_editor(page, wf["id"])
    page.fill("#palette-search", "tag")
    shown = page.eval_on_selector_all(
        "[data-palette-type]", "els => els.map(e => e.dataset.paletteType)"
    )
    assert set(shown) == {
        "trigger.tag_added",
        "trigger.tag_removed",
        "action.add_tag",
        "action.remove_tag",
    }
    page.fill("#palette-search", "")
    node(page, "interested").hover()
    page.click('[data-add-from="interested:false"]')
    page.click('[data-palette-type="action.add_note"]')
    page.wait_for_selector('[data-node-id="add_note"]')
    assert page.locator('[data-edge-id="e_interested_add_note"]').count() == 1
    page.locator(".react-flow__pane").click(position={"x": 50, "y": 50})
    page.keyboard.press("n")
    page.wait_for_selector("[data-note-id] textarea")
    page.fill("[data-note-id] textarea", "یادداشت: ask Sara")
    page.locator(".react-flow__pane").click(position={"x": 50, "y": 50})
    page.keyboard.press("?")
    page.wait_for_selector("#shortcuts-dialog")
    page.keyboard.press("Escape")
    save(page)
    graph = api.workflow(wf["id"])["graph"]
    assert {
        "id": "e_interested_add_note",
        "source": "interested",
        "source_port": "false",
        "target": "add_note",
    } in graph["edges"]
    assert [n["text"] for n in graph["ui"]["notes"]] == ["یادداشت: ask Sara"]
    assert api.call("POST", "/workflows/validate/", graph)[1]["warnings"] == []
