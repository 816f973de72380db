"""Background loops that outlive Redis outages: RQ's scheduler and cron, made resilient.

RQ's own loops stop for good on the first Redis error (a restart, a FLUSHALL, a write refused
by ``maxmemory``): the scheduler that promotes ``enqueue_at`` jobs (waits, retries) and the cron
scheduler that enqueues the sweeper, schedule triggers, retries and cleanup. Here:

1. every iteration catches ``RedisError`` and retries with capped exponential backoff;
2. every worker runs a scheduler loop; the one holding the scheduler lock promotes jobs, the
   others keep trying to take the lock, so a lost lock (FLUSHALL, a dead holder) is taken
   again within seconds;
3. both loops are threads of their worker process (``worker`` and ``serve`` alike): a killed
   worker takes its loops with it, and the scheduler lock it held expires within
   :data:`LOCK_TTL` seconds (RQ's own lock lives 61 s) for another worker's loop to take;
4. each loop writes a heartbeat (``fm:loops:<worker>``: loop name → unix time) that
   ``/health/`` reads to report a worker whose loops are not alive; a loop whose thread dies
   (an error other than Redis's) keeps its stale heartbeat, and the worker restarts it
   (:class:`backend.worker.Loops`).
"""

from __future__ import annotations

__all__ = [
    "Backoff",
    "ResilientScheduler",
    "ResilientCron",
    "beat",
    "loop_health",
]

import contextlib
import logging
import threading
import time

import redis
from rq.cron import CronScheduler
from rq.scheduler import RQScheduler
from rq.scripts import ACQUIRE_OR_REFRESH_LOCK_SCRIPT
from rq.utils import now, utcformat

log = logging.getLogger(__name__)
LOOPS_KEY = "fm:loops:{}"
LOOPS_TTL = 120  # a killed worker is reported dead until its entry expires
STALE_SECONDS = 30
#: Longest pause between retries while Redis fails: short, so that once Redis is back a loop
#: beats (and promotes, and enqueues) within a second, not after a long backoff.
RETRY_CAP = 1.0
#: Longest pause of the cron loop between beats: well under any staleness threshold a
#: deployment (or a test, at 3 s) sets, so a live loop never looks dead between two jobs.
BEAT_CAP = 1.0
#: Seconds the scheduler lock outlives its holder's last refresh (every second while alive).
LOCK_TTL = 10


class Backoff:
    """Capped exponential delays: 0.5, 1, 2, 4 ... ``cap`` seconds; ``reset`` after a success."""

    def __init__(self, first: float = 0.5, cap: float = 10.0):
        self.first, self.cap, self.delay = first, cap, first

    def next(self) -> float:
        delay, self.delay = self.delay, min(self.delay * 2, self.cap)
        return delay

    def reset(self) -> None:
        self.delay = self.first


def beat(connection: redis.Redis, worker: str, loop: str) -> None:
    """Record that ``loop`` of ``worker`` is alive now."""
    key = LOOPS_KEY.format(worker)
    pipe = connection.pipeline()
    pipe.hset(key, loop, f"{time.time():.3f}")
    pipe.expire(key, LOOPS_TTL)
    pipe.execute()


def forget(connection: redis.Redis, worker: str, loop: str) -> None:
    """A loop that stops cleanly is not reported dead."""
    with contextlib.suppress(redis.RedisError):
        connection.hdel(LOOPS_KEY.format(worker), loop)


def loop_health(connection: redis.Redis, stale: float = STALE_SECONDS) -> dict:
    """``{"ok", "workers": {name: {loop: seconds since its last beat}}, "dead": [...]}``."""
    now, workers, dead = time.time(), {}, []
    for key in connection.scan_iter(LOOPS_KEY.format("*"), count=200):
        name = key.decode().split(":", 2)[2]
        ages = {k.decode(): round(now - float(v), 1) for k, v in connection.hgetall(key).items()}
        workers[name] = ages
        dead += [f"{name}:{loop}" for loop, age in ages.items() if age > stale]
    return {"ok": not dead, "workers": workers, "dead": sorted(dead)}


