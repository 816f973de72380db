"""The per-process token cache (backend.token_cache): a repeated call skips the token query,
and every access change - in this process or another, through objects or a bulk UPDATE -
takes effect on the very next call."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import sql_statements as statements

pytestmark = [pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[3]


def test_a_repeated_call_does_not_look_the_token_up(editor):
    assert editor.get("/workflows/").status_code == 200
    with statements() as seen:
        assert editor.get("/workflows/").status_code == 200
    assert not [s for s in seen if "api_tokens" in s]


def test_a_cached_caller_is_checked_as_it_is_and_attached_only_when_asked(app, editor):
    """The checks (role, rate limit) read the cache's snapshot without a session; a view that
    asks for the user as a row gets it in its own session, not the shared snapshot."""
    from backend import auth
    from backend.extensions import db

    assert editor.get("/workflows/").status_code == 200  # the token is cached now
    headers = {"Authorization": f"Bearer {editor.token}"}
    callers = []
    for _ in range(2):
        with app.test_request_context("/api/v1/workflows/", headers=headers):
            caller = auth.current_caller()
            assert caller.id == editor.user.id and caller not in db.session
            auth.authorize("editor")
            assert auth.current_caller() is caller  # nothing was attached by the check
            row = auth.current_principal()
            assert row is not caller and row in db.session and row.id == caller.id
            assert auth.current_principal() is row and auth.current_caller() is row
            callers.append(caller)
            db.session.remove()
    assert callers[0] is callers[1]  # one snapshot, shared, never modified


def test_bulk_revocation_stops_a_cached_token_at_once(editor):
    from backend.extensions import db
    from backend.models import ApiToken, utcnow

    assert editor.get("/workflows/").status_code == 200
    assert editor.get("/workflows/").status_code == 200  # now from the cache
    db.session.query(ApiToken).filter_by(user_id=editor.user.id).update({"revoked_at": utcnow()})
    db.session.commit()
    assert editor.get("/workflows/").status_code == 401


def test_a_role_change_applies_to_the_next_call(editor):
    from backend.extensions import db

    body = {"name": "Draft"}
    assert editor.post("/workflows/", body).status_code == 201
    assert editor.post("/workflows/", body).status_code == 201
    editor.user.role = "viewer"
    db.session.commit()
    assert editor.post("/workflows/", body).status_code == 403
    assert editor.get("/workflows/").status_code == 200


def test_deactivation_in_another_process_applies_within_the_version_max_age(
    app, editor, monkeypatch
):
    from backend import api_limit
    from backend.extensions import db

    now = [1000.0]
    monkeypatch.setattr(api_limit, "_now", lambda: now[0])

    assert editor.get("/workflows/").status_code == 200
    assert editor.get("/workflows/").status_code == 200
    script = (
        "import sys; sys.path.insert(0, 'tests')\n"
        "from support import make_app\n"
        "from backend.extensions import db\n"
        "from backend.models import User\n"
        f"app = make_app({app.config['DATABASE_URL']!r}, {app.config['REDIS_URL']!r})\n"
        "with app.app_context():\n"
        f"    db.session.get(User, {editor.user.id}).is_active_user = False\n"
        "    db.session.commit()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=60)
    db.session.rollback()  # the test shares the requests' session: drop its loaded user
    now[0] += api_limit.VERSION_MAX_AGE  # the access version read before is now too old
    assert editor.get("/workflows/").status_code == 401
