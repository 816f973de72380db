"""The stack under test for bench/throughput.py: a checkout's PostgreSQL database, private
redis-server, web server (gunicorn, as the checkout's ``gunicorn.conf.py`` configures it) and
workers, every process tagged through its environment so its CPU and memory can be read from
/proc (``procs``); the seed data and the coupon workflow."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import procs

HERE = Path(__file__).resolve().parent.parent
API = "/api/v1/workflow/api"
PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
USERS = 300
# The runtime tests' coupon workload (trigger, condition, three actions), read from this tree
# so that a --ref run of an older commit gets exactly the same graph.
sys.path.insert(0, str(HERE / "tests"))
from runtime_helpers import COUPON  # noqa: E402


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        print("==> installing wrk with apt", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk")


class Tree:
    """One checkout under test: its processes, its database, its Redis."""

    def __init__(self, root: Path):
        self.root, self.id = root, uuid.uuid4().hex[:8]
        self.python = str(HERE / ".venv/bin/python")
        self.db = f"flowmarket_bench_{self.id}"
        self.pg_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.db
        self.redis_port = free_port()
        self.web_port = free_port()
        self.instance = Path(tempfile.mkdtemp(prefix="flowmarket-bench-"))
        self.config = {
            "DATABASE_URL": self.pg_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "RQ_QUEUE": f"bench-{self.id}",
            "SECRET_KEY": "bench-secret",
            "CREDENTIALS_KEY": "2Q0vPz0Eod1m6zHGbvPOY6c3r0n9oZpI0S5n7iBfS0w=",
            "API_RATE_LIMIT_PER_MINUTE": 100_000_000,
            "RATE_LIMIT_PER_CONTACT_PER_MINUTE": 1_000_000,
            "RUN_LEASE_SECONDS": 60,
            "EMBEDDED_WORKER": "off",
            "INSTANCE_PATH": str(self.instance),
        }
        self.procs: dict[str, list[subprocess.Popen]] = {"web": [], "worker": [], "redis": []}
        self.left: list[int] = []  # processes to make sure of at the end (orphans)

    def env(self, kind: str, **over) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update({k: str(v) for k, v in {**self.config, **over}.items() if v is not None})
        env["PYTHONPATH"] = str(self.root)
        env["BENCH_TAG"] = f"{kind}-{self.id}"
        return env

    def spawn(self, kind: str, argv: list[str], stdout: Path | None = None, **over):
        out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
        proc = subprocess.Popen(
            argv,
            cwd=self.root,
            env=self.env(kind, **over),
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT if stdout else subprocess.DEVNULL,
        )
        self.procs.setdefault(kind, []).append(proc)
        return proc

    def pids(self, *kinds: str) -> list[int]:
        out = []
        for kind in kinds:
            if kind == "postgres":
                out += procs.with_cmdline(f" {self.db} ")
            else:  # redis-server overwrites its environment: its Popen pid finds it
                roots = procs.tagged(f"{kind}-{self.id}")
                roots += [p.pid for p in self.procs.get(kind, []) if p.poll() is None]
                out += procs.descendants(roots)
        return out

    def stop(self, kind: str, sig=signal.SIGTERM, timeout: float = 20) -> None:
        for proc in self.procs.get(kind, []):
            if proc.poll() is None:
                os.killpg(proc.pid, sig)
        for proc in self.procs.get(kind, []):
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for pid in procs.alive(self.pids(kind)):  # anything left behind
            os.kill(pid, signal.SIGKILL)
        self.procs[kind] = []

    # -- set-up ---------------------------------------------------------------------------

    def start_redis(self) -> None:
        argv = [shutil.which("redis-server") or "redis-server", "--port", str(self.redis_port)]
        argv += ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"]
        self.spawn("redis", argv)

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db}"')
        self.flask("db", "upgrade")

    def drop_database(self) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')

    def flask(self, *args: str) -> str:
        argv = [self.python, "-m", "flask", "--app", "backend", *args]
        done = subprocess.run(
            argv, cwd=self.root, env=self.env("cli"), capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def seed(self) -> str:
        """Fresh tables, USERS contacts tagged ``interested``, the coupon workflow; a token."""
        code = SEED.format(users=USERS, graph=json.dumps(COUPON))
        done = subprocess.run(
            [self.python, "-c", code],
            cwd=self.root,
            env=self.env("cli"),
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"seeding failed:\n{done.stderr[-3000:]}")
        return done.stdout.strip().splitlines()[-1]

    def start_web(self) -> None:
        """gunicorn as the tree configures it (its ``gunicorn.conf.py``); a tree without one
        (before issue 12) as it was benched then: gthread, 2 processes x 4 threads."""
        argv = [str(HERE / ".venv/bin/gunicorn")]
        if not (self.root / "gunicorn.conf.py").exists():
            argv += ["-k", "gthread", "-w", "2", "--threads", "4"]
        argv += ["-b", f"127.0.0.1:{self.web_port}", "--log-level", "warning"]
        self.spawn("web", [*argv, "backend:create_app()"])
        wait_for(lambda: healthy(self.web_port), 60, "the web server")

    def command(self, *args: str) -> list[str]:
        """The tree's own command line for ``args`` (``serve``, ``worker``): as ``make run``
        starts it, ``python -m backend`` where the tree has it, else the Flask CLI."""
        if (self.root / "backend" / "__main__.py").exists():
            return [self.python, "-m", "backend", *args]
        return [self.python, "-m", "flask", "--app", "backend", *args]

    def start_workers(self, n: int) -> None:
        for _ in range(n):
            self.spawn("worker", self.command("worker"))

    def store_events(self, n: int) -> bool:
        """``n`` coupon events stored in one transaction, with one nudge (the tree's own
        ``accept_events``, in a process of its own); False for a tree without it."""
        done = subprocess.run(
            [self.python, "-c", STORE],
            cwd=self.root,
            env=self.env("cli"),
            input=json.dumps(coupon_events(n)),
            capture_output=True,
            text=True,
        )
        if done.returncode == 3:
            return False
        if done.returncode:
            raise RuntimeError(f"storing events failed:\n{done.stderr[-3000:]}")
        return True

    def sql(self, query: str, *params):
        import psycopg

        with psycopg.connect(self.pg_url) as conn:
            return conn.execute(query, params).fetchone()


SEED = """
import json
from backend import create_app
from backend.extensions import db
from backend.models import ApiToken, User
from backend.services import contacts
from backend.services.bootstrap import seed_event_types
from backend.services.workflows import activate, create_workflow