class ResilientScheduler(RQScheduler):
    """RQ's scheduler loop as a thread, surviving Redis errors and competing for the lock
    forever; stopped by :meth:`request_stop`."""

    worker_name = ""

    def start_thread(self) -> threading.Thread:
        self._stop_requested = False
        thread = threading.Thread(target=self.loop, name="flowmarket-scheduler", daemon=True)
        thread.start()
        return thread

    def loop(self):
        """Promote due jobs until ``_stop_requested``; a Redis error only pauses the loop.

        Any other error ends the thread. Its locks are released on the way out, so that the
        restarted loop (or another worker's) takes over at once, and its heartbeat is left to go
        stale: ``/health/`` reports the loop until it beats again."""
        backoff, born, stopped = Backoff(cap=RETRY_CAP), False, False
        try:
            while not self._stop_requested:
                try:
                    born = born or (self.register_birth() or True)
                    self.hold_locks()
                    if self._acquired_locks:
                        self.enqueue_scheduled_jobs()
                    beat(self.connection, self.worker_name, "scheduler")
                    backoff.reset()
                    _sleep(self, self.interval)
                except redis.RedisError as exc:
                    log.warning("scheduler: Redis error, retrying: %s", exc)
                    self._acquired_locks = set()  # re-take the lock (it may be gone) once back
                    _sleep(self, backoff.next())
            stopped = True
        finally:
            with contextlib.suppress(redis.RedisError):
                self.stop()  # releases the locks, deletes RQ's record of this scheduler
            if stopped:
                forget(self.connection, self.worker_name, "scheduler")

    def hold_locks(self) -> None:
        """Take or keep the scheduler lock of each queue for :data:`LOCK_TTL` seconds, and
        refresh RQ's record of this scheduler (RQ's ``acquire_locks`` + ``heartbeat``, in one
        round trip, with a lock that a dead holder keeps for seconds rather than a minute)."""
        names = sorted(self._queue_names)
        script = self.connection.register_script(ACQUIRE_OR_REFRESH_LOCK_SCRIPT)
        with self.connection.pipeline() as pipe:
            for name in names:
                script(keys=[self.get_locking_key(name)], args=[self.name, LOCK_TTL], client=pipe)
            self.last_heartbeat = now()
            pipe.hset(self.key, "last_heartbeat", utcformat(self.last_heartbeat))
            pipe.expire(self.key, self.interval + 60)
            outcomes = pipe.execute()[: len(names)]
        held = {name for name, outcome in zip(names, outcomes, strict=True) if outcome}
        if held != self._acquired_locks:
            self._scheduled_job_registries = []  # rebuilt for the queues held now
        self._acquired_locks = held


def _sleep(loop, seconds: float) -> None:
    """Sleep, but wake up within 0.1 s of a stop request (a thread has no signal to wake it).

    Not a ``threading.Event`` wait: under libfaketime (a worker with a skewed clock,
    tests/reliability/test_clock_skew.py) such a timed wait stalled the loops."""
    deadline = time.monotonic() + seconds
    while not loop._stop_requested and time.monotonic() < deadline:
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


class ResilientCron(CronScheduler):
    """RQ's cron loop as a thread, surviving Redis errors (the job timing lives in this
    process); stopped by :meth:`request_stop`."""

    worker_name = ""
    _stop_requested = False

    def start_thread(self) -> threading.Thread:
        self._stop_requested = False
        thread = threading.Thread(target=self.loop, name="flowmarket-cron", daemon=True)
        thread.start()
        return thread

    def request_stop(self) -> None:
        self._stop_requested = True

    def loop(self):
        """Enqueue due periodic jobs until stopped; Redis errors only pause the loop, any other
        error ends the thread with its heartbeat left to go stale (as the scheduler's)."""
        backoff, born, stopped = Backoff(cap=RETRY_CAP), False, False
        try:
            while not self._stop_requested:
                try:
                    born = born or (self.register_birth() or True)
                    if self.enqueue_jobs():
                        self.save()
                    self.heartbeat()
                    beat(self.connection, self.worker_name, "cron")
                    backoff.reset()
                    pause = min(self.calculate_sleep_interval(), BEAT_CAP)
                except redis.RedisError as exc:
                    log.warning("cron: Redis error, retrying: %s", exc)
                    born, pause = False, backoff.next()
                if pause > 0:
                    _sleep(self, pause)
            stopped = True
        finally:
            with contextlib.suppress(redis.RedisError):
                self.register_death()
            if stopped:
                forget(self.connection, self.worker_name, "cron")
