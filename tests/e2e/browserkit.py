"""Fixtures for browser tests: the app served on a free port, and Debian's Chromium via Playwright.

Import them into a test module with ``from browserkit import *  # noqa: F403``.
"""

from __future__ import annotations

import os
import threading

import pytest

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "live_server",
    "browser",
    "page",
    "LiveServer",
    "close_browser",
]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class LiveServer:
    """The Flask app in a background thread (werkzeug) against its own SQLite database."""

    def __init__(self, app):
        from support import free_port
        from werkzeug.serving import make_server

        self.app = app
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, redis_url):
    """The product on a free port: migrated SQLite, seeded samples, admin/editor/viewer users."""
    from support import create_schema, make_app

    db_path = tmp_path_factory.mktemp("e2e") / "e2e.db"
    app = make_app(f"sqlite:///{db_path}", redis_url, WTF_CSRF_ENABLED=True, TESTING=False)
    create_schema(app)
    with app.app_context():
        from backend.services.bootstrap import create_user, setup_sample_workflows

        setup_sample_workflows()
        for role in ("admin", "editor", "viewer"):
            create_user(f"{role}@example.com", "password123", role)
    server = LiveServer(app).start()
    yield server
    server.stop()


# One Playwright + Chromium for the whole run: every module that star-imports these fixtures gets
# its own session fixture, and Playwright's sync API cannot start twice in one process.
_shared: dict = {}


def close_browser() -> None:
    """Stop the shared browser (registered to run when pytest finishes)."""
    if "browser" in _shared:
        _shared.pop("browser").close()
        _shared.pop("playwright").stop()


@pytest.fixture(scope="session")
def browser(request):
    if not os.path.exists(CHROMIUM):
        from support import unavailable

        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    if "browser" not in _shared:
        from playwright.sync_api import sync_playwright

        _shared["playwright"] = sync_playwright().start()
        _shared["browser"] = _shared["playwright"].chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        request.config.add_cleanup(close_browser)
    return _shared["browser"]


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test, with a 10 s default timeout."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()
