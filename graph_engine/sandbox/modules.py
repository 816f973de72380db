"""Hand-written stand-ins for the modules custom code may import (private to the sandbox).

``import json`` in custom code returns ``MODULES["json"]``, a :class:`SafeModule` holding
chosen functions, classes and constants -- never the real module, whose attributes lead out
(``json.codecs.open`` reads files, ``datetime.sys.modules["os"]`` is ``os``). Unknown
attributes raise :class:`SecurityViolation`. Standalone like ``sandbox/policy.py`` (loaded by
the sandbox worker without ``graph_engine``): standard library and re2 only.
"""

from __future__ import annotations

import hashlib as _hashlib
import json as _json
import math as _math
import random as _random
import string as _string
from datetime import UTC, date, datetime, timedelta, timezone

import re2

__all__ = ["MODULES", "SafeModule", "SecurityViolation", "VIOLATIONS", "violation"]

MAX_PATTERN = 512
MAX_REGEX_INPUT = 1_000_000


class SecurityViolation(BaseException):  # noqa: N818 - reported as SandboxSecurityError
    """Custom code tried something forbidden. BaseException: ``except Exception`` misses it."""


VIOLATIONS: list[str] = []  # filled by guards; a swallowed violation still fails the run


def violation(message: str) -> SecurityViolation:
    """Record a violation and return the exception to raise."""
    VIOLATIONS.append(message)
    return SecurityViolation(message)


class SafeModule:
    """A read-only namespace standing in for a module."""

    __slots__ = ("_name", "_members")

    def __init__(self, name: str, members: dict):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_members", dict(members))

    def __getattr__(self, attr):
        members = object.__getattribute__(self, "_members")
        if attr in members:
            return members[attr]
        name = object.__getattribute__(self, "_name")
        raise violation(f"{name}.{attr} is not available in custom code")

    def __setattr__(self, attr, value):
        raise violation("modules are read-only")

    def __repr__(self):
        return f"<safe module {object.__getattribute__(self, '_name')}>"


def _pattern(pattern, flags):
    if type(pattern) is not str or len(pattern) > MAX_PATTERN:
        raise ValueError(f"regex patterns must be strings of at most {MAX_PATTERN} characters")
    prefix = "".join(flag for bit, flag in ((2, "i"), (8, "m"), (16, "s")) if flags & bit)
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(f"(?{prefix}){pattern}" if prefix else pattern, options=options)
    except re2.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from None


def _subject(text):
    if type(text) is not str:
        raise TypeError("regex functions need a string")
    return text[:MAX_REGEX_INPUT]


class Match:
    """A regex match result (wraps re2's match object)."""

    __slots__ = ("_m",)

    def __init__(self, match):
        self._m = match

    def group(self, *groups):
        return self._m.group(*groups)

    def groups(self, default=None):
        return self._m.groups(default)

    def groupdict(self, default=None):
        return self._m.groupdict(default)

    def start(self, group=0):
        return self._m.start(group)

    def end(self, group=0):
        return self._m.end(group)

    def span(self, group=0):
        return self._m.span(group)


def _matcher(method):
    def run(pattern, string, flags=0):
        found = getattr(_pattern(pattern, flags), method)(_subject(string))
        return Match(found) if found is not None else None

    run.__name__ = method
    return run


def _sub(pattern, repl, string, count=0, flags=0):
    if callable(repl):  # the callback gets our Match wrapper, never re2's own object
        user_repl = repl

        def repl(match):
            return user_repl(Match(match))

    return _pattern(pattern, flags).sub(repl, _subject(string), count)


def _regex_module() -> SafeModule:
    return SafeModule(
        "re",
        {
            "search": _matcher("search"),
            "match": _matcher("match"),
            "fullmatch": _matcher("fullmatch"),
            "findall": lambda p, s, flags=0: _pattern(p, flags).findall(_subject(s)),
            "split": lambda p, s, maxsplit=0, flags=0: _pattern(p, flags).split(
                _subject(s), maxsplit
            ),
            "sub": _sub,
            "escape": re2.escape,
            "I": 2,
            "IGNORECASE": 2,
            "M": 8,
            "MULTILINE": 8,
            "S": 16,
            "DOTALL": 16,
        },
    )


class Digest:
    """The hex digest of some text (``hashlib.sha256("x").hexdigest()``)."""

    __slots__ = ("_hex",)

    def __init__(self, algorithm: str, data):
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        self._hex = _hashlib.new(algorithm, raw).hexdigest()

    def hexdigest(self):
        return self._hex


def _public(module, names=None) -> dict:
    return {n: getattr(module, n) for n in (names or dir(module)) if not n.startswith("_")}


MODULES = {
    "json": SafeModule(
        "json",
        {
            "loads": lambda s: _json.loads(s),
            "dumps": lambda obj, indent=None, sort_keys=False, ensure_ascii=True: _json.dumps(
                obj, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii
            ),
            "JSONDecodeError": _json.JSONDecodeError,
        },
    ),
    "math": SafeModule("math", _public(_math)),
    "re": _regex_module(),
    "datetime": SafeModule(
        "datetime",
        {
            "datetime": datetime,
            "date": date,
            "timedelta": timedelta,
            "timezone": timezone,
            "UTC": UTC,
        },
    ),
    "random": SafeModule(
        "random",
        _public(
            _random,
            [
                "random",
                "randint",
                "randrange",
                "choice",
                "choices",
                "shuffle",
                "sample",
                "uniform",
                "gauss",
            ],
        ),
    ),
    "string": SafeModule(
        "string",
        {
            **_public(
                _string,
                [
                    "ascii_letters",
                    "ascii_lowercase",
                    "ascii_uppercase",
                    "digits",
                    "hexdigits",
                    "octdigits",
                    "punctuation",
                    "whitespace",
                    "printable",
                ],
            ),
            "capwords": lambda s, sep=None: _string.capwords(s, sep),
        },
    ),
    "hashlib": SafeModule(
        "hashlib",
        {
            "sha256": lambda data: Digest("sha256", data),
            "md5": lambda data: Digest("md5", data),
            "sha1": lambda data: Digest("sha1", data),
            "sha256_hex": lambda data: Digest("sha256", data).hexdigest(),
            "md5_hex": lambda data: Digest("md5", data).hexdigest(),
        },
    ),
}
