"""Single events posted at the same moment share one commit (backend.runtime.event_group).

The first request's commit is held open while others arrive, so what they do is decided by the
test, not by the machine's speed: they queue, the first follower leads the next commit, each
answer tells its own event, a key repeated inside a group is one event, and a failed commit
fails its whole group (503) without leaving a request waiting or the next one stuck.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from support import Api, sql_statements

from backend.extensions import db
from backend.models import EventLog
from backend.runtime import ingest

PATH = "/triggers/process_event/"
DEADLINE = 30  # seconds a thread may take; only reached when something hangs


def _message(key: str, user: str = "customer1") -> dict:
    return {
        "event_type": "MESSAGE_RECEIVED",
        "data": {"content": "a coupon please"},
        "user_id": user,
        "event_id": key,
    }


class Held:
    """``ingest._commit_rows`` with its first call held until :meth:`release`, and each
    call's keys recorded; ``fail_next`` makes the call after the held one raise."""

    def __init__(self, app, monkeypatch, fail_next: bool = False):
        self.app, self.fail_next = app, fail_next
        self.calls: list[list[str]] = []
        self.entered, self.gate = threading.Event(), threading.Event()
        original = ingest._commit_rows

        def commit_rows(rows):
            self.calls.append([row["idempotency_key"] for row in rows])
            if len(self.calls) == 1:
                self.entered.set()
                assert self.gate.wait(DEADLINE)
            elif self.fail_next and len(self.calls) == 2:
                raise OperationalError("INSERT", {}, Exception("database went away"))
            return original(rows)

        monkeypatch.setattr(ingest, "_commit_rows", commit_rows)

    def queued(self) -> int:
        group = self.app.extensions.get("flowmarket_event_group")
        return 0 if group is None else len(group.queued)

    def release(self) -> None:
        self.gate.set()


def _post_all(app, token: str, bodies: dict[str, dict], held: Held) -> dict:
    """Post ``bodies`` (name -> event) from threads of their own: the first while nothing
    else runs, the rest once its commit is held, then release it; the answers by name."""
    answers: dict = {}

    def post(name: str, body: dict) -> None:
        with app.app_context():
            answers[name] = Api(app.test_client(), token).post(PATH, body)

    names = list(bodies)
    threads = [threading.Thread(target=post, args=(n, bodies[n])) for n in names]
    threads[0].start()
    assert held.entered.wait(DEADLINE)
    for thread in threads[1:]:
        thread.start()
    _until(lambda: held.queued() == len(threads) - 1)
    held.release()
    for thread in threads:
        thread.join(DEADLINE)
        assert not thread.is_alive(), "a request was left waiting"
    return answers


def _until(condition) -> None:
    done = threading.Event()
    for _ in range(DEADLINE * 100):
        if condition():
            return
        done.wait(0.01)
    pytest.fail("the requests never queued")


def test_events_posted_together_share_one_commit(app, api, monkeypatch):
    held = Held(app, monkeypatch)
    with sql_statements() as sent:
        answers = _post_all(
            app,
            api.token,
            {
                "first": _message("g-1"),
                "second": _message("g-2", user="customer2"),
                "third": _message("g-3", user="customer3"),
                "again": _message("g-3", user="customer3"),  # the third's key, same group
            },
            held,
        )
    inserts = [s for s in sent if s.startswith("INSERT INTO event_logs")]

    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 202)
    assert held.calls[0] == ["g-1"] and sorted(held.calls[1]) == ["g-2", "g-3", "g-3"]
    assert len(inserts) == 2  # one statement for the three queued rows
    body = {name: answer.json for name, answer in answers.items()}
    assert [body[n]["duplicate"] for n in ("first", "second")] == [False, False]
    assert sorted([body["third"]["duplicate"], body["again"]["duplicate"]]) == [False, True]
    assert body["third"]["event_id"] == body["again"]["event_id"]
    ids = {body[n]["event_id"] for n in ("first", "second", "third")}
    with db.engine.connect() as other:  # committed: another connection sees every row
        stored = other.execute(select(EventLog.id, EventLog.idempotency_key)).all()
    assert {id_ for id_, _ in stored} == ids and len(stored) == 3


def test_a_key_stored_before_is_a_duplicate_in_a_group(app, api, monkeypatch):
    earlier = api.post(PATH, _message("seen"))
    assert earlier.status_code == 202
    held = Held(app, monkeypatch)
    answers = _post_all(
        app,
        api.token,
        {"first": _message("h-1"), "seen": _message("seen"), "new": _message("h-2")},
        held,
    )
    assert answers["seen"].json == {**earlier.json, "duplicate": True}
    assert answers["new"].json["duplicate"] is False
    assert db.session.scalar(select(func.count()).select_from(EventLog)) == 3


def test_a_failed_commit_fails_its_group_and_the_next_request_goes_through(app, api, monkeypatch):
    held = Held(app, monkeypatch, fail_next=True)
    answers = _post_all(
        app,
        api.token,
        {"first": _message("f-1"), "second": _message("f-2"), "third": _message("f-3")},
        held,
    )
    assert answers["first"].status_code == 202
    for name in ("second", "third"):
        assert answers[name].status_code == 503, answers[name].json
        assert answers[name].headers["Retry-After"]
    keys = set(db.session.scalars(select(EventLog.idempotency_key)))
    assert keys == {"f-1"}  # the failed group stored nothing, so a retry is safe
    retry = api.post(PATH, _message("f-2"))
    assert retry.status_code == 202 and retry.json["duplicate"] is False


def _terminate(pid: int) -> None:
    """End the PostgreSQL backend ``pid`` and wait until it is gone. Each look is a
    transaction of its own: a transaction reads ``pg_stat_activity`` once and keeps what it
    saw, so under load (the backend still there at the first look) one transaction waited in
    vain."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
        other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        query = f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}"
        _until(lambda: other.exec_driver_sql(query).scalar() == 0)


def test_the_group_commit_keeps_its_connection_and_replaces_one_that_died(app, api, monkeypatch):
    """PostgreSQL: groups reuse one connection; one whose server side ended while it was idle
    is replaced before use (as the pool would), and one that fails in use is dropped: its
    group answers 503, the next goes through."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the group commit keeps a connection on PostgreSQL only")
    from backend import dbconn

    assert api.post(PATH, _message("h-1")).status_code == 202
    held = app.extensions[ingest._HELD]
    pid = held.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    assert api.post(PATH, _message("h-2")).status_code == 202
    assert app.extensions[ingest._HELD] is held  # the same connection, kept

    _terminate(pid)
    raw = held.connection.driver_connection
    _until(lambda: dbconn.may_be_stale(raw))  # its socket has the server's goodbye
    assert api.post(PATH, _message("h-3")).status_code == 202  # replaced before use
    replacement = app.extensions[ingest._HELD]
    assert replacement is not held

    # A connection that dies unnoticed fails its group once, and is not used again.
    monkeypatch.setattr(ingest, "may_be_stale", lambda _raw: False)
    _terminate(replacement.exec_driver_sql("SELECT pg_backend_pid()").scalar())
    failed = api.post(PATH, _message("h-4"))
    assert failed.status_code == 503, failed.json
    assert api.post(PATH, _message("h-4")).status_code == 202
    keys = set(db.session.scalars(select(EventLog.idempotency_key)))
    assert keys == {"h-1", "h-2", "h-3", "h-4"}
