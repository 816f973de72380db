"""Limits (re-entry, runs per day, per-contact rate), AI fallback, schedules, webhook triggers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from runtime_helpers import FlakyServer, graph, linear, message, setup, work
from sqlalchemy import func, select, update

from backend.extensions import db
from backend.models import EventLog, Trigger, WorkflowExecution, utcnow
from backend.runtime.ingest import accept_event

pytestmark = [pytest.mark.redis]
TAG = {"id": "tag", "type": "action.add_tag", "params": {"tag": "done"}}


def _run_events(app, n: int, user: str = "u1") -> list[dict]:
    for _ in range(n):
        accept_event({"event_type": "PING", "user_id": user})
    work(app)
    db.session.expire_all()
    rows = db.session.scalars(select(EventLog).order_by(EventLog.id)).all()
    return [entry for row in rows for entry in row.matched_workflows]


def _runs() -> int:
    return db.session.scalar(select(func.count(WorkflowExecution.id)))


def _rate_limit_at(app, monkeypatch, limit: int):
    """Set the per-contact rate limit, pin the runtime's clock and create contact ``u1``; that
    minute's counter of ``u1``, as a function."""
    from backend.queue import get_redis
    from backend.services import contacts

    now = utcnow()
    monkeypatch.setitem(app.config, "RATE_LIMIT_PER_CONTACT_PER_MINUTE", limit)
    monkeypatch.setitem(app.config, "RUNTIME_CLOCK", lambda: now)
    # The contact exists before its events: a batch rolled back on PostgreSQL would
    # otherwise give it a new id (sequences do not roll back), and a new counter.
    contacts.get_or_create_contact("u1", {})
    db.session.commit()

    def counter() -> int:
        contact_id = db.session.scalar(select(WorkflowExecution.contact_id))
        return int(get_redis().get(f"fm:rate:{contact_id}:{int(now.timestamp() // 60)}"))

    return counter


@pytest.mark.parametrize(
    ("settings", "expected_runs", "reason"),
    [
        ({"reentry": "always"}, 3, None),
        ({"reentry": "once"}, 1, "reentry_once"),
        ({"reentry": "once_per_hours", "reentry_hours": 2}, 1, "reentry_once_per_2_hours"),
        (
            {"reentry": "always", "max_runs_per_contact_per_day": 2},
            2,
            "max_runs_per_contact_per_day",
        ),
    ],
)
def test_workflow_reentry_and_daily_limits(app, settings, expected_runs, reason):
    setup(app, linear(TAG, **settings))
    entries = _run_events(app, 3)
    assert _runs() == expected_runs
    skipped = [e["skipped"] for e in entries if "skipped" in e]
    assert skipped == ([reason] * (3 - expected_runs) if reason else [])
    assert "execution_id" in _run_events(app, 1, user="someone-else")[-1]  # per contact


