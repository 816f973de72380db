"""Background loops that outlive Redis outages: RQ's scheduler and cron, made resilient.

RQ's own loops stop for good on the first Redis error (a restart, a FLUSHALL, a write refused
by ``maxmemory``): the scheduler process that promotes ``enqueue_at`` jobs (waits, retries)
and the cron process that enqueues the sweeper, schedule triggers, retries and cleanup. Here:

1. every iteration catches ``RedisError`` and retries with capped exponential backoff;
2. every worker runs a scheduler loop; the one holding the scheduler lock promotes jobs, the
   others keep trying to take the lock, so a lost lock (FLUSHALL, a dead holder) is taken
   again within seconds;
3. the scheduler is a child of its worker and dies with it (``PR_SET_PDEATHSIG``): a SIGKILLed
   worker leaves no orphan holding the lock;
4. in ``serve`` (the embedded mode) both loops run as threads of the one process instead;
5. each loop writes a heartbeat (``fm:loops:<worker>``: loop name → unix time) that
   ``/health/`` reads to report a worker whose loops are not alive, and the worker restarts a
   loop process that died.
"""

from __future__ import annotations

__all__ = [
    "Backoff",
    "ResilientScheduler",
    "ResilientCron",
    "beat",
    "loop_health",
    "die_with_parent",
]

import contextlib
import ctypes
import logging
import os
import signal
import threading
import time

import redis
from rq.cron import CronScheduler
from rq.exceptions import StopRequested
from rq.scheduler import RQScheduler

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


class Backoff:
    """Capped exponential delays: 0.5, 1, 2, 4 ... ``cap`` seconds; ``reset`` after a success."""

    def __init__(self, first: float = 0.5, cap: float = 10.0):
        self.first, self.cap, self.delay = first, cap, first

    def next(self) -> float:
        delay, self.delay = self.delay, min(self.delay * 2, self.cap)
        return delay

    def reset(self) -> None:
        self.delay = self.first


def die_with_parent(parent: int) -> None:
    """Linux: SIGTERM this process when its parent (pid ``parent``) dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


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
    """RQ's scheduler loop, surviving Redis errors and competing for the lock forever.

    ``start()`` forks it as RQ does (the ``worker`` command); ``start_thread()`` runs the same
    loop as a thread of this process (``serve``: no second copy of the app in memory)."""

    worker_name = ""
    parent_pid = 0

    def start(self):
        self.parent_pid = os.getpid()  # read by the forked child
        return super().start()

    def start_thread(self) -> threading.Thread:
        self._stop_requested = False
        thread = threading.Thread(target=self.loop, name="flowmarket-scheduler", daemon=True)
        thread.start()
        return thread

    def work(self):
        die_with_parent(self.parent_pid)
        self._install_signal_handlers()
        self.loop()

    def loop(self):
        """Promote due jobs until ``_stop_requested``; a Redis error only pauses the loop."""
        backoff, born = Backoff(cap=RETRY_CAP), False
        while not self._stop_requested:
            try:
                born = born or (self.register_birth() or True)
                if not self._acquired_locks or self.should_reacquire_locks:
                    self.acquire_locks()
                if self._acquired_locks:
                    self.heartbeat()
                    self.enqueue_scheduled_jobs()
                beat(self.connection, self.worker_name, "scheduler")
                backoff.reset()
                _sleep(self, self.interval)
            except redis.RedisError as exc:
                log.warning("scheduler: Redis error, retrying: %s", exc)
                self._acquired_locks = set()  # re-take the lock (it may be gone) once back
                _sleep(self, backoff.next())
        with contextlib.suppress(redis.RedisError):
            self.stop()
        forget(self.connection, self.worker_name, "scheduler")


def _sleep(loop, seconds: float) -> None:
    """Sleep, but wake up within 0.1 s of a stop request (a thread has no signal to wake it)."""
    deadline = time.monotonic() + seconds
    while not loop._stop_requested and time.monotonic() < deadline:
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


class ResilientCron(CronScheduler):
    """RQ's cron loop, surviving Redis errors (the job timing lives in this process).

    ``start()`` is the body of the cron process (stopped by SIGTERM / SIGINT);
    ``start_thread()`` runs the same loop as a thread, stopped by :meth:`request_stop`."""

    worker_name = ""
    _stop_requested = False

    def start(self):
        """Enqueue due periodic jobs until stopped; Redis errors only pause the loop."""
        self._install_signal_handlers()
        self.loop()

    def start_thread(self) -> threading.Thread:
        self._stop_requested = False
        thread = threading.Thread(target=self.loop, name="flowmarket-cron", daemon=True)
        thread.start()
        return thread

    def request_stop(self) -> None:
        self._stop_requested = True

    def loop(self):
        backoff, born = Backoff(cap=RETRY_CAP), False
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
        except (KeyboardInterrupt, StopRequested):
            log.info("cron %s: stopping", self.name)
        finally:
            with contextlib.suppress(redis.RedisError):
                self.register_death()
            forget(self.connection, self.worker_name, "cron")
