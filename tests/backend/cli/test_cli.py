"""CLI commands: seeding, samples, users, tokens, first admin; and the real ``flask`` binary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[3]


def _run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    return result


def test_init_workflow_system_is_idempotent(app):
    from backend.models import EventType

    first = _run(app, "init-workflow-system")
    assert first.exit_code == 0 and "8 created" in first.output
    second = _run(app, "init-workflow-system")
    assert "0 created" in second.output
    names = set(app.extensions["sqlalchemy"].session.scalars(select(EventType.name)))
    assert {"MESSAGE_RECEIVED", "USER_CREATED", "TAG_ADDED", "CONVERSATION_STATUS_CHANGED"} <= names


def test_setup_sample_workflows_creates_two_valid_active_graphs_once(app):
    from backend.extensions import db
    from backend.models import Trigger, Workflow

    result = _run(app, "setup-sample-workflows")
    assert result.exit_code == 0, result.output
    flows = {w.name: w for w in db.session.scalars(select(Workflow))}
    assert set(flows) == {"Coupon request", "Welcome new users"}
    coupon = flows["Coupon request"]
    assert coupon.status == "active"
    types = [n["type"] for n in coupon.graph["nodes"]]
    assert types == [
        "trigger.message_received",
        "logic.condition",
        "action.send_message",
        "action.add_tag",
        "flow.wait",
        "action.send_email",
    ]
    assert coupon.graph["nodes"][0]["params"]["keywords"] == ["کد تخفیف", "coupon", "discount"]
    welcome = flows["Welcome new users"].graph
    assert welcome["nodes"][0]["type"] == "trigger.user_created"
    assert welcome["nodes"][2]["params"] == {"tag": "welcomed"}
    assert (
        db.session.scalar(
            select(func.count()).select_from(Trigger).where(Trigger.is_active.is_(True))
        )
        == 2
    )
    again = _run(app, "setup-sample-workflows")
    assert "already exist" in again.output
    assert db.session.scalar(select(func.count()).select_from(Workflow)) == 2


def test_create_user_and_token(app):
    from backend.extensions import db
    from backend.models import ApiToken, User, hash_token

    made = _run(
        app, "create-user", "Ops@Example.com", "--role", "editor", "--password", "s3cretpass"
    )
    assert made.exit_code == 0 and "editor ops@example.com" in made.output
    user = db.session.scalar(select(User).where(User.email == "ops@example.com"))
    assert user.check_password("s3cretpass")
    dup = _run(app, "create-user", "ops@example.com", "--password", "s3cretpass")
    assert dup.exit_code != 0 and "already exists" in dup.output
    short = _run(app, "create-user", "x@example.com", "--password", "short")
    assert short.exit_code != 0
    generated = _run(app, "create-user", "gen@example.com")
    assert "password: " in generated.output
    token = _run(app, "create-api-token", "ops@example.com")
    plain = token.output.strip().splitlines()[-1]
    assert plain.startswith("fm_")
    assert db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    assert _run(app, "create-api-token", "nobody@example.com").exit_code != 0


def test_ensure_first_admin_only_on_an_empty_database(app):
    from backend.cli import ensure_first_admin
    from backend.extensions import db
    from backend.models import User

    message = ensure_first_admin()
    assert message and "password:" in message and "/login" in message
    password = message.split("password: ")[1].split()[0]
    admin = db.session.scalar(select(User))
    assert admin.role == "admin" and admin.check_password(password)
    assert ensure_first_admin() is None
    assert "nothing to do" in _run(app, "create-first-admin").output


def test_flask_binary_and_console_script(tmp_path):
    env = {
        **os.environ,
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    flask = [str(ROOT / ".venv/bin/flask"), "--app", "backend"]

    def run(cmd):
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout

    run([*flask, "db", "upgrade"])
    run([*flask, "create-user", "me@example.com", "--role", "admin", "--password", "password123"])
    token = run([*flask, "create-api-token", "me@example.com"]).strip().splitlines()[-1]
    assert token.startswith("fm_") and " " not in token
    script = [sys.executable, "-c", "from backend.cli import main; main()", "init-workflow-system"]
    assert "created" in run(script)


def _python(tmp_path: Path, *args: str, database_url: str | None = None):
    """``python *args`` on the embedded defaults (no REDIS_URL) in the instance ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        INSTANCE_PATH=str(tmp_path), DATABASE_URL=database_url or f"sqlite:///{tmp_path}/t.db"
    )
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_python_m_backend_runs_the_commands_without_loading_flask_migrate(tmp_path):
    """``python -m backend`` (what ``make run`` starts) runs the app's commands without the
    Flask CLI's extension discovery: Alembic is not imported by it (``serve`` keeps its memory)."""
    probe = (
        "import sys, runpy; sys.argv = ['backend', '--help']\n"
        "try:\n    runpy.run_module('backend', run_name='__main__')\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print('alembic loaded:', 'alembic' in sys.modules)"
    )
    out = _python(tmp_path, "-c", probe)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "serve" in out.stdout and "create-user" in out.stdout
    assert "alembic loaded: False" in out.stdout


