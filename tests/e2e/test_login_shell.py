"""Real Chromium: the login page, a wrong password, the shell page, logout and /admin/ access."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browserkit import *  # noqa: F403

pytestmark = pytest.mark.browser


def _sign_in(page, email: str, password: str = "password123") -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in")


def test_login_page_renders(page):
    page.goto("/login")
    assert "Sign in" in page.title()
    assert page.is_visible("#email") and page.is_visible("#password")
    assert page.get_attribute("meta[name=csrf-token]", "content")


def test_wrong_password_shows_an_error(page):
    _sign_in(page, "editor@example.com", "not-the-password")
    assert page.text_content("#login-error").strip() == "Wrong email or password."
    assert page.url.endswith("/login")


def test_sign_in_lands_on_the_shell_and_logout_works(page, tmp_path):
    _sign_in(page, "editor@example.com")
    page.wait_for_selector("#workflow-table")
    app = page.locator("#app")
    assert app.get_attribute("data-api-base") == "/api/v1/workflow/api"
    assert app.get_attribute("data-csrf")
    names = page.locator("#workflow-table tbody tr td:first-child a").all_text_contents()
    assert set(names) == {"Coupon request", "Welcome new users"}
    shot = tmp_path / "shell.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
    if os.environ.get("E2E_SHOT_DIR"):
        (Path(os.environ["E2E_SHOT_DIR"]) / "shell.png").write_bytes(shot.read_bytes())
    page.click("#logout")
    page.wait_for_url("**/login")
    page.goto("/")
    assert "/login" in page.url


def test_shell_page_api_call_with_session_and_csrf(page):
    _sign_in(page, "editor@example.com")
    page.wait_for_selector("#app")
    status = page.evaluate("""async () => {
        const app = document.getElementById('app');
        const res = await fetch(app.dataset.apiBase + '/contacts/', {
            method: 'POST', headers: {'Content-Type': 'application/json',
                                      'X-CSRFToken': app.dataset.csrf},
            body: JSON.stringify({external_id: 'from-browser'})});
        const refused = await fetch(app.dataset.apiBase + '/contacts/', {
            method: 'POST', headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({external_id: 'no-csrf'})});
        return [res.status, refused.status];
    }""")
    assert status == [201, 403]


def test_admin_reachable_for_admin_only(page, browser, live_server):
    _sign_in(page, "admin@example.com")
    page.wait_for_selector("#app")
    assert page.locator("a[href='/admin/']").count() == 1
    response = page.goto("/admin/")
    assert response.status == 200 and "/admin/workflow/" in page.url
    assert page.locator("text=Coupon request").count() >= 1
    viewer_context = browser.new_context(base_url=live_server.url)
    viewer = viewer_context.new_page()
    _sign_in(viewer, "viewer@example.com")
    viewer.wait_for_selector("#app")
    assert viewer.locator("a[href='/admin/']").count() == 0  # no admin link in the top bar
    assert viewer.goto("/admin/workflow/").status == 403
    viewer_context.close()


def test_admin_form_submits_with_its_csrf_token(page):
    _sign_in(page, "admin@example.com")
    page.wait_for_selector("#app")
    page.goto("/admin/tag/new/")
    page.fill("input[name=name]", "from-admin-ui")
    page.click("input[type=submit][value=Save]")
    page.wait_for_url(re.compile(r"/admin/tag/(\?.*)?$"))  # back on the list: it was saved
    assert page.locator("td", has_text="from-admin-ui").count() == 1
