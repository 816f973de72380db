"""Value coercion, text folding and the comparison operators behind :mod:`conditions`.

Private helper module: :mod:`graph_engine.conditions` re-exports what is public
(``OPERATORS``, ``fold_text``). Every operator is ``op(actual, expected) -> bool`` and never
raises on odd data: a value of the wrong type simply does not match.

Type rules (the "sane types" of DESIGN.md):

* ``None`` never matches a comparison (``greater``, ``between``, ``contains``...).
* A number and a numeric string compare as numbers (``"10" > 9``); two numeric strings too.
  Persian/Arabic digits count (``"۱۰" == 10``). Booleans are not numbers.
* Two ISO dates/datetimes (strings or objects) compare as instants; naive ones are UTC.
* Text operators stringify numbers (a phone number stored as an int ``contains "989"``).
* ``contains`` on a list is membership, on a string a substring test, on a dict a key test.
* ``icontains`` compares :func:`fold_text` forms: NFKC, casefold, Arabic yeh/kaf mapped to
  the Persian letters, Persian/Arabic digits to ASCII, tatweel, diacritics and zero-width
  marks removed, ZWNJ treated as a space and runs of whitespace collapsed.

>>> fold_text("كد\u200cتخفيف") == fold_text("کد تخفیف")
True
>>> OPERATORS["greater"]("10", 9), OPERATORS["contains"](["a", "b"], "a")
(True, True)
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, date, datetime
from functools import lru_cache

import re2

from graph_engine.errors import ConditionError

__all__ = [
    "OPERATORS",
    "UNARY_OPERATORS",
    "fold_text",
    "compile_regex",
    "MAX_REGEX_LENGTH",
    "MAX_REGEX_INPUT",
]

MAX_REGEX_LENGTH = 512
"""Longest accepted ``matches_regex`` pattern (characters)."""
MAX_REGEX_INPUT = 100_000
"""``matches_regex`` searches only the first this-many characters of the value."""

_FOLD_MAP = {
    "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
    "\u0649": "\u06cc",  # alef maksura -> Persian yeh
    "\u0643": "\u06a9",  # Arabic kaf -> Persian keheh
    "\u200c": " ",  # ZWNJ counts as a word separator, like a space
}
_FOLD_MAP.update({chr(0x06F0 + d): str(d) for d in range(10)})  # Persian digits
_FOLD_MAP.update({chr(0x0660 + d): str(d) for d in range(10)})  # Arabic-Indic digits
_DROP = "\u200b\u200d\u200e\u200f\u2060\ufeff\u00ad\u0640\u0670" + "".join(
    chr(c) for c in range(0x064B, 0x0660)
)
_FOLD_TABLE = str.maketrans({**_FOLD_MAP, **dict.fromkeys(_DROP)})
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=16384)
def fold_text(text: str) -> str:
    """Normalise text for case- and script-insensitive comparison (see module docstring).

    >>> fold_text("  Hello\\tWORLD ")
    ' hello world '
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD_TABLE)
    return _SPACES.sub(" ", text)


def _number(value):
    """``value`` as int/float when it is a number or a numeric string, else ``None``."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is str:
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


@lru_cache(maxsize=4096)
def _parse_iso(text: str):
    if len(text) < 10 or text[4] != "-" or not text[:4].isdigit():
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _moment(value):
    """``value`` as an aware datetime when it is a date/datetime or an ISO string."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if type(value) is str:
        return _parse_iso(value)
    return None


def _order(a, b):
    """-1/0/1 comparing ``a`` with ``b``, or ``None`` when they are not comparable."""
    if a is None or b is None:
        return None
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return (na > nb) - (na < nb)
    ma, mb = _moment(a), _moment(b)
    if ma is not None and mb is not None:
        return (ma > mb) - (ma < mb)
    if type(a) is str and type(b) is str:
        return (a > b) - (a < b)
    return None


