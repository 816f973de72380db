"""The backend tests' fixtures: the Flask test client and the API as each role.

Built on ``app`` (tests/conftest.py: a clean database on SQLite and PostgreSQL, a real Redis).
"""

from __future__ import annotations

import pytest
from socketkit import serving
from support import Api, make_user


@pytest.fixture
def client(app):
    return app.test_client()


# -- the API as each role (``api`` is an editor) ----------------------------------------------


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


@pytest.fixture
def server_url(app):
    """The app served for real (threaded werkzeug) on a free port, for Socket.IO clients."""
    with serving(app) as url:
        yield url
