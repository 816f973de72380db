"""Rate-limit counters in Redis at one round trip per limited request instead of three.

Why: Flask-Limiter's fixed window costs a hit (INCRBY + EXPIRE in a script) and then, for the
``X-RateLimit-*`` headers, a GET and a TTL. Here the hit's script also answers the TTL, and
what the hit saw is kept for the rest of *that request* (in its WSGI environ), so the headers
come without asking Redis again. The limits are the same: every hit is still one atomic INCRBY
in the shared window; only the headers show the count as of this request's own hit.

The storage answers to ``fm+redis://`` (and ``fm+rediss://``, ``fm+redis+unix://``) URIs.
"""

from __future__ import annotations

__all__ = ["MemoRedisStorage", "storage_uri"]

import time

from flask import has_request_context, request
from limits.storage import RedisStorage

_PREFIX = "fm+"
_MEMO = "flowmarket.rate_hits"
_INCR_TTL = """
local amount = tonumber(ARGV[2])
local current = redis.call("incrby", KEYS[1], amount)
if tonumber(current) == amount then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("ttl", KEYS[1])}
"""


def storage_uri(redis_url: str) -> str:
    """The limiter's storage URI for ``redis_url`` (another scheme: left to ``limits``)."""
    scheme, sep, rest = redis_url.partition("://")
    scheme = "redis+unix" if scheme == "unix" else scheme
    if not sep or scheme not in ("redis", "rediss", "redis+unix"):
        return redis_url
    return f"{_PREFIX}{scheme}://{rest}"


class MemoRedisStorage(RedisStorage):
    """:class:`~limits.storage.RedisStorage` whose hits also answer the request's reads."""

    STORAGE_SCHEME = [_PREFIX + scheme for scheme in ("redis", "rediss", "redis+unix")]

    def __init__(self, uri: str, **options):
        super().__init__(uri.removeprefix(_PREFIX), **options)

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self.lua_incr_ttl = self.get_connection().register_script(_INCR_TTL)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        current, ttl = self.lua_incr_ttl([self.prefixed_key(key)], [expiry, amount])
        if has_request_context():
            memo = request.environ.setdefault(_MEMO, {})
            memo[key] = (int(current), max(int(ttl), 0) + time.time())
        return int(current)

    def get(self, key: str) -> int:
        seen = _seen(key)
        return seen[0] if seen else super().get(key)

    def get_expiry(self, key: str) -> float:
        seen = _seen(key)
        return seen[1] if seen else super().get_expiry(key)

    def clear(self, key: str) -> None:
        if has_request_context():
            request.environ.get(_MEMO, {}).pop(key, None)
        super().clear(key)


def _seen(key: str) -> tuple[int, float] | None:
    """What this request's own hit on ``key`` saw, if it hit it."""
    if not has_request_context():
        return None
    return request.environ.get(_MEMO, {}).get(key)
