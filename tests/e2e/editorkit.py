"""Helpers for the editor's browser tests: sign in, call the API as the page does, drive the canvas.

Screenshots go to ``test-artifacts/`` at the repository root (``E2E_SHOT_DIR`` overrides).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = [
    "sign_in",
    "Api",
    "open_editor",
    "drag_from_palette",
    "connect",
    "node",
    "shot",
    "saved_graph",
]

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1/workflow/api"


def shot(page, name: str) -> Path:
    """Save a screenshot of the page as a test artifact and return its path."""
    folder = Path(os.environ.get("E2E_SHOT_DIR") or ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def sign_in(page, email: str = "editor@example.com", password: str = "password123") -> None:
    page.on("pageerror", lambda err: print(f"page error: {err}"))
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_url("**/workflows")


class Api:
    """The REST API with the page's session cookie and CSRF token (what the editor itself sends)."""

    def __init__(self, page):
        self.page = page

    def _token(self) -> str:
        return self.page.get_attribute("#app", "data-csrf") or ""

    def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        resp = self.page.request.fetch(
            API + path,
            method=method,
            headers={"X-CSRFToken": self._token(), "Content-Type": "application/json"},
            data=None if body is None else json.dumps(body),
        )
        text = resp.text()
        return resp.status, (json.loads(text) if text else {})

    def create(self, name: str, graph: dict | None = None) -> dict:
        graph = graph or {"format": "workflow-graph/v1", "nodes": [], "edges": []}
        status, body = self.call("POST", "/workflows/", {"name": name, "graph": graph})
        assert status == 201, body
        return body

    def workflow(self, wf_id: int) -> dict:
        status, body = self.call("GET", f"/workflows/{wf_id}/")
        assert status == 200, body
        return body


def open_editor(page, wf_id: int) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/workflows/{wf_id}")
    page.wait_for_selector(".react-flow__renderer")
    page.wait_for_selector("[data-palette-type]")


def node(page, node_id: str):
    return page.locator(f'[data-node-id="{node_id}"]')


def drag_from_palette(page, type_name: str, x: float, y: float) -> str:
    """Drag a palette entry onto the canvas at (x, y) relative to the canvas; the new node's id."""
    before = set(
        page.eval_on_selector_all("[data-node-id]", "els => els.map(e => e.dataset.nodeId)")
    )
    pane = page.locator(".react-flow").bounding_box()
    page.drag_and_drop(
        f'[data-palette-type="{type_name}"]',
        ".react-flow__pane",
        target_position={"x": x, "y": y},
    )
    page.wait_for_function(
        "n => document.querySelectorAll('[data-node-id]').length > n", arg=len(before)
    )
    after = set(
        page.eval_on_selector_all("[data-node-id]", "els => els.map(e => e.dataset.nodeId)")
    )
    assert pane is not None
    (new_id,) = after - before
    return new_id


def connect(page, source: str, port: str, target: str) -> None:
    """Drag from ``source``'s output port to ``target``'s input port with the mouse."""
    start = page.locator(f'[data-node-id="{source}"] .react-flow__handle[data-handleid="{port}"]')
    end = page.locator(f'[data-node-id="{target}"] .react-flow__handle[data-handleid="in"]')
    a, b = start.bounding_box(), end.bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + 2, b["y"] + 2, steps=8)
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=4)
    page.mouse.up()


def saved_graph(api: Api, wf_id: int) -> dict:
    return api.workflow(wf_id)["graph"]
