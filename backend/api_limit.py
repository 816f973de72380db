"""The API's rate limit: ``API_RATE_LIMIT_PER_MINUTE`` calls per resolved principal (the user
behind a valid token or session), else per client address, counted in Redis in leases of calls
that a process then counts out itself, the access version read with them.

Why not Flask-Limiter here (it still guards sign-in and webhooks, :mod:`backend.security`): on
the API, the call that matters most for throughput (an event posted with a token), its own
bookkeeping per request (finding the limits that apply, their scopes, keys and header objects)
cost more CPU than the count itself. Why leases: even one Redis round trip per call (the count
and the token cache's access version, :mod:`backend.token_cache`, in one script) was a tenth of
a small call's CPU; a process that is busy with a bucket now takes several of its calls at once
(``INCRBY``, doubling while they run out, up to :data:`MAX_LEASE` and never more than 1/32 of
the limit: a limit under 64 a minute is counted call by call, as before) and counts them out
locally until they run out or the window ends.

1. a bearer token this process has seen before names its owner (a token never changes hands),
   so the owner's bucket is counted before the token is trusted, and the access version read
   in the same round trip; the version then decides, as before, whether the cached user still
   holds. A version read less than :data:`VERSION_MAX_AGE` ago is used again: an access change
   made in another process (a revoked token, a deactivated user) applies here within that
   time; made in this process, at once (its cache is dropped on commit);
2. when the principal turns out to be someone else (the token was revoked, its user
   deactivated), the presumed bucket gets its call back, and the calls its lease still held,
   and the hit moves to the right bucket (the process forgets the token, so its next calls
   take step 3);
3. any other call (a session, a token not seen yet, no credentials) resolves its principal
   first and then counts.

The limit is the one Flask-Limiter applied: a fixed window of a minute from the bucket's first
hit, shared by every process through Redis under the same key (a lease's calls are counted
there when taken: at most one lease per process, unused when the window ends, is counted but
never made), the same 429 body (``code: throttled``) and the same ``X-RateLimit-Limit`` /
``-Remaining`` / ``-Reset`` and ``Retry-After`` headers. Redis unreachable: the call goes
through unthrottled (fail open) and no cached token is trusted.
"""

from __future__ import annotations

__all__ = ["init_app", "bucket", "redis_key", "reset", "ERROR_MESSAGE"]

import logging
import threading
import time
from typing import NamedTuple

import redis
from flask import current_app, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import TooManyRequests

from backend import auth, token_cache
from backend.errors import ServiceError
from backend.queue import get_redis, redis_script

log = logging.getLogger(__name__)
ERROR_MESSAGE = "rate limit exceeded, retry later"
WINDOW_SECONDS = 60
_HIT = "flowmarket.api_limit"
#: The most calls of a bucket a process takes at once, and the share of the limit it may hold.
MAX_LEASE = 64
LEASE_SHARE = 32
#: An access version read this long ago (seconds) is still used.
VERSION_MAX_AGE = 0.1
#: Take ARGV[2] calls of KEYS[1] (the window starts at its first hit); answer the count, the
#: window's TTL and, when KEYS[2] is given, the access version.
_SCRIPT = """
local taken = tonumber(ARGV[2])
local current = redis.call("incrby", KEYS[1], taken)
if current == taken then
    redis.call("expire", KEYS[1], ARGV[1])
end
local version = false
if KEYS[2] then
    version = redis.call("get", KEYS[2])
end
return {current, redis.call("ttl", KEYS[1]), version}
"""
_now = time.monotonic  # the leases' clock (tests move it)


class Hit(NamedTuple):
    """What one call's count saw: the limit, the count so far, when the window resets."""

    amount: int
    count: int
    reset_at: float


def init_app(app, blueprints) -> None:
    """Put every blueprint of ``blueprints`` under the shared per-principal limit (hooks on the
    app: the blueprints are registered already, and so closed to new hooks)."""
    names = frozenset(bp.name for bp in blueprints)

    def check_api_call() -> None:
        if request.blueprint in names:
            _check()

    def add_headers(response):
        return _headers(response) if _HIT in request.environ else response

    app.before_request(check_api_call)
    app.after_request(add_headers)


def _amount() -> int:
    return int(current_app.config.get("API_RATE_LIMIT_PER_MINUTE") or 0)


def bucket() -> str:
    """The bucket of this call: the resolved user, else the client address."""
    try:
        user = auth.current_caller()
    except (ServiceError, SQLAlchemyError):  # an unknown token (or no database): the address
        user = None
    return f"user:{user.id}" if user is not None else f"addr:{auth.client_address()}"


def redis_key(name: str, amount: int) -> str:
    """The Redis key of bucket ``name`` under a limit of ``amount`` a minute (Flask-Limiter's
    key for the same limit, so processes of both kinds shared the count)."""
    return f"LIMITS:LIMITER/fm/{name}/api/{amount}/1/minute"


def _check() -> None:
    """Count this call (before the view): 429 once the bucket is over the limit."""
    amount = _amount()
    if amount <= 0:  # limits off
        return
    try:
        hit = _count(amount)
    except redis.RedisError as exc:
        log.warning("API rate limit skipped, Redis unreachable: %s", exc)
        auth.presume_access_version(False)  # and trust no cached token
        return
    request.environ[_HIT] = hit
    if hit.count > amount:
        log.info("API rate limit %s per minute exceeded by %s", amount, bucket())
        raise TooManyRequests(ERROR_MESSAGE)


