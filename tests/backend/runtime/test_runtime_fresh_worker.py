"""A fresh worker process imports the runtime in any order and runs the periodic retry job.

Before the runtime became one package with one-way imports, ``runner`` and ``run_control``
imported each other and ``retry_failed_actions`` failed on a fresh worker that happened to import
``run_control`` first (issue 10, item 3).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from runtime_helpers import FlakyServer, linear, setup, work
from sqlalchemy import select

from backend.extensions import db
from backend.models import WorkflowExecution
from backend.runtime.ingest import accept_event

pytestmark = [pytest.mark.redis]

TESTS = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys
import backend.runtime.run_control  # first, before anything else of the backend
sys.path.insert(0, sys.argv[1])
from support import make_app
from backend import jobs
app = make_app(sys.argv[2], sys.argv[3], RQ_QUEUE=sys.argv[4])
with app.app_context():
    print(json.dumps(jobs.retry_failed_actions()))
"""


def test_retry_job_runs_in_a_fresh_interpreter_that_imports_run_control_first(app):
    server = FlakyServer([500])
    app.config["OUTBOUND_MODE"] = "live"
    hook = {
        "id": "hook",
        "type": "action.webhook",
        "params": {"url": server.url},
        "retry": {"max_attempts": 1},
    }
    try:
        setup(app, linear(hook))
        accept_event({"event_type": "PING", "user_id": "u1"})
        work(app)
        run = db.session.scalar(select(WorkflowExecution))
        assert run.status == "failed" and "HTTP 500" in run.error
        first_job = run.rq_job_id  # the drain job that created and ran it
        assert first_job
        args = [
            str(TESTS),
            app.config["DATABASE_URL"],
            app.config["REDIS_URL"],
            app.config["RQ_QUEUE"],
        ]
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.strip().splitlines()[-1]) == [run.id]
        work(app)
        db.session.expire_all()
        run = db.session.get(WorkflowExecution, run.id)
        assert run.status == "succeeded" and len(server.requests) == 2
        assert run.rq_job_id and run.rq_job_id != first_job  # the job the retry dispatched
    finally:
        server.close()
        app.config["OUTBOUND_MODE"] = "capture"
