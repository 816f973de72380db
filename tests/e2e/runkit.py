"""Helpers for the run views' browser tests: a real worker next to the live server, a bearer-token
API client, and signing in.

Import with ``from runkit import *  # noqa: F403`` after ``from browserkit import *``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

__all__ = ["Api", "api_as", "live_worker", "sign_in", "save_shot", "coupon_id"]

API = "/api/v1/workflow/api"


class Api:
    """The REST API of the live server, as one user (bearer token)."""

    def __init__(self, base_url: str, token: str):
        self.base = base_url + API
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body=None, expect: int | None = 200):
        res = self.http.request(method, self.base + path, json=body, timeout=15)
        if expect is not None:
            assert res.status_code == expect, f"{method} {path}: {res.status_code} {res.text}"
        return res.json() if res.content else None

    def get(self, path: str):
        return self.call("GET", path)

    def post(self, path: str, body=None, expect: int | None = 200):
        return self.call("POST", path, body, expect)


def api_as(live_server, email: str) -> Api:
    """An API client for an existing user (a fresh token)."""
    from backend.extensions import db
    from backend.models import ApiToken, User

    with live_server.app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        _, plain = ApiToken.issue(user, "e2e")
        db.session.commit()
    return Api(live_server.url, plain)


@pytest.fixture(scope="module")
def live_worker(live_server):
    """An RQ worker (thread, with scheduler) serving the live server's queue."""
    from backend.worker import EmbeddedWorker

    worker = EmbeddedWorker(live_server.app).start()
    yield worker
    worker.stop()


def sign_in(page, email: str, password: str = "password123") -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_url("**/workflows")


def save_shot(page, name: str, tmp_path: Path) -> Path:
    """A screenshot as a test artifact (also copied to ``$E2E_SHOT_DIR`` when set)."""
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("E2E_SHOT_DIR"):
        (Path(os.environ["E2E_SHOT_DIR"]) / shot.name).write_bytes(shot.read_bytes())
    return shot


def coupon_id(api: Api) -> int:
    found = [
        w["id"]
        for w in api.get("/workflows/?page_size=100")["results"]
        if w["name"] == "Coupon request"
    ]
    assert found, "the seeded coupon workflow is missing"
    return found[0]
