"""Limits checked before an execution is created.

Per workflow (graph ``settings``): ``reentry`` — ``always``, ``once`` (never again for this
contact) or ``once_per_hours`` (not within ``reentry_hours`` of the contact's last run) — and
``max_runs_per_contact_per_day`` (a rolling 24 hours). Globally: ``RATE_LIMIT_PER_CONTACT_PER_MINUTE``
executions per contact (a Redis counter per minute; fails open when Redis is down, while the
database checks above still hold).

The database checks run inside the event's transaction after the contact row was locked
(:func:`lock_contact`), so two workers handling events of the same contact cannot both pass a
``once`` check.
"""

from __future__ import annotations

__all__ = ["skip_reason", "rate_limited", "lock_contact", "checks_database", "ContactRates"]

from collections import Counter
from datetime import timedelta

import redis
from flask import current_app
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Contact, WorkflowExecution
from backend.queue import get_redis
from backend.runtime.clock import utcnow


def lock_contact(contact_id: int) -> None:
    """Serialise limit checks per contact (PostgreSQL row lock until the transaction ends)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(Contact.id).where(Contact.id == contact_id).with_for_update())


def _runs_since(workflow_id: int, contact_id: int, since=None) -> int:
    query = select(func.count(WorkflowExecution.id)).where(
        WorkflowExecution.workflow_id == workflow_id, WorkflowExecution.contact_id == contact_id
    )
    if since is not None:
        query = query.where(WorkflowExecution.created_at >= since)
    return db.session.scalar(query) or 0


def checks_database(settings: dict | None) -> bool:
    """Whether :func:`skip_reason` reads the database for a workflow with these settings
    (then the contact's row lock must be held around it).

    >>> checks_database({"reentry": "always"}), checks_database({"reentry": "once"})
    (False, True)
    """
    settings = settings or {}
    return (settings.get("reentry") or "always") != "always" or (
        settings.get("max_runs_per_contact_per_day") is not None
    )


def skip_reason(settings: dict, workflow_id: int, contact_id: int | None) -> str | None:
    """Why this workflow must not start for this contact now, or None when it may.

    >>> skip_reason({}, 1, None) is None
    True
    """
    if contact_id is None:
        return None
    reentry = settings.get("reentry") or "always"
    now = utcnow()
    if reentry == "once" and _runs_since(workflow_id, contact_id):
        return "reentry_once"
    if reentry == "once_per_hours":
        hours = float(settings.get("reentry_hours") or 24)
        if _runs_since(workflow_id, contact_id, now - timedelta(hours=hours)):
            return f"reentry_once_per_{hours:g}_hours"
    daily = settings.get("max_runs_per_contact_per_day")
    if daily is not None and _runs_since(workflow_id, contact_id, now - timedelta(days=1)) >= int(
        daily
    ):
        return "max_runs_per_contact_per_day"
    return None


def _key(contact_id: int, minute: int) -> str:
    return f"fm:rate:{contact_id}:{minute}"


def _minute() -> int:
    return int(utcnow().timestamp() // 60)


def _limit() -> int:
    return current_app.config.get("RATE_LIMIT_PER_CONTACT_PER_MINUTE") or 0


def rate_limited(contact_id: int | None) -> bool:
    """Count one execution for the contact; True when it exceeds the per-minute limit."""
    limit = _limit()
    if contact_id is None or limit <= 0:
        return False
    count = _count_one(contact_id)
    return count is not None and count > limit


def _count_one(contact_id: int) -> int | None:
    """The contact's counter after counting one more; None when Redis failed (fail open: the
    database-backed limits still apply)."""
    key = _key(contact_id, _minute())
    try:
        pipe = get_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        return pipe.execute()[0]
    except redis.RedisError:
        return None


class ContactRates:
    """:func:`rate_limited` for a drain batch, in one Redis round trip instead of one per run.

    ``expected``: contact id -> how many of the batch's events are that contact's. The first
    check reserves that many counts per contact (one pipeline of INCRBY); each run then uses
    one of its contact's reservation, and is limited exactly where the one-by-one count would
    have been: the counter before the reservation + the runs so far > the limit. A contact
    with more runs than reserved (several workflows per event) or none (a new contact) counts
    one by one. :meth:`settle` gives back what was reserved and not used (one round trip, only
    when something is left), so the counters end as the one-by-one count leaves them. While a
    batch runs, another worker sees its reservation as used: the limit errs on the strict side.
    :meth:`cancel` gives back everything the batch counted, when its transaction rolled back
    (its runs never existed, and the batch is counted again when it is done again).
    """

    def __init__(self, expected: dict[int, int]):
        self.expected = {cid: n for cid, n in expected.items() if cid is not None and n > 0}
        self.limit, self.minute = _limit(), _minute()
        self.before: dict[int, int] | None = None  # counter before the reservation
        self.used: dict[int, int] = {}
        self.one_by_one: Counter = Counter()  # counted past the reservation

    def _reserve(self) -> None:
        self.before = {}
        if not self.expected or self.limit <= 0:
            return
        try:
            pipe = get_redis().pipeline(transaction=False)
            for cid, n in self.expected.items():
                pipe.incrby(_key(cid, self.minute), n)
                pipe.expire(_key(cid, self.minute), 120)
            totals = pipe.execute()[::2]
        except redis.RedisError:
            self.expected = {}  # fail open, as rate_limited; nothing to give back
            return
        self.before = {
            cid: total - n for (cid, n), total in zip(self.expected.items(), totals, strict=True)
        }

    def limited(self, contact_id: int | None) -> bool:
        """Count one execution for the contact; True when it exceeds the per-minute limit."""
        if contact_id is None or self.limit <= 0:
            return False
        if self.before is None:
            self._reserve()
        used = self.used.get(contact_id, 0)
        if used >= self.expected.get(contact_id, 0) or contact_id not in self.before:
            count = _count_one(contact_id)
            if count is None:
                return False
            self.one_by_one[contact_id] += 1
            return count > self.limit
        self.used[contact_id] = used + 1
        return self.before[contact_id] + used + 1 > self.limit

    def settle(self) -> None:
        """Give back the reserved counts no run used (once; a Redis error loses only that)."""
        if not self.before:
            return
        left = {cid: n - self.used.get(cid, 0) for cid, n in self.expected.items()}
        left = {cid: n for cid, n in left.items() if n > 0 and cid in self.before}
        self.before = {}
        if not left:
            return
        self._give_back(left)

    def cancel(self) -> None:
        """Give back every count of the batch (see the class docstring); once."""
        self.settle()
        taken = Counter(self.used) + self.one_by_one
        self.used, self.one_by_one = {}, Counter()
        self._give_back({cid: n for cid, n in taken.items() if n > 0})

    def _give_back(self, counts: dict[int, int]) -> None:
        if not counts:
            return
        try:
            pipe = get_redis().pipeline(transaction=False)
            for cid, n in counts.items():
                pipe.decrby(_key(cid, self.minute), n)
            pipe.execute()
        except redis.RedisError:
            pass  # the counters expire within two minutes anyway
