"""A drain job that found the log empty lingers for the next nudge instead of ending, so a
trickle of events costs one RQ job, not one every few events; it yields to other queued jobs,
calls another worker when a batch comes back full, and loses no event on its way out."""

from __future__ import annotations

import threading
import time

import pytest
from runtime_helpers import linear, setup, work
from sqlalchemy import select

from backend.extensions import db
from backend.models import EventLog
from backend.queue import get_queue
from backend.runtime import processing
from backend.runtime.ingest import accept_event, accept_events

pytestmark = [pytest.mark.redis]
NOTE = {"id": "note", "type": "action.add_note", "params": {"text": "seen"}}  # no internal event


def _statuses() -> list[str]:
    db.session.rollback()  # a fresh snapshot (SQLite's WAL readers keep theirs until they end)
    return list(db.session.scalars(select(EventLog.status).order_by(EventLog.id)))


def _until(predicate, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {_statuses()}"
        time.sleep(0.02)


def test_a_lingering_drain_takes_later_events_without_a_new_job_and_yields_to_others(app):
    setup(app, linear(NOTE))
    queue = get_queue(app)
    accept_event({"event_type": "PING", "user_id": "a"})
    queue.empty()  # the job that event queued: this test's thread plays it
    drained = []

    def drain_job():
        with app.app_context():
            drained.append(processing.drain(max_seconds=60, linger=30))

    thread = threading.Thread(target=drain_job)
    thread.start()
    _until(lambda: _statuses() == ["processed"], "the first event")
    accept_event({"event_type": "PING", "user_id": "b"})  # while the drain lingers
    _until(lambda: _statuses() == ["processed"] * 2, "the event posted while it lingered")
    assert queue.count == 0  # the nudge woke the lingering drain: no job was queued
    queue.enqueue("builtins.len", "x")  # another job waits for this worker
    thread.join(10)
    assert not thread.is_alive() and drained == [2]  # it yielded, with both events drained


def test_an_event_committed_as_the_drain_gives_up_is_not_left_behind(app, monkeypatch):
    setup(app, linear(NOTE))
    accept_event({"event_type": "PING", "user_id": "a"})

    def late_event(seconds, app=None):
        if not waits:  # committed while the flag was still up: its nudge would queue no job
            accept_event({"event_type": "PING", "user_id": "late"}, dispatch=False)
        waits.append(seconds)
        return "over"  # ... and the drain stops waiting

    waits = []

    monkeypatch.setattr(processing, "wait_for_nudge", late_event)
    assert processing.drain(linger=5) == 2  # the last look after dropping the flag found it
    assert len(waits) == 2  # and it waited again before it ended
    assert _statuses() == ["processed"] * 2


def test_a_backlog_stored_at_once_is_drained_by_a_second_worker_too(app, monkeypatch):
    """A backlog stored in one transaction comes with one nudge, so one job: after its first
    full batch that job queues another, which a second worker takes while the first is busy."""
    setup(app, linear(NOTE))
    accept_events([{"event_type": "PING", "user_id": user} for user in "abcdef"])
    queue = get_queue(app)
    assert queue.count == 1
    queue.empty()  # that job: the thread below plays it
    monkeypatch.setitem(app.config, "EVENT_BATCH_SIZE", 2)
    busy, go_on, drained, calls = threading.Event(), threading.Event(), [], []
    drain_batch = processing.drain_batch

    def slow_first_worker(limit=None):  # the first worker is busy after its first batch
        if threading.current_thread() is first and calls:
            busy.set()
            go_on.wait(20)
        calls.append(limit)
        return drain_batch(limit)

    def drain_job():
        with app.app_context():
            drained.append(processing.drain(max_seconds=60, linger=0))

    monkeypatch.setattr(processing, "drain_batch", slow_first_worker)
    first = threading.Thread(target=drain_job)
    first.start()
    try:
        assert busy.wait(20)
        assert queue.count == 1  # its batch came back full: a job waits for another worker
        work(app)  # the second worker: that job drains the other 4 events
        assert _statuses() == ["processed"] * 6
    finally:
        go_on.set()
        first.join(20)
    assert drained == [2] and queue.count == 0


def test_a_long_backlog_queues_one_spare_job_a_trickle_none(app, monkeypatch):
    setup(app, linear(NOTE))
    queue = get_queue(app)
    monkeypatch.setitem(app.config, "EVENT_BATCH_SIZE", 2)
    accept_events([{"event_type": "PING", "user_id": user} for user in "abcdefg"])
    queue.empty()  # the nudge's job: this test plays it
    assert processing.drain(linger=0) == 7
    assert queue.count == 1  # three full batches, one job queued for help, not three
    work(app)  # it finds the log empty and ends
    accept_event({"event_type": "PING", "user_id": "h"})
    queue.empty()
    assert processing.drain(linger=0) == 1
    assert queue.count == 0  # less than a batch: no help needed
    assert _statuses() == ["processed"] * 8


def test_one_drain_lingers_at_a_time(app):
    from backend.queue import DRAIN_FLAG, DRAIN_LINGER, get_redis

    setup(app, linear(NOTE))
    accept_event({"event_type": "PING", "user_id": "a"})
    name = app.config["RQ_QUEUE"]
    get_redis().set(DRAIN_LINGER.format(queue=name), b"another job", ex=30)
    started = time.monotonic()
    assert processing.drain(linger=20) == 1
    assert time.monotonic() - started < 10  # it did not wait out its 20 s
    # ... and left the flag up for the lingering job, which every later nudge wakes
    assert get_redis().exists(DRAIN_FLAG.format(queue=name))
