"""Real Chromium: the /workflows list (search, create from a sample, duplicate, activate / pause,
delete with confirmation) and the editor's unsaved-changes guard."""

from __future__ import annotations

import pytest
from browserkit import *  # noqa: F403
from editorkit import Api, node, open_editor, shot, sign_in

pytestmark = pytest.mark.browser


def row(page, name: str):
    return page.locator("#workflow-table tbody tr", has=page.locator(f"a:text-is('{name}')"))


def test_list_create_from_sample_duplicate_toggle_delete(page):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page)
    api = Api(page)
    page.click("#new-workflow")
    page.click('[data-sample="welcome"]')
    page.wait_for_selector('[data-node-id="trigger"]')
    new_id = int(page.url.rstrip("/").split("/")[-1])
    assert api.workflow(new_id)["graph"]["nodes"]
    page.click("a[aria-label='Back to the workflows']")
    page.wait_for_selector("#workflow-table")
    api.call("PATCH", f"/workflows/{new_id}/", {"name": "Welcome copy source"})
    page.reload()
    page.fill("input[type=search]", "copy source")
    page.wait_for_function(
        "() => document.querySelectorAll('#workflow-table tbody tr').length === 1"
    )
    row(page, "Welcome copy source").locator("[data-action=duplicate]").click()
    page.wait_for_selector("#workflow-table a:text-is('Welcome copy source (copy)')")
    row(page, "Welcome copy source").locator("[data-action=toggle]").click()
    page.wait_for_selector(
        "#workflow-table tr:has(a:text-is('Welcome copy source')) .status-active"
    )
    assert api.workflow(new_id)["status"] == "active"
    row(page, "Welcome copy source").locator("[data-action=toggle]").click()
    page.wait_for_selector(
        "#workflow-table tr:has(a:text-is('Welcome copy source')) .status-paused"
    )
    shot(page, "workflow-list")
    page.once("dialog", lambda d: d.dismiss())
    row(page, "Welcome copy source").locator("[data-action=delete]").click()
    assert api.call("GET", f"/workflows/{new_id}/")[0] == 200  # dismissed: kept
    page.once("dialog", lambda d: d.accept())
    row(page, "Welcome copy source").locator("[data-action=delete]").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#workflow-table tbody tr').length === 1"
    )
    assert api.call("GET", f"/workflows/{new_id}/")[0] == 404


def test_unsaved_changes_guard(page):
    sign_in(page)
    api = Api(page)
    wf = api.create("Guarded")
    open_editor(page, wf["id"])
    page.fill("#workflow-name", "Guarded, edited")
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.dismiss()))
    page.click("a[aria-label='Back to the workflows']")
    assert messages and "unsaved" in messages[0]
    assert page.url.endswith(f"/workflows/{wf['id']}")
    page.once("dialog", lambda d: d.accept())
    page.click("a[aria-label='Back to the workflows']")
    page.wait_for_url("**/workflows")
    assert api.workflow(wf["id"])["name"] == "Guarded"
    assert node(page, "x").count() == 0