app = create_app()
with app.app_context():
    names = ", ".join(f'"{{t.name}}"' for t in db.metadata.sorted_tables)
    db.session.execute(db.text(f"TRUNCATE {{names}} RESTART IDENTITY CASCADE"))
    db.session.commit()
    seed_event_types()
    user = User(email="bench@example.com", role="admin")
    user.set_password("bench-password")
    db.session.add(user)
    _, token = ApiToken.issue(user, "bench")
    for i in range({users}):
        contacts.add_tag(contacts.get_or_create_contact(f"b{{i}}", {{"first_name": "Sara"}}),
                         "interested")
    db.session.commit()
    activate(create_workflow("Coupon", graph=json.loads('''{graph}''')))
    print(token)
"""

STORE = """
import json, sys
from backend import create_app

try:
    from backend.runtime.ingest import accept_events
except ImportError:  # a tree before issue 12
    sys.exit(3)
app = create_app()
with app.app_context():
    accept_events(json.load(sys.stdin))
"""


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{API}/health/", timeout=2) as r:
            return r.status < 500
    except OSError as exc:
        return getattr(exc, "code", 500) < 500


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what}")


# -- in-process benches (bench/drain.py, bench/step_overhead.py) ----------------------------


def seed_app(app) -> None:
    """What :meth:`Tree.seed` stores, in this process's ``app``: the active coupon workflow and
    USERS contacts tagged ``interested``."""
    from runtime_helpers import setup

    from backend.extensions import db
    from backend.services import contacts

    with app.app_context():
        setup(app, COUPON, event_types=())
        for i in range(USERS):
            contact = contacts.get_or_create_contact(f"b{i}", {"first_name": "Sara"})
            contacts.add_tag(contact, "interested")
        db.session.commit()
        db.session.remove()


def coupon_events(n: int) -> list[dict]:
    """``n`` coupon events as bench/post_events.lua posts them (fresh keys every call)."""
    run = uuid.uuid4().hex[:8]
    return [
        {
            "event_type": "MESSAGE_RECEIVED",
            "event_id": f"{run}-{i}",
            "user_id": f"b{i * 7 % USERS}",
            "conversation_id": f"c{i * 7 % USERS}",
            "data": {"content": "a coupon please"},
        }
        for i in range(n)
    ]