def _count(amount: int) -> Hit:
    owner = token_cache.owner(auth.bearer_key())
    if owner is None:  # step 3
        return _take(redis_key(bucket(), amount), amount)
    presumed = redis_key(f"user:{owner}", amount)  # step 1
    hit = _take(presumed, amount, with_version=True)
    actual = redis_key(bucket(), amount)
    if actual == presumed:
        return hit
    token_cache.forget(auth.bearer_key())  # step 2
    _give_back(presumed)
    return _take(actual, amount)


class _Lease:
    """Calls of one bucket's window taken from Redis: ``last - size + 1`` to ``last``, the
    first ``used`` of them made; good until ``until`` (this process's clock)."""

    __slots__ = ("last", "size", "used", "until", "reset_at")

    def __init__(self, last: int, size: int, ttl: int):
        self.last, self.size, self.used = last, size, 0
        self.until = _now() + max(ttl, 0)
        self.reset_at = time.time() + max(ttl, 0)

    def take(self) -> int | None:
        """The count of one more call of the lease; ``None`` when it has none left."""
        if self.used >= self.size or _now() >= self.until:
            return None
        self.used += 1
        return self.last - self.size + self.used


class _Leases:
    """One Redis server's leases by bucket key, and the access version last read there."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_key: dict[str, _Lease] = {}
        self.version: bytes | None = None
        self.version_read = float("-inf")

    def take(self, key: str) -> tuple[int, float] | None:
        """One call's count (and its window's end) from the bucket's lease, if it has one."""
        with self.lock:
            lease = self.by_key.get(key)
            count = None if lease is None else lease.take()
            return None if count is None else (count, lease.reset_at)

    def stale(self) -> bool:
        return _now() - self.version_read >= VERSION_MAX_AGE

    def size(self, key: str, amount: int) -> int:
        """How many calls to take: twice the last lease when it ran out, else one."""
        cap = min(MAX_LEASE, amount // LEASE_SHARE)
        lease = self.by_key.get(key)
        if cap <= 1 or lease is None or lease.used < lease.size:
            return 1
        return min(cap, lease.size * 2)

    def store(self, key: str, lease: _Lease) -> tuple[int, float]:
        """Keep a new lease; the count of its first call (this one) and its window's end."""
        with self.lock:
            if len(self.by_key) >= 10_000:
                self.by_key = {k: v for k, v in self.by_key.items() if _now() < v.until}
            self.by_key[key] = lease
            return lease.take() or lease.last, lease.reset_at

    def read_version(self, version) -> None:
        with self.lock:
            self.version, self.version_read = version, _now()


_by_server: dict[int, _Leases] = {}


def _leases(conn: redis.Redis) -> _Leases:
    return _by_server.get(id(conn)) or _by_server.setdefault(id(conn), _Leases())


def reset() -> None:
    """Forget every lease and version this process holds (tests: Redis was flushed)."""
    _by_server.clear()


def _take(key: str, amount: int, with_version: bool = False) -> Hit:
    """Count one call in bucket ``key``: from this process's lease while it has calls left,
    else in one round trip that takes a new lease. ``with_version``: the access version is
    presumed for this call, read in that round trip (or in one that takes no calls, when the
    lease has calls left but the version was read too long ago)."""
    conn = get_redis()
    leases = _leases(conn)
    local = leases.take(key)
    if local is None or (with_version and leases.stale()):
        size = 0 if local is not None else leases.size(key, amount)
        keys = [key, token_cache.VERSION_KEY] if with_version else [key]
        last, ttl, version = redis_script(conn, _SCRIPT)(keys=keys, args=[WINDOW_SECONDS, size])
        if local is None:
            local = leases.store(key, _Lease(int(last), size, int(ttl)))
        if with_version:
            leases.read_version(version)
    if with_version:
        auth.presume_access_version(leases.version)
    count, reset_at = local
    return Hit(amount, count, reset_at)


def _give_back(key: str) -> None:
    """Return the presumed call of step 2 and the calls its lease still held to the bucket."""
    conn = get_redis()
    leases = _leases(conn)
    with leases.lock:
        lease = leases.by_key.pop(key, None)
    if lease is not None:
        conn.decrby(key, lease.size - lease.used + 1)


def _headers(response):
    """The ``X-RateLimit-*`` headers of this call's count, and ``Retry-After``."""
    hit = request.environ[_HIT]
    reset_at = int(hit.reset_at + 1)
    response.headers.add("X-RateLimit-Limit", str(hit.amount))
    response.headers.add("X-RateLimit-Remaining", str(max(0, hit.amount - hit.count)))
    response.headers.add("X-RateLimit-Reset", str(reset_at))
    earlier = response.headers.get("Retry-After")  # e.g. the database's own, when it is down
    if earlier is not None and earlier.isdigit():
        reset_at = max(reset_at, int(time.time() + int(earlier)))
    response.headers.set("Retry-After", str(int(reset_at - time.time())))
    return response
