"""The reliability harness: real worker processes, a real web server, PostgreSQL, Redis, and a
TCP proxy that can cut the database off. Shared by the reliability tests and the benchmarks."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(ROOT / ".venv" / "bin" / "flask")
API = "/api/v1/workflow/api"


def runtime_config(pg_url: str, redis_url: str, **extra) -> dict:
    return {
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "RQ_QUEUE": f"rel-{uuid.uuid4().hex[:6]}",
        "RUN_LEASE_SECONDS": 2,
        "SWEEP_INTERVAL_SECONDS": 1,
        "EVENT_GRACE_SECONDS": 1,
        "HTTP_ALLOW_PRIVATE": "loopback",
        "SECRET_KEY": "rel-secret",
        "API_RATE_LIMIT_PER_MINUTE": 10_000_000,
        "RATE_LIMIT_PER_CONTACT_PER_MINUTE": 10_000,
        "CREDENTIALS_KEY": "2Q0vPz0Eod1m6zHGbvPOY6c3r0n9oZpI0S5n7iBfS0w=",
        **extra,
    }


class Workers:
    """``flask --app backend worker`` processes, each in its own process group."""

    def __init__(self, config: dict):
        self.config, self.procs = config, []

    def env(self, **over) -> dict:
        env = dict(os.environ)
        env.update(
            {
                k: str(v)
                for k, v in {**self.config, **over}.items()
                if isinstance(v, str | int | float)
            }
        )
        env["EMBEDDED_WORKER"] = "off"
        return env

    def start(self, n: int = 1, **over) -> None:
        # FLOWMARKET_TEST_WORKER_LOG=<file>: keep the workers' output there (for debugging).
        log = os.environ.get("FLOWMARKET_TEST_WORKER_LOG")
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
        for _ in range(n):
            self.procs.append(
                subprocess.Popen(
                    [FLASK, "--app", "backend", "worker"],
                    cwd=ROOT,
                    env=self.env(**over),
                    start_new_session=True,
                    stdout=out,
                    stderr=out,
                )
            )

    def kill(self, sig=signal.SIGKILL) -> None:
        """Kill every worker process group (worker, its scheduler and cron children)."""
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
            proc.wait(15)
        self.procs = []


class Proxy:
    """A TCP forwarder to ``target`` that can cut, refuse and black-hole connections at will.

    ``cut()``: open connections are reset and new ones refused (a database that is down).
    ``blackhole()``: open connections stop answering and new ones are accepted but never
    answered (packets vanish: a firewall drop, a dead host behind a live router).
    """

    def __init__(self, target: tuple[str, int]):
        self.target, self.mode, self.conns, self.held = target, "up", [], []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def up(self) -> bool:
        return self.mode == "up"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if self.mode == "down":
                client.close()
                continue
            if self.mode == "blackhole":
                self.held.append(client)  # accepted, never answered
                continue
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, a, b) -> None:
        try:
            while data := a.recv(65536):
                if self.mode != "blackhole":  # black-holed: swallow everything
                    b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _reset_all(self) -> None:
        for conn in self.conns + self.held:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.conns, self.held = [], []

    def cut(self) -> None:
        self.mode = "down"
        self._reset_all()

    def blackhole(self) -> None:
        self.mode = "blackhole"

    def restore(self) -> None:
        if self.mode == "blackhole":
            self._reset_all()  # their streams lost bytes: they cannot be resumed
        self.mode = "up"


def post_events(port: int, token: str, payloads: list[dict], threads: int = 8) -> list[int]:
    """POST each payload to process_event/ over keep-alive connections; return the statuses."""
    local = threading.local()

    def one(payload):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(
            "POST",
            f"{API}/triggers/process_event/",
            body=json.dumps(payload),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        resp.read()
        return resp.status

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, payloads))


def wait_until(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def python() -> str:
    return sys.executable
