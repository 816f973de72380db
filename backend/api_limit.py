"""The API's rate limit: ``API_RATE_LIMIT_PER_MINUTE`` calls per resolved principal (the user
behind a valid token or session), else per client address, counted in one Redis round trip that
also reads the token cache's access version.

Why not Flask-Limiter here (it still guards sign-in and webhooks, :mod:`backend.security`): on
the API, the call that matters most for throughput (an event posted with a token), its own
bookkeeping per request (finding the limits that apply, their scopes, keys and header objects)
cost more CPU than the count itself, and the count and the access version
(:mod:`backend.token_cache`) were two round trips to Redis. Here:

1. a bearer token this process has seen before names its owner (a token never changes hands),
   so the owner's bucket is counted and the access version read by one script, before the
   token is trusted; the version then decides, as before, whether the cached user still holds;
2. when the principal turns out to be someone else (the token was revoked, its user
   deactivated), the hit moves to the right bucket (one more round trip, and the process
   forgets the token, so its next calls take step 3);
3. any other call (a session, a token not seen yet, no credentials) resolves its principal
   first and then counts in one round trip.

The limit is the one Flask-Limiter applied: a fixed window of a minute from the bucket's first
hit, shared by every process through Redis under the same key, the same 429 body (``code:
throttled``) and the same ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` and
``Retry-After`` headers. Redis unreachable: the call goes through unthrottled (fail open) and
no cached token is trusted.
"""

from __future__ import annotations

__all__ = ["init_app", "bucket", "redis_key", "ERROR_MESSAGE"]

import logging
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
#: Count one call in KEYS[1] (the window starts at its first hit); answer the count, the
#: window's TTL and, when KEYS[2] is given, the access version.
_SCRIPT = """
local current = redis.call("incrby", KEYS[1], 1)
if current == 1 then
    redis.call("expire", KEYS[1], ARGV[1])
end
local version = false
if KEYS[2] then
    version = redis.call("get", KEYS[2])
end
return {current, redis.call("ttl", KEYS[1]), version}
"""


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
        user = auth.current_principal()
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
        return _hit(redis_key(bucket(), amount), amount)
    presumed = redis_key(f"user:{owner}", amount)  # step 1
    count, ttl, version = _script()(keys=[presumed, token_cache.VERSION_KEY], args=[WINDOW_SECONDS])
    auth.presume_access_version(version)
    actual = redis_key(bucket(), amount)
    if actual == presumed:
        return Hit(amount, int(count), _reset(ttl))
    token_cache.forget(auth.bearer_key())  # step 2
    get_redis().decr(presumed)
    return _hit(actual, amount)


def _hit(key: str, amount: int) -> Hit:
    count, ttl, _ = _script()(keys=[key], args=[WINDOW_SECONDS])
    return Hit(amount, int(count), _reset(ttl))


def _reset(ttl) -> float:
    return max(int(ttl), 0) + time.time()


def _script():
    return redis_script(get_redis(), _SCRIPT)


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
