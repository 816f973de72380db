"""Helpers for the API tests: a tiny JSON client, users with tokens, sample graphs.

The fixtures built on them (``api``, ``admin``, ``editor``, ``viewer``, ``anon``, ``seeded``)
live in ``tests/backend/conftest.py``.
"""

from __future__ import annotations

import json

BASE = "/api/v1/workflow/api"

__all__ = ["BASE", "Api", "make_user", "simple_graph", "coupon_graph"]


class Api:
    """JSON calls against the test client as one principal (``token=None``: anonymous)."""

    def __init__(self, client, token: str | None, user=None):
        self.client, self.token, self.user = client, token, user

    def call(
        self,
        method: str,
        path: str,
        body=None,
        *,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        headers: dict | None = None,
        **query,
    ):
        all_headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        all_headers.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        url = path if path.startswith("/") and not path.startswith(BASE) else path
        url = url if url.startswith(BASE) else BASE + url
        return self.client.open(
            url,
            method=method,
            data=data,
            headers=all_headers,
            content_type=content_type if data is not None else None,
            query_string=query or None,
        )

    def get(self, path, **query):
        return self.call("GET", path, **query)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def make_user(email: str, role: str):
    from backend.extensions import db
    from backend.models import ApiToken, User

    user = User(email=email, role=role)
    user.set_password("password123")
    db.session.add(user)
    _, plain = ApiToken.issue(user, f"{role}-token")
    db.session.commit()
    return user, plain


def simple_graph(text: str = "Hi {{ user.first_name }}") -> dict:
    return {
        "format": "workflow-graph/v1",
        "name": "Simple",
        "nodes": [
            {"id": "start", "type": "trigger.message_received", "params": {"keywords": ["hello"]}},
            {"id": "send", "type": "action.send_message", "params": {"text": text}},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "send"}],
    }


def coupon_graph() -> dict:
    from backend.services.bootstrap import sample_graphs

    return sample_graphs()["Coupon request"][1]
