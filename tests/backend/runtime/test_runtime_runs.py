"""Runs: waits, retries with backoff, failures, cancel / retry, manual starts, lease recovery."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from runtime_helpers import FlakyServer, clock_ahead, linear, setup, work
from sqlalchemy import select, update

from backend.extensions import db
from backend.models import OutboundMessage, StepExecution, WorkflowExecution, utcnow
from backend.runtime import run_control, runner
from backend.runtime.ingest import accept_event

pytestmark = [pytest.mark.redis]

WAIT = {"id": "wait", "type": "flow.wait", "params": {"seconds": 1}}
TAG = {"id": "tag", "type": "action.add_tag", "params": {"tag": "done"}}


def _only_run() -> WorkflowExecution:
    db.session.expire_all()
    return db.session.scalars(select(WorkflowExecution)).one()


def _steps(run) -> list[tuple]:
    return [
        (s.node_id, s.status)
        for s in db.session.scalars(
            select(StepExecution).filter_by(execution_id=run.id).order_by(StepExecution.seq)
        )
    ]


def test_wait_schedules_a_resume_that_completes_the_run(app):
    from rq.registry import ScheduledJobRegistry

    from backend.queue import get_queue

    setup(app, linear(WAIT, TAG))
    accept_event({"event_type": "PING", "user_id": "u1"})
    work(app)
    run = _only_run()
    assert run.status == "waiting" and run.resume_at is not None and run.lease_owner is None
    assert len(ScheduledJobRegistry(queue=get_queue(app))) == 1
    # RQ's scheduler keeps real time: wait for the condition (generously), not a fixed sleep.
    deadline = time.monotonic() + 30
    while _only_run().status != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.2)
        work(app, scheduler=True)  # the scheduler enqueues the due resume, the worker runs it
    run = _only_run()
    assert run.status == "succeeded"
    assert _steps(run) == [
        ("t", "succeeded"),
        ("wait", "succeeded"),
        ("tag", "succeeded"),
    ]  # resumed


def test_sweeper_resumes_a_waiting_run_whose_job_redis_lost(app):
    from backend.queue import get_redis
    from backend.runtime.sweeper import sweep

    setup(app, linear(WAIT, TAG))
    app.config["EVENT_GRACE_SECONDS"] = 0
    accept_event({"event_type": "PING", "user_id": "u1"})
    work(app)
    get_redis(app).flushdb()  # the scheduled resume is gone
    with clock_ahead(app, 5):  # the wait is over, without sleeping through it
        assert sweep(force=True)["runs"] == [_only_run().id]
        work(app)
    assert _only_run().status == "succeeded"


def test_retries_follow_the_node_policy_with_backoff(app):
    server = FlakyServer([500, 503])
    app.config["OUTBOUND_MODE"] = "live"
    hook = {
        "id": "hook",
        "type": "action.webhook",
        "params": {"url": server.url + "/x"},
        "retry": {"max_attempts": 3, "backoff_seconds": 0.3, "backoff_factor": 2},
    }
    try:
        setup(app, linear(hook))
        accept_event({"event_type": "PING", "user_id": "u1"})
        work(app)
        assert _only_run().status == "waiting"  # attempt 1 failed, retry scheduled
        deadline = time.monotonic() + 10
        while _only_run().status != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.3)
            work(app, scheduler=True)
        run = _only_run()
        assert run.status == "succeeded"
        assert _steps(run) == [
            ("t", "succeeded"),
            ("hook", "retrying"),
            ("hook", "retrying"),
            ("hook", "succeeded"),
        ]
        assert len(server.requests) == 3
        sent = db.session.scalars(select(OutboundMessage)).one()
        assert sent.status == "sent" and sent.channel == "http"
    finally:
        server.close()
        app.config["OUTBOUND_MODE"] = "capture"


def test_exhausted_retries_fail_the_run_keeping_the_error(app):
    server = FlakyServer([500, 500])
    app.config["OUTBOUND_MODE"] = "live"
    hook = {
        "id": "hook",
        "type": "action.webhook",
        "params": {"url": server.url},
        "retry": {"max_attempts": 2, "backoff_seconds": 0, "backoff_factor": 1},
    }
    try:
        setup(app, linear(hook))
        accept_event({"event_type": "PING", "user_id": "u1"})
        work(app)
        run = _only_run()
        assert run.status == "failed" and "HTTP 500" in run.error
        assert _steps(run)[-1] == ("hook", "failed")
    finally:
        server.close()
        app.config["OUTBOUND_MODE"] = "capture"


def test_ssrf_guard_refuses_private_addresses_without_retrying(app):
    app.config.update(OUTBOUND_MODE="live", HTTP_ALLOW_PRIVATE="")
    # A name passes validation (it could resolve anywhere); the send-time check refuses it.
    hook = {"id": "hook", "type": "action.webhook", "params": {"url": "http://localhost:9/"}}
    try:
        setup(app, linear(hook))
        accept_event({"event_type": "PING", "user_id": "u1"})
        work(app)
        run = _only_run()
        assert run.status == "failed" and "not public" in run.error
    finally:
        app.config.update(OUTBOUND_MODE="capture", HTTP_ALLOW_PRIVATE="loopback")


def test_cancel_a_waiting_run_then_retry_it(app):
    setup(app, linear(WAIT, TAG))
    accept_event({"event_type": "PING", "user_id": "u1"})
    work(app)
    run = run_control.cancel(_only_run())
    assert run.status == "cancelled"
    from backend.runtime.run_control import RunControlError

    with pytest.raises(RunControlError):
        run_control.cancel(run)
    run_control.retry(_only_run())
    work(app)
    run = _only_run()
    assert run.status == "succeeded" and _steps(run)[-1] == ("tag", "succeeded")


def test_start_manual_runs_for_the_named_contact(app):
    manual = {"id": "m", "type": "trigger.manual"}
    (wf,) = setup(app, linear(TAG, trigger=manual))
    ex = run_control.start_manual(wf, {"why": "test"}, "manual-user")
    assert ex.status == "pending"
    work(app)
    run = _only_run()
    assert run.status == "succeeded" and run.contact.tag_names == ["done"]


def test_expired_lease_of_a_dead_worker_is_taken_over_once(app):
    from backend.runtime.sweeper import sweep

    manual = {"id": "m", "type": "trigger.manual"}
    (wf,) = setup(app, linear(TAG, trigger=manual))
    ex = run_control.start_manual(wf, {}, "u1")
    # A worker took the run and died: its lease is someone else's and has expired.
    db.session.execute(
        update(WorkflowExecution).values(
            status="running",
            lease_owner="dead-host:1:x",
            lease_expires_at=utcnow() - timedelta(seconds=1),
        )
    )
    db.session.commit()
    from backend.queue import get_redis

    get_redis(app).flushdb()
    assert runner.advance(ex.id) == "succeeded"  # an expired lease can be taken over
    assert sweep(force=True)["runs"] == []
    assert [s for s in _steps(_only_run()) if s[1] == "succeeded"] == [
        ("m", "succeeded"),
        ("tag", "succeeded"),
    ]


def test_a_live_lease_blocks_other_workers(app):
    manual = {"id": "m", "type": "trigger.manual"}
    (wf,) = setup(app, linear(TAG, trigger=manual))
    ex = run_control.start_manual(wf, {}, "u1")
    db.session.execute(
        update(WorkflowExecution).values(
            status="running",
            lease_owner="other:1:x",
            lease_expires_at=utcnow() + timedelta(minutes=1),
        )
    )
    db.session.commit()
    assert runner.advance(ex.id) == "busy"
    assert _steps(_only_run()) == []
