"""Real Chromium: build the seed's coupon workflow on an empty canvas, by hand, and save it.

Nodes are dragged from the palette, ports connected with the mouse, every param typed into the
generated forms (Persian included), then the workflow is saved and activated, and the API must
hand back exactly the intended graph (ids aside: the editor names new nodes after their type).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browserkit import *  # noqa: F403
from editorkit import Api, connect, drag_from_palette, node, open_editor, saved_graph, shot, sign_in

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "graphs" / "coupon.json"
#: What a new node starts with: its type's schema defaults (the rest of the params are typed in).
DEFAULTS = {"trigger": {"keywords": []}, "mail": {"html": False}}


def intended_graph() -> dict:
    graph = json.loads(FIXTURE.read_text(encoding="utf-8"))["graph"]
    for n in graph["nodes"]:
        n["params"] = {**DEFAULTS.get(n["id"], {}), **n["params"]}
    return graph


def shape(graph: dict, rename: dict[str, str]) -> tuple:
    """The graph without positions and edge ids, node ids mapped through ``rename``."""
    nodes = sorted(
        (rename.get(n["id"], n["id"]), n["type"], json.dumps(n.get("params", {}), sort_keys=True))
        for n in graph["nodes"]
    )
    edges = sorted(
        (
            rename.get(e["source"], e["source"]),
            e.get("source_port", "out"),
            rename.get(e["target"], e["target"]),
        )
        for e in graph["edges"]
    )
    return nodes, edges, graph.get("settings"), graph.get("name")


def open_panel(page, node_id: str) -> None:
    node(page, node_id).dblclick()
    page.wait_for_selector(f'[data-inspector-for="{node_id}"]')


def add_rule(page, rules, field: str, op: str, value: str, group: str = "") -> None:
    rules.locator(f'{group} [data-add="condition"]').last.click()
    leaf = rules.locator(".rule-leaf").last
    leaf.locator(".rule-field").fill(field)
    leaf.locator(".rule-op").select_option(op)
    leaf.locator(".rule-value").fill(value)


def fill_trigger(page, tid: str) -> None:
    open_panel(page, tid)
    rules = page.locator(f'[data-rules-for="p_{tid}_filter"]')
    rules.locator("select[aria-label=Match]").first.select_option("any")
    add_rule(page, rules, "event.data.content", "icontains", "coupon")
    add_rule(page, rules, "event.data.content", "icontains", "کد تخفیف")


def fill_forms(page, ids: dict[str, str]) -> None:
    fill_trigger(page, ids["trigger"])
    open_panel(page, ids["interested"])
    rules = page.locator(f'[data-rules-for="p_{ids["interested"]}_rules"]')
    add_rule(page, rules, "user.tags", "contains", "interested")
    open_panel(page, ids["send"])
    page.fill(f"#p_{ids['send']}_text", "{{ user.first_name }}, your code: SAVE10")
    open_panel(page, ids["tag"])
    page.fill(f"#p_{ids['tag']}_tag", "coupon_sent")
    open_panel(page, ids["wait"])
    page.fill(f"#p_{ids['wait']}_minutes", "10")
    open_panel(page, ids["mail"])
    page.fill(f"#p_{ids['mail']}_subject", "Your coupon")
    page.fill(f"#p_{ids['mail']}_body", "...")
    page.click("#settings")
    page.select_option("#set-reentry", "always")
    page.fill("#set-max-runs", "3")
    page.fill("#set-timezone", "Asia/Tehran")
    page.fill("#workflow-name", "Coupon request")


def build(page) -> dict[str, str]:
    """Drag the six nodes out and wire them; fixture id -> the editor's id."""
    ids = {
        "trigger": drag_from_palette(page, "trigger.message_received", 120, 200),
        "interested": drag_from_palette(page, "logic.condition", 420, 200),
        "send": drag_from_palette(page, "action.send_message", 720, 120),
        "tag": drag_from_palette(page, "action.add_tag", 720, 300),
        "wait": drag_from_palette(page, "flow.wait", 720, 480),
        "mail": drag_from_palette(page, "action.send_email", 420, 480),
    }
    wires = [
        ("trigger", "out", "interested"),
        ("interested", "true", "send"),
        ("send", "out", "tag"),
        ("tag", "out", "wait"),
        ("wait", "out", "mail"),
    ]
    for n, (source, port, target) in enumerate(wires, start=1):
        connect(page, ids[source], port, ids[target])
        page.wait_for_function(
            "n => document.querySelectorAll('[data-edge-id]').length >= n", arg=n
        )
    return ids


def test_build_the_coupon_workflow_from_an_empty_canvas(page):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page)
    page.click("#new-workflow")
    page.click("#new-empty")
    page.wait_for_url("**/workflows/*")
    wf_id = int(page.url.rstrip("/").split("/")[-1])
    open_editor(page, wf_id)
    assert page.locator("[data-node-id]").count() == 0
    ids = build(page)
    fill_forms(page, ids)
    page.click("#auto-layout")
    page.click("#zoom-fit")
    shot(page, "editor-coupon-built")
    page.click("#save")
    page.wait_for_selector("#workflow-version:not(:has(.dirty))")
    page.click("#toggle-active")
    page.wait_for_selector("#workflow-status:text('active')")
    shot(page, "editor-coupon-active")
    api = Api(page)
    saved = api.workflow(wf_id)
    assert saved["status"] == "active" and saved["validation"]["ok"]
    rename = {v: k for k, v in ids.items()}
    assert shape(saved["graph"], rename) == shape(intended_graph(), {})
    open_panel(page, ids["trigger"])
    persian = page.locator(".rule-value").nth(1)
    assert persian.input_value() == "کد تخفیف" and persian.get_attribute("dir") == "auto"
    shot(page, "editor-coupon-trigger-panel")
    assert saved_graph(api, wf_id)["nodes"][0]["position"] is not None