SETUP_APART = """
import sys
from backend import create_app
from backend.runtime_cli import _setup_apart
from backend.extensions import db
from sqlalchemy import inspect
app = create_app()
with app.app_context():
    lines = _setup_apart()
    print("tables:", sorted(inspect(db.engine).get_table_names())[:3] != [])
    print("first admin:", any("first admin" in line for line in lines))
    print("alembic here:", "alembic" in sys.modules)
"""


def test_serve_setup_runs_in_a_child_that_takes_the_migrations_with_it(tmp_path):
    out = _python(tmp_path, "-c", SETUP_APART)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "tables: True" in out.stdout  # migrated, by the child
    assert "first admin: True" in out.stdout  # its lines came back
    assert "alembic here: False" in out.stdout  # and Alembic did not stay in this process
    # Activating the samples started the embedded redis-server in the child: it stopped it.
    assert _running_in(tmp_path) == []


def test_serve_setup_failure_names_the_cause_and_exits_non_zero(tmp_path):
    unreachable = "postgresql://127.0.0.1:1/unreachable"  # nothing listens on port 1
    out = _python(tmp_path, "-m", "backend", "serve", "--port", "1", database_url=unreachable)
    assert out.returncode == 1
    first = out.stderr.strip().splitlines()[0]
    assert first.startswith("Error: setup failed: ") and "OperationalError" in first, first
    assert "Traceback" in out.stderr  # the child's own, for the details


EMBEDDED_REDIS = """
from backend import create_app
from backend.queue import get_redis
app = create_app()
with app.app_context():
    client = get_redis()
    client.ping()
    print("socket:", client.connection_pool.connection_kwargs["path"])
"""


def test_a_process_that_started_the_embedded_redis_stops_it_when_it_exits(tmp_path):
    """A command on the embedded defaults (create-api-token, a test run...) leaves no
    redis-server behind, though its client is still connected when it exits."""
    out = _python(tmp_path, "-c", EMBEDDED_REDIS)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "socket:" in out.stdout  # it did start one
    assert _running_in(tmp_path) == []
    assert (tmp_path / "redis.rdb").exists()  # it saved on the way out


def _running_in(folder: Path) -> list[str]:
    """The processes working in ``folder``: the embedded redis-server works in the instance
    folder (its data's)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and Path(os.readlink(entry / "cwd")) == folder:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


SETUP_DIES = """
import os
import click
from backend import create_app, runtime_cli
runtime_cli._setup = lambda: os._exit(3)  # the child dies without a word
app = create_app()
with app.app_context():
    try:
        runtime_cli._setup_apart()
    except click.ClickException as exc:
        print("raised:", exc.message)
"""


def test_serve_setup_child_that_dies_without_a_word_is_a_failure(tmp_path):
    out = _python(tmp_path, "-c", SETUP_DIES)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "raised: setup failed: its process ended with code 3" in out.stdout


def test_a_fresh_instance_is_told_to_run_setup_then_setup_makes_it_ready(tmp_path):
    """Before any ``serve``: a command that needs the tables says what to do (no traceback);
    ``setup`` migrates, seeds and creates the first admin, then the command works."""
    create = ("-m", "backend", "create-user", "me@example.com", "--password", "password123")
    before = _python(tmp_path, *create)
    assert before.returncode == 1
    assert "Traceback" not in before.stderr
    assert "run `python -m backend setup` first" in before.stderr, before.stderr

    setup = _python(tmp_path, "-m", "backend", "setup")
    assert setup.returncode == 0, setup.stderr[-2000:]
    assert "first admin" in setup.stdout and "The database is ready." in setup.stdout
    again = _python(tmp_path, "-m", "backend", "setup")  # idempotent
    assert again.returncode == 0 and "first admin" not in again.stdout, again.stderr[-2000:]

    after = _python(tmp_path, *create)
    assert after.returncode == 0, after.stderr[-2000:]
    assert "created viewer me@example.com" in after.stdout
    assert _running_in(tmp_path) == []  # setup's embedded redis-server did not stay behind
