"""Issue 10, item 9: a revoked token, a deactivated user or a role change closes their sockets.

A real threaded server and real Socket.IO clients; the deactivation also runs in another
process, so the disconnect travels through Redis to the web process that holds the socket.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import socketio as sio_client
from apikit import BASE, make_user
from runtime_helpers import linear, setup
from werkzeug.serving import make_server

pytestmark = [pytest.mark.redis]
TAG = {"id": "tag", "type": "action.add_tag", "params": {"tag": "done"}}
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def server_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _connect(url: str, token: str) -> sio_client.Client:
    client = sio_client.Client(reconnection=False)
    client.connect(url, auth={"token": token}, wait_timeout=5, transports=["polling"])
    return client


def _closed(client, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    return not client.connected


def _admin_call(app, method: str, path: str, body=None):
    _, token = make_user("root@example.com", "admin")
    return app.test_client().open(
        BASE + path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}
    )


def test_revoking_a_token_closes_its_sockets_only(app, server_url):
    from backend.models import ApiToken

    (wf,) = setup(app, linear(TAG))
    user, plain = make_user("viewer@example.com", "viewer")
    _, other_plain = ApiToken.issue(user, "second")
    from backend.extensions import db

    db.session.commit()
    doomed, kept = _connect(server_url, plain), _connect(server_url, other_plain)
    assert doomed.call("watch", {"workflow_id": wf.id}, timeout=5)["ok"]
    token_id = (
        db.session.query(ApiToken.id).filter_by(user_id=user.id, name="viewer-token").scalar()
    )
    assert _admin_call(app, "DELETE", f"/tokens/{token_id}/").status_code == 204
    assert _closed(doomed)
    assert kept.connected and kept.call("watch", {"workflow_id": wf.id}, timeout=5)["ok"]
    kept.disconnect()


def test_a_role_change_closes_the_users_sockets(app, server_url):
    (wf,) = setup(app, linear(TAG))
    user, plain = make_user("editor@example.com", "editor")
    client = _connect(server_url, plain)
    assert _admin_call(app, "PATCH", f"/users/{user.id}/", {"role": "viewer"}).status_code == 200
    assert _closed(client)
    again = _connect(server_url, plain)  # may reconnect, with the new role
    assert again.call("watch", {"workflow_id": wf.id}, timeout=5)["ok"]
    again.disconnect()


def test_deactivating_a_user_in_another_process_closes_their_sockets(app, server_url):
    user, plain = make_user("viewer@example.com", "viewer")
    client = _connect(server_url, plain)
    script = (
        "import sys; sys.path.insert(0, 'tests')\n"
        "from support import make_app\n"
        "from backend.extensions import db\n"
        "from backend.models import User\n"
        f"app = make_app({app.config['DATABASE_URL']!r}, {app.config['REDIS_URL']!r})\n"
        "with app.app_context():\n"
        f"    db.session.get(User, {user.id}).is_active_user = False\n"
        "    db.session.commit()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=60)
    assert _closed(client)
    with pytest.raises(sio_client.exceptions.ConnectionError):
        _connect(server_url, plain)


def test_watch_rechecks_the_token(app, server_url):
    """Even without the disconnect (Redis lost the record), a revoked token cannot watch."""
    from backend.extensions import db
    from backend.models import ApiToken, utcnow
    from backend.queue import get_redis

    (wf,) = setup(app, linear(TAG))
    user, plain = make_user("viewer@example.com", "viewer")
    client = _connect(server_url, plain)
    get_redis(app).delete(f"fm:sockets:user:{user.id}")
    db.session.query(ApiToken).filter_by(user_id=user.id).update({"revoked_at": utcnow()})
    db.session.commit()
    try:
        answer = client.call("watch", {"workflow_id": wf.id}, timeout=3)
    except sio_client.exceptions.TimeoutError:  # the server hung up before answering
        answer = None
    assert not (answer or {}).get("ok")
    assert _closed(client)
