"""Helpers for the API tests: a tiny JSON client, users with tokens, sample graphs.

The JSON client and the users live in ``tests/support.py`` (re-exported here); the fixtures
built on them (``api``, ``admin``, ``editor``, ``viewer``, ``anon``, ``seeded``) live in
``tests/conftest.py``.
"""

from __future__ import annotations

__all__ = ["BASE", "Api", "make_user", "simple_graph", "coupon_graph"]

from support import BASE, Api, make_user


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