def test_once_per_hours_allows_a_new_run_after_the_window(app):
    setup(app, linear(TAG, reentry="once_per_hours", reentry_hours=1))
    _run_events(app, 1)
    db.session.execute(update(WorkflowExecution).values(created_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    _run_events(app, 1)
    assert _runs() == 2


def test_global_rate_limit_per_contact(app):
    app.config["RATE_LIMIT_PER_CONTACT_PER_MINUTE"] = 2
    try:
        setup(app, linear(TAG))
        entries = _run_events(app, 4)
        assert _runs() == 2
        assert [e.get("skipped") for e in entries] == [None, None, "rate_limited", "rate_limited"]
    finally:
        app.config["RATE_LIMIT_PER_CONTACT_PER_MINUTE"] = 30


def test_a_batch_counts_the_rate_limit_as_one_by_one_would(app):
    """A drain batch reserves its known contacts' counts at once (one Redis round trip), yet
    limits the same runs and leaves the same counter as counting run by run: two workflows per
    event use more than the reservation, an event that starts nothing gives its count back."""
    from backend.queue import get_redis

    now = utcnow()
    app.config.update(RATE_LIMIT_PER_CONTACT_PER_MINUTE=5, RUNTIME_CLOCK=lambda: now)
    try:
        setup(app, linear(TAG), linear(TAG), event_types=("PING", "PONG"))
        assert [e.get("skipped") for e in _run_events(app, 1)] == [None, None]  # counts 2
        contact_id = db.session.scalar(select(WorkflowExecution.contact_id))
        key = f"fm:rate:{contact_id}:{int(now.timestamp() // 60)}"
        assert int(get_redis().get(key)) == 2
        for _ in range(2):
            accept_event({"event_type": "PONG", "user_id": "u1"})  # matches nothing
        entries = _run_events(app, 1)  # one batch: PONG, PONG, PING -> 2 runs
        assert [e.get("skipped") for e in entries[2:]] == [None, None]
        assert int(get_redis().get(key)) == 4  # the PONGs' reservations given back
        entries = _run_events(app, 2)  # PING, PING -> 4 runs wanted, the 5th count is the last
        assert [e.get("skipped") for e in entries[4:]] == [None, *["rate_limited"] * 3]
        assert _runs() == 5
        assert int(get_redis().get(key)) == 8  # every run counted, as one by one
    finally:
        app.config["RATE_LIMIT_PER_CONTACT_PER_MINUTE"] = 30
        app.config.pop("RUNTIME_CLOCK", None)


def test_a_batch_whose_transaction_fails_counts_its_runs_once(app, monkeypatch):
    """The batch's transaction rolls back and the batch is done again (two steps): the rolled
    back runs never existed, so the rate counter ends as one pass leaves it, and the runs of
    the second pass are not limited by the counts of the first."""
    from sqlalchemy.exc import OperationalError

    from backend.runtime import batch

    def lose_the_connection(runs):
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    counter = _rate_limit_at(app, monkeypatch, 5)
    monkeypatch.setattr(batch, "_write", lose_the_connection)
    setup(app, linear(TAG), linear(TAG))
    entries = _run_events(app, 2)  # 2 events x 2 workflows: 2 reserved, 2 one by one
    assert [e.get("skipped") for e in entries] == [None] * 4
    assert _runs() == 4 and counter() == 4


def test_a_batch_done_again_carefully_counts_its_runs_once(app, monkeypatch):
    """The last event of a batch fails, so the batch is rolled back and done again with a
    savepoint per event: the first pass's counts are given back, the bad event is ``failed``
    and the others' runs are counted once."""
    from backend.runtime import processing

    real = processing._process_one

    def fail_the_bad_one(ev, batch):
        if ev.payload.get("data", {}).get("bad"):
            raise ValueError("a bad event")
        return real(ev, batch)

    counter = _rate_limit_at(app, monkeypatch, 5)
    monkeypatch.setattr(processing, "_process_one", fail_the_bad_one)
    setup(app, linear(TAG), linear(TAG))
    for data in ({}, {}, {"bad": True}):
        accept_event({"event_type": "PING", "user_id": "u1", "data": data})
    work(app)
    db.session.expire_all()
    pings = select(EventLog).filter_by(event_type="PING").order_by(EventLog.id)
    events = db.session.scalars(pings).all()
    assert [e.status for e in events] == ["processed", "processed", "failed"]
    entries = [entry for e in events for entry in e.matched_workflows]
    assert [e.get("skipped") for e in entries] == [None] * 4
    assert _runs() == 4 and counter() == 4


def test_ai_fallback_job_for_unmatched_message_on_open_conversation(app):
    app.config["AI_FALLBACK"] = "builtins.len"  # any importable function works as an RQ job
    try:
        setup(app, graph())
        ev, _ = accept_event(message("just saying hi"))
        matched, _ = accept_event(message("coupon please", user="c2"))
        work(app)
        db.session.expire_all()
        assert db.session.get(EventLog, ev.id).fallback["status"] == "enqueued"
        assert db.session.get(EventLog, ev.id).fallback["kind"] == "job"
        assert db.session.get(EventLog, matched.id).fallback is None
    finally:
        app.config["AI_FALLBACK"] = ""


def test_ai_fallback_webhook_posts_the_event(app):
    server = FlakyServer()
    app.config["AI_FALLBACK"] = server.url + "/ai"
    try:
        setup(app, graph())
        ev, _ = accept_event(message("hello?"))
        work(app)
        work(app)  # the fallback webhook job
        db.session.expire_all()
        info = db.session.get(EventLog, ev.id).fallback
        assert info["status"] == "sent" and info["http_status"] == 200
        assert '"hello?"' in server.requests[0]["body"]
    finally:
        server.close()
        app.config["AI_FALLBACK"] = ""


def test_schedule_trigger_fires_once_per_due_time(app):
    from backend.runtime.schedules import fire_schedules

    sched = {"id": "s", "type": "trigger.schedule", "params": {"cron": "*/5 * * * *"}}
    note = {"id": "n", "type": "action.add_note", "params": {"text": "tick"}}
    setup(app, linear(note, trigger=sched))
    row = db.session.scalars(select(Trigger)).one()
    assert row.next_fire_at is not None
    db.session.execute(update(Trigger).values(next_fire_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert len(fire_schedules()) == 1
    assert fire_schedules() == []  # moved to the next cron time
    db.session.expire_all()
    assert db.session.scalars(select(Trigger)).one().next_fire_at > utcnow()
    work(app)
    assert db.session.scalar(select(WorkflowExecution.status)) == "succeeded"


def test_webhook_trigger_url_starts_the_workflow_with_the_body(app, client):
    hook = {"id": "w", "type": "trigger.webhook"}
    node = {"id": "tag", "type": "action.add_tag", "params": {"tag": "{{ event.data.body.tag }}"}}
    setup(app, linear(node, trigger=hook))
    key = db.session.scalars(select(Trigger.webhook_key)).one()
    assert key
    resp = client.post(
        f"/hooks/{key}",
        json={"tag": "from-hook", "user_id": "hooked"},
        headers={"Idempotency-Key": "h-1"},
    )
    assert resp.status_code == 202, resp.get_json()
    again = client.post(
        f"/hooks/{key}", json={"tag": "x", "user_id": "hooked"}, headers={"Idempotency-Key": "h-1"}
    )
    assert again.status_code == 202 and again.get_json()["created"] is False
    work(app)
    run = db.session.scalars(select(WorkflowExecution)).one()
    assert run.status == "succeeded" and run.contact.tag_names == ["from-hook"]
    assert client.post("/hooks/not-a-key", json={}).status_code == 404
    big = client.post(f"/hooks/{key}", data="x" * 70_000, content_type="text/plain")
    assert big.status_code == 413


def test_triggers_changed_reaches_other_processes_cache(app):
    """A pause seen through the Redis version counter and the DB fingerprint."""
    from backend.runtime import discovery
    from backend.services.workflows import pause

    (wf,) = setup(app, linear(TAG))
    ctx = {"event": {"type": "PING", "data": {}}, "user": {}, "conversation": {}}
    assert [s.workflow_id for s in discovery.match(ctx, force_check=True)] == [wf.id]
    pause(wf)
    assert discovery.match(ctx, force_check=True) == []


def test_a_forced_check_reads_the_database_when_the_redis_counter_is_gone(app, monkeypatch):
    """A change the Redis counter never heard of (made while Redis was down, then Redis
    flushed) is seen by the next forced check, however recent the last full check."""
    from backend.queue import get_redis
    from backend.runtime import discovery

    monkeypatch.setattr(discovery, "CHECK_INTERVAL", 3600)  # only a forced check looks
    (wf,) = setup(app, linear(TAG))
    ctx = {"event": {"type": "PING", "data": {}}, "user": {}, "conversation": {}}
    get_redis().incr(discovery.VERSION_KEY)
    assert [s.workflow_id for s in discovery.match(ctx, force_check=True)] == [wf.id]
    db.session.execute(update(Trigger).values(is_active=False, updated_at=utcnow()))
    db.session.commit()  # no triggers_changed(): as if Redis had been down
    get_redis().flushdb()
    assert discovery.match(ctx, force_check=True) == []