def _text(value):
    """Text form of a string or a number (``10.0`` -> ``"10"``), else ``None``."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def _bool(value):
    if type(value) is bool:
        return value
    if type(value) is str and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def equals(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if type(a) is bool or type(b) is bool:
        ba, bb = _bool(a), _bool(b)
        return ba is not None and ba == bb
    if type(a) is str and type(b) is str:
        return a == b
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    return a == b


def contains(a, b) -> bool:
    if a is None or b is None:
        return False
    if isinstance(a, list | tuple):
        return any(equals(item, b) for item in a)
    if isinstance(a, dict):
        return type(b) is str and b in a
    ta, tb = _text(a), _text(b)
    return ta is not None and tb is not None and tb in ta


def _iequals(a, b) -> bool:
    ta, tb = _text(a), _text(b)
    if ta is not None and tb is not None:
        return fold_text(ta) == fold_text(tb)
    return equals(a, b)


def icontains(a, b) -> bool:
    if a is None or b is None:
        return False
    if isinstance(a, list | tuple):
        return any(_iequals(item, b) for item in a)
    if isinstance(a, dict):
        return any(_iequals(key, b) for key in a)
    ta, tb = _text(a), _text(b)
    return ta is not None and tb is not None and fold_text(tb) in fold_text(ta)


def starts_with(a, b) -> bool:
    ta, tb = _text(a), _text(b)
    return ta is not None and tb is not None and ta.startswith(tb)


def ends_with(a, b) -> bool:
    ta, tb = _text(a), _text(b)
    return ta is not None and tb is not None and ta.endswith(tb)


def is_empty(a, _=None) -> bool:
    if a is None:
        return True
    if type(a) is str:
        return not a.strip()
    if isinstance(a, list | tuple | dict | set):
        return not a
    return False


def greater(a, b) -> bool:
    order = _order(a, b)
    return order is not None and order > 0


def greater_or_equal(a, b) -> bool:
    order = _order(a, b)
    return order is not None and order >= 0


def less(a, b) -> bool:
    order = _order(a, b)
    return order is not None and order < 0


def less_or_equal(a, b) -> bool:
    order = _order(a, b)
    return order is not None and order <= 0


def between(a, bounds) -> bool:
    if not isinstance(bounds, list | tuple) or len(bounds) != 2:
        return False
    return greater_or_equal(a, bounds[0]) and less_or_equal(a, bounds[1])


@lru_cache(maxsize=2048)
def compile_regex(pattern: str):
    """Compile ``pattern`` with RE2 (linear time) or raise :class:`ConditionError`.

    >>> compile_regex("(a+)+$").search("a" * 50) is not None
    True
    """
    if type(pattern) is not str:
        raise ConditionError("matches_regex needs a string pattern")
    if len(pattern) > MAX_REGEX_LENGTH:
        raise ConditionError(
            f"regex is {len(pattern)} characters long; the limit is {MAX_REGEX_LENGTH}"
        )
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options=options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise ConditionError(f"invalid regex {pattern!r}: {detail}") from None


def matches_regex(a, pattern) -> bool:
    text = _text(a)
    if text is None:
        return False
    return compile_regex(pattern).search(text[:MAX_REGEX_INPUT]) is not None


def _negate(op):
    def negated(a, b=None) -> bool:
        return not op(a, b)

    negated.__name__ = f"not_{op.__name__}"
    return negated


OPERATORS = {
    "equals": equals,
    "not_equals": _negate(equals),
    "contains": contains,
    "not_contains": _negate(contains),
    "icontains": icontains,
    "starts_with": starts_with,
    "ends_with": ends_with,
    "in": lambda a, b: contains(b, a),
    "not_in": lambda a, b: not contains(b, a),
    "is_null": lambda a, _=None: a is None,
    "is_not_null": lambda a, _=None: a is not None,
    "is_empty": is_empty,
    "is_not_empty": _negate(is_empty),
    "greater": greater,
    "greater_or_equal": greater_or_equal,
    "less": less,
    "less_or_equal": less_or_equal,
    "between": between,
    "not_between": _negate(between),
    "matches_regex": matches_regex,
}
"""Operator name -> ``op(actual, expected) -> bool``."""

UNARY_OPERATORS = frozenset({"is_null", "is_not_null", "is_empty", "is_not_empty"})
"""Operators that ignore ``value`` (a leaf may omit it)."""
