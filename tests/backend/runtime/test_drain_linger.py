"""A drain job that found the log empty lingers for the next nudge instead of ending, so a
trickle of events costs one RQ job, not one every few events; it yields to other queued jobs,
lets another worker help when a batch comes back full, and loses no event on its way out."""

from __future__ import annotations

import threading
import time

import pytest
from runtime_helpers import linear, setup
from sqlalchemy import select

from backend.extensions import db
from backend.models import EventLog
from backend.queue import get_queue
from backend.runtime import processing
from backend.runtime.ingest import accept_event

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


def test_a_full_batch_lets_another_worker_help(app, monkeypatch):
    setup(app, linear(NOTE))
    for user in "abcde":
        accept_event({"event_type": "PING", "user_id": user})
    monkeypatch.setitem(app.config, "EVENT_BATCH_SIZE", 2)
    held = []
    monkeypatch.setattr(processing, "hold_drain_flag", held.append)
    assert processing.drain(linger=0) == 5
    # held at the start, dropped after each full batch (2, 2), held again after the 1, and
    # dropped before the last look at the empty log
    assert held == [True, False, False, True, False]


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
