"""Fixtures of the backend tests: the API as each role (``api`` is an editor), seeded data.

The app, database and Redis fixtures come from ``tests/conftest.py``; the JSON client and the
helpers these fixtures use live in ``apikit.py``.
"""

from __future__ import annotations

import pytest
from apikit import Api, make_user


@pytest.fixture
def seeded(app):
    from backend.services.bootstrap import seed_event_types

    seed_event_types()
    return app


@pytest.fixture
def admin(client, seeded):
    user, token = make_user("admin@example.com", "admin")
    return Api(client, token, user)


@pytest.fixture
def editor(client, seeded):
    user, token = make_user("editor@example.com", "editor")
    return Api(client, token, user)


@pytest.fixture
def viewer(client, seeded):
    user, token = make_user("viewer@example.com", "viewer")
    return Api(client, token, user)


@pytest.fixture
def anon(client, seeded):
    return Api(client, None)


@pytest.fixture
def api(editor):
    """The default principal of most tests: an editor."""
    return editor
