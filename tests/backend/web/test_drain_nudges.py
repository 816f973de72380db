"""Drain nudges (backend.queue.request_drain): one per burst of concurrent commits, and every
commit still followed by a nudge that started after it."""

from __future__ import annotations

import itertools
import threading

import pytest

from backend.queue import DRAIN_FLAG, _Nudges, get_redis, request_drain

pytestmark = [pytest.mark.redis]


def test_every_commit_is_covered_by_a_nudge_that_started_after_it():
    nudges, clock, lock = _Nudges(), itertools.count(), threading.Lock()
    started: list[int] = []  # the "time" each nudge started
    covered: list[bool] = []

    def nudge():
        with lock:
            started.append(next(clock))
        return True

    def commit_then_nudge():
        for _ in range(200):
            with lock:
                committed = next(clock)
            assert nudges.after_commit(nudge)
            with lock:  # a nudge that started after the commit has completed
                covered.append(any(t > committed for t in started))

    threads = [threading.Thread(target=commit_then_nudge) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(covered) == 1200 and all(covered)
    assert len(started) <= 1200


def test_a_failed_nudge_is_not_shared_and_the_next_commit_tries_again():
    nudges, results = _Nudges(), iter([False, True])
    calls: list[int] = []

    def nudge():
        calls.append(1)
        return next(results)

    assert nudges.after_commit(nudge) is False
    assert nudges.after_commit(nudge) is True
    assert len(calls) == 2


def test_each_commit_in_turn_nudges_redis(app):
    conn = get_redis()
    flag = DRAIN_FLAG.format(queue=app.config["RQ_QUEUE"])
    assert request_drain() and conn.exists(flag)
    conn.delete(flag)  # the drain job started
    assert request_drain() and conn.exists(flag)  # a later commit queues the next one
