"""Group commit of single events: the requests of one web process that post an event at the
same moment share one INSERT, one commit and one nudge.

Why: under load a web process's CPU per event went more than a third to the database's part of
the request (a pooled connection checked out and back, the statement through SQLAlchemy and
psycopg, the round trip) and a tenth to the nudge, and PostgreSQL paid a statement and a WAL
flush per event. Each request still waits for *its* row to be committed before it answers
(the durability rule), but the rows of the requests that arrive while a commit is on the wire
go together in the next one.

Leader and followers, no thread of its own: a request that finds no commit under way leads,
so under a light load every event is committed at once, on its own, as before; requests
arriving while a commit is under way queue their rows and wait. When the leader's commit is
done it answers its followers' rows and hands the lead to the first request queued since,
which commits everything queued by then. Nothing waits for a group to fill.

A failed commit (the database unreachable, say) fails every request of its group with the same
error, which the API answers as for a single event (503); nothing of the group is stored, and
the lead passes on as usual, so no request is left waiting.
"""

from __future__ import annotations

__all__ = ["Outcome", "commit_together"]

import threading
from collections.abc import Callable
from typing import NamedTuple

from flask import current_app

#: At most this many rows in one INSERT: a request joining a full group waits for the next.
MAX_GROUP = 100


class Outcome(NamedTuple):
    """What became of one row: the stored event's id and status, and whether this row made it
    (False: its key was taken, by an earlier event or an earlier row of the same group)."""

    event_id: int
    status: str
    created: bool


#: Stores and commits rows; one :class:`Outcome` per row, or the error that row alone answers.
Flush = Callable[[list[dict]], list[Outcome | Exception]]


class _Slot:
    __slots__ = ("values", "ready", "lead", "outcome")

    def __init__(self, values: dict):
        self.values = values
        self.ready = threading.Event()
        self.lead = False  # set with ``ready`` when this request is to commit the next group
        self.outcome: Outcome | BaseException | None = None  # an error is raised to the request


class _Group:
    """One app's queue of rows waiting for a commit in this process."""

    def __init__(self):
        self.lock = threading.Lock()
        self.queued: list[_Slot] = []
        self.busy = False  # a leader is committing

    def submit(self, values: dict, flush: Flush) -> Outcome:
        slot = _Slot(values)
        with self.lock:
            self.queued.append(slot)
            leads = not self.busy
            self.busy = True
        if not leads:
            slot.ready.wait()
            if not slot.lead:
                return _answer(slot)
        self._lead(flush)
        return _answer(slot)

    def _lead(self, flush: Flush) -> None:
        """Commit what is queued (this request's row among it), answer it, pass the lead."""
        with self.lock:
            group, self.queued = self.queued[:MAX_GROUP], self.queued[MAX_GROUP:]
        try:
            outcomes = flush([slot.values for slot in group])
            for slot, outcome in zip(group, outcomes, strict=True):
                slot.outcome = outcome
        except BaseException as exc:  # every request of the group answers it
            for slot in group:
                slot.outcome = exc
        finally:
            with self.lock:
                successor = self.queued[0] if self.queued else None
                if successor is None:
                    self.busy = False
                else:
                    successor.lead = True
            for slot in group:
                if slot.lead is False:
                    slot.ready.set()
            if successor is not None:
                successor.ready.set()


def _answer(slot: _Slot) -> Outcome:
    if isinstance(slot.outcome, BaseException):
        raise slot.outcome
    assert slot.outcome is not None
    return slot.outcome


def commit_together(values: dict, flush: Flush) -> Outcome:
    """Commit the event row ``values`` with those of concurrent requests of this app's process.

    ``flush(rows)`` stores and commits ``rows`` (one statement), answering one
    :class:`Outcome` (or an exception of that row's own) per row in their order; it runs in the leading request's thread and app
    context. Returns once this row is committed; raises what ``flush`` raised for its group."""
    groups = current_app.extensions
    group = groups.get("flowmarket_event_group") or groups.setdefault(
        "flowmarket_event_group", _Group()
    )
    return group.submit(values, flush)
