"""Real Chromium: the node panel's special inputs (template variables and preview in Persian,
custom code with the server's compile errors, switch cases that change the ports), refused
connections with their reason, box selection, and replacing the open graph by an import."""

from __future__ import annotations

import json

import pytest
from browserkit import *  # noqa: F403
from editorkit import Api, connect, node, open_editor, shot, sign_in

pytestmark = pytest.mark.browser

TRIGGER = {
    "id": "t",
    "type": "trigger.message_received",
    "position": {"x": 0, "y": 0},
    "params": {},
}


def graph(*nodes, edges=()) -> dict:
    return {"format": "workflow-graph/v1", "nodes": [TRIGGER, *nodes], "edges": list(edges)}


def ports(page, node_id: str) -> list[str]:
    return page.eval_on_selector_all(
        f'[data-node-id="{node_id}"] .react-flow__handle.source',
        "els => els.map(e => e.dataset.handleid)",
    )


def test_template_suggestions_and_preview_in_persian(page):
    sign_in(page)
    api = Api(page)
    msg = {
        "id": "m",
        "type": "action.send_message",
        "position": {"x": 320, "y": 0},
        "params": {"text": "x"},
    }
    wf = api.create("Templates", graph(msg, edges=[{"id": "e1", "source": "t", "target": "m"}]))
    open_editor(page, wf["id"])
    node(page, "m").dblclick()
    box = page.locator("#p_m_text")
    assert box.get_attribute("dir") == "auto"
    box.fill("")
    box.type("سلام {{ user.fir")
    page.click(".suggestions button:has-text('user.first_name')")
    assert box.input_value() == "سلام {{ user.first_name }}"
    box.press("End")
    box.type(" عزیز")
    page.click('[data-preview-for="p_m_text"]')
    preview = page.locator('[data-preview="p_m_text"]')
    preview.wait_for()
    assert preview.inner_text() == "سلام Sara عزیز" and preview.get_attribute("dir") == "auto"
    shot(page, "editor-template-preview")


def test_custom_code_shows_compile_errors_in_place(page):
    sign_in(page)
    api = Api(page)
    code = {
        "id": "c",
        "type": "action.custom_code",
        "position": {"x": 320, "y": 0},
        "params": {"code": "result = 1"},
    }
    wf = api.create("Code", graph(code, edges=[{"id": "e1", "source": "t", "target": "c"}]))
    open_editor(page, wf["id"])
    node(page, "c").dblclick()
    editor = page.locator(".cm-content")
    editor.wait_for()
    assert (
        page.locator(".cm-editor .ͼ1, .cm-editor [class*=tok-], .cm-line span").count() >= 1
    )  # highlighted
    editor.click()
    page.keyboard.press("End")
    page.keyboard.type(" +")
    page.wait_for_selector(".code-errors li")
    assert "line 1" in page.locator(".code-errors li").first.inner_text()
    shot(page, "editor-code-errors")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.wait_for_selector(".code-errors", state="detached")
    assert "result = 1" in page.locator(".cm-content").inner_text()


def test_switch_cases_change_the_ports_and_refused_connections_say_why(page):
    sign_in(page)
    api = Api(page)
    switch = {
        "id": "s",
        "type": "logic.switch",
        "position": {"x": 320, "y": 0},
        "params": {"cases": [{"name": "vip", "rules": {}}]},
    }
    tag = {
        "id": "tag",
        "type": "action.add_tag",
        "position": {"x": 700, "y": 0},
        "params": {"tag": "x"},
    }
    wf = api.create(
        "Switch", graph(switch, tag, edges=[{"id": "e1", "source": "t", "target": "s"}])
    )
    open_editor(page, wf["id"])
    assert ports(page, "s") == ["vip", "default", "error"]
    node(page, "s").dblclick()
    page.click('[data-inspector-for="s"] .btn-add')
    page.fill("#p_s_cases_1_name", "new_customer")
    page.wait_for_function(
        '() => document.querySelector(\'[data-node-id="s"] [data-handleid="new_customer"]\')'
    )
    assert ports(page, "s") == ["vip", "new_customer", "default", "error"]
    shot(page, "editor-switch-cases")
    page.click('[aria-label="Close panel"]')
    connect(page, "s", "new_customer", "tag")
    page.wait_for_selector("[data-edge-id=e_s_tag]")
    connect(page, "t", "out", "s")  # already connected: refused, with the reason
    page.wait_for_selector("#notice:has-text('already connected')")
    assert page.locator("[data-edge-id]").count() == 2


def test_box_selection_and_import_replacing_the_open_graph(page):
    sign_in(page)
    api = Api(page)
    a = {
        "id": "a",
        "type": "action.add_tag",
        "position": {"x": 320, "y": 0},
        "params": {"tag": "a"},
    }
    b = {
        "id": "b",
        "type": "action.add_tag",
        "position": {"x": 320, "y": 150},
        "params": {"tag": "b"},
    }
    wf = api.create("Boxes", graph(a, b))
    open_editor(page, wf["id"])
    first, second = node(page, "a").bounding_box(), node(page, "b").bounding_box()
    page.mouse.move(first["x"] - 30, first["y"] - 30)
    page.mouse.down()
    page.mouse.move(
        second["x"] + second["width"] + 30, second["y"] + second["height"] + 30, steps=10
    )
    page.mouse.up()
    selected = page.eval_on_selector_all(
        ".react-flow__node.selected", "els => els.map(e => e.dataset.nodeId)"
    )
    assert sorted(selected) == ["a", "b"]
    page.keyboard.press("Delete")
    page.wait_for_function("() => document.querySelectorAll('[data-node-id]').length === 1")
    replacement = graph(
        {
            "id": "hello",
            "type": "action.send_message",
            "position": {"x": 300, "y": 0},
            "params": {"text": "hi"},
        },
        edges=[{"id": "e1", "source": "t", "target": "hello"}],
    )
    page.click("#import")
    page.fill("#import-dialog textarea", json.dumps(replacement))
    page.wait_for_selector("#import-dialog .import-report[data-ok=true]")
    page.click("#import-replace")
    page.wait_for_selector('[data-node-id="hello"]')
    page.click("#save")
    page.wait_for_selector("#workflow-version:not(:has(.dirty))")
    saved = api.workflow(wf["id"])["graph"]
    assert [n["id"] for n in saved["nodes"]] == ["t", "hello"] and saved["edges"] == replacement[
        "edges"
    ]
