"""The app's JSON answers, written by orjson.

Why: Flask's provider (the standard library's encoder, in Python for sorted keys) was an eighth
of the web CPU of a posted event, whose answer is four fields. For an answer (compact, keys
sorted, UTF-8 text as is: the API sets ``ensure_ascii = False``) orjson writes the same bytes;
what it would write differently goes through Flask's own conversions instead (dates and times
as HTTP dates, dataclasses, ``Decimal``, objects with ``__html__``).

Flask's provider still writes what orjson refuses (an integer over 64 bits; a key that is not
a string, which the standard library sorts as a number), every call with other options
(``indent`` in debug mode) and everything but an answer (``tojson`` in templates,
``flask.json.dumps``: spaced, as before); so nothing fails that did not fail before. One
answer differs: a float NaN or infinity is ``null`` (the standard library wrote ``NaN``,
which is not JSON).
"""

from __future__ import annotations

__all__ = ["FastJSONProvider"]

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_COMPACT = {"separators": (",", ":")}  # what Flask asks for an answer outside debug mode
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class FastJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson writing what it writes the same way."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs == _COMPACT and self.sort_keys and not self.ensure_ascii:
            try:
                return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()
            except (orjson.JSONEncodeError, TypeError):
                pass  # Flask's provider writes it, or raises its own error
        return super().dumps(obj, **kwargs)
