"""How JSON columns are written and read: orjson, with the standard library's json behind it.

Why: every run writes its state and its step records as JSON, and every drain batch reads its
events' payloads; ``json.dumps`` / ``json.loads`` were ~2.5% of the worker's CPU per event
(bench/drain.py) and orjson does the same work several times faster. The engine takes these
functions as ``json_serializer`` / ``json_deserializer`` (:func:`backend.dbconn.engine_options`).

What stays as it was:

- the values read back, key order included (orjson keeps insertion order too). Non-ASCII text
  is written as UTF-8 instead of ``\\u`` escapes: PostgreSQL's JSONB stores the same value
  either way, SQLite's text column reads back the same value;
- what json refuses is refused: datetimes and dataclasses are passed through by orjson
  (``OPT_PASSTHROUGH_*``) to ``json.dumps``, which raises as before. So is anything else orjson
  will not write the way json did: non-string keys (json writes them as strings), integers
  past 64 bits;
- reading: a text orjson rejects (NaN, Infinity, a lone surrogate escape) is read by
  ``json.loads``; so is one with a run of 19 or more digits, because orjson reads an integer
  past 64 bits as a float.

What differs: NaN and the infinities are written as ``null`` (json wrote the non-JSON tokens
``NaN`` / ``Infinity``, which PostgreSQL refused and SQLite stored); UUIDs and enums are
written as their value where json refused them.

>>> loads(dumps({"text": "کد تخفیف", "n": [1, 2.5, None, True], "big": 2**70}))
{'text': 'کد تخفیف', 'n': [1, 2.5, None, True], 'big': 1180591620717411303424}
>>> dumps({1: "a"})  # json's way with a non-string key
'{"1": "a"}'
"""

from __future__ import annotations

__all__ = ["dumps", "loads"]

import json
import re

import orjson

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_LONG_TEXT, _LONG_BYTES = re.compile(r"[0-9]{19}"), re.compile(rb"[0-9]{19}")


def dumps(value) -> str:
    """``value`` as JSON text. Text, not bytes, on PostgreSQL too: SQLAlchemy also renders
    JSON literals with it (psycopg encodes the text it is given)."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value)


def loads(data: bytes | str):
    """The value of a JSON text (bytes from psycopg, str from SQLite)."""
    if (_LONG_TEXT if isinstance(data, str) else _LONG_BYTES).search(data) is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)
