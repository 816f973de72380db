"""``python -m backend serve`` as ``make run`` starts it: the production server, live traces
over a WebSocket, and a clean stop (every process it started gone, no traceback).

A real subprocess on the embedded defaults (SQLite + embedded Redis + the in-process worker)
and a real python-socketio client on the WebSocket transport.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import socketio as sio_client
from support import free_port

ROOT = Path(__file__).resolve().parents[3]
API = "/api/v1/workflow/api"
pytestmark = [pytest.mark.timeout(180)]


def _call(base: str, path: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        base + API + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _up(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + API + "/health/", timeout=2):
            return True
    except OSError as exc:
        return getattr(exc, "code", None) is not None  # it answered (unhealthy is still up)


def _wait(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _with_cmdline(part: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if part.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _started(proc, log: Path) -> list[int]:
    """``serve``, its children, and the embedded redis-server (a daemon: found by the unix
    socket that ``serve`` printed)."""
    found = re.search(r"Redis: unix://(\S+?);", log.read_text())
    redis_pids = _with_cmdline(found.group(1)) if found else []
    return [proc.pid, *_descendants(proc.pid), *redis_pids]


def _descendants(pid: int) -> list[int]:
    """``pid``'s children and theirs."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        out.append(child)
        todo += children.get(child, [])
    return out


@pytest.fixture
def served(tmp_path):
    """``serve`` on a free port with a fresh instance folder; yields (base URL, process, log)."""
    port, log = free_port(), tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(INSTANCE_PATH=str(tmp_path / "instance"), EMBEDDED_WORKER="auto")
    argv = [sys.executable, "-m", "backend", "serve", "--port", str(port)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        assert _wait(lambda: _up(base) or proc.poll() is not None, 90), log.read_text()
        assert proc.poll() is None, log.read_text()
        yield base, proc, log, env
    finally:
        for pid in _started(proc, log):
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(10)


def _token(env: dict) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "backend",
            "create-api-token",
            "admin@example.com",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_serve_streams_traces_over_a_websocket_and_stops_clean(served):
    base, proc, log, env = served
    token = _token(env)
    workflows = _call(base, "/workflows/", token)["results"]
    coupon = next(w for w in workflows if w["name"] == "Coupon request")
    client = sio_client.Client(reconnection=False)
    traces: list[dict] = []
    client.on("trace", traces.append)
    client.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    assert client.transport() == "websocket"
    assert client.call("watch", {"workflow_id": coupon["id"]}, timeout=10)["ok"]
    event = {"event_type": "MESSAGE_RECEIVED", "user_id": "u1", "data": {"content": "coupon"}}
    _call(base, "/triggers/process_event/", token, event)
    assert _wait(lambda: any(t.get("kind") == "run_finished" for t in traces), 60), traces
    started = _started(proc, log)
    assert len(started) >= 2, "serve and its embedded redis-server"

    proc.send_signal(signal.SIGINT)  # Ctrl-C, with a WebSocket still open
    proc.wait(60)
    client.disconnect()
    output = log.read_text()
    assert proc.returncode == 0, output
    assert not [pid for pid in started if _running(pid)], output
    assert "Traceback" not in output
    assert "development server" not in output.lower()
    assert "FlowMarket stopped." in output
