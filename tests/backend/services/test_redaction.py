"""backend.services.redaction: the fast walks mask exactly what the rules say.

``_spec_redact`` / ``_spec_has_secret`` state the rules as plainly as they can be written (one
recursive call per value); the module's walks are written for speed. Hypothesis compares them
on JSON-like values with secret-looking keys, credential values, markers, deep nesting and
subclasses of dict, list and str.
"""

from __future__ import annotations

from collections import OrderedDict

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.services import redaction
from backend.services.redaction import MASK, has_secret, redact, remember_secrets, scrub_text

CREDENTIAL = "sk_test_0123456789"
remember_secrets([CREDENTIAL])


def _dirty(text: str) -> bool:
    return scrub_text(text) != text or "\u27e6cred:" in text


def _spec_redact(value, depth=0):
    if depth > 50:
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {
            k: MASK
            if redaction.is_secret_key(k) and v not in (None, "")
            else _spec_redact(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_spec_redact(v, depth + 1) for v in value]
    return value


def _spec_has_secret(value, depth=0):
    if depth > 50:
        return False
    if isinstance(value, dict):
        return any(
            (redaction.is_secret_key(k) and v not in (None, "")) or _spec_has_secret(v, depth + 1)
            for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return any(_spec_has_secret(v, depth + 1) for v in value)
    return isinstance(value, str) and _dirty(value)


class _Text(str):
    pass


class _Rows(list):
    pass


KEYS = st.sampled_from(["a", "name", "token", "X-Api-Key", "monkey", "password", "key", 1, None])
TEXT = st.sampled_from(
    ["", "hi", "کد تخفیف", f"Bearer {CREDENTIAL}", "\u27e6cred:bot\u27e7", _Text("x")]
)
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.lists(inner, max_size=3).map(_Rows),
        st.dictionaries(KEYS, inner, max_size=4),
        st.dictionaries(KEYS, inner, max_size=3).map(OrderedDict),
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_redact_and_has_secret_follow_the_rules(value):
    assert redact(value) == _spec_redact(value)
    assert has_secret(value) == _spec_has_secret(value)


def _nested(depth: int, leaf):
    value = leaf
    for _ in range(depth):
        value = {"a": [value]}
    return value


def test_values_deeper_than_the_limit_are_left_as_they_are():
    for depth in (20, 24, 25, 26, 30):  # a level is a dict and a list: 50 around 25 levels
        secret_text = f"Bearer {CREDENTIAL}"
        for leaf in ({"token": "t"}, secret_text, [secret_text], {"a": secret_text}):
            value = _nested(depth, leaf)
            assert redact(value) == _spec_redact(value)
            assert has_secret(value) == _spec_has_secret(value)


def test_redact_copies_every_dict_and_list():
    state = {"context": {"nodes": {"a": {"out": [1, {"b": 2}]}}}}
    copy = redact(state)
    assert copy == state
    copy["context"]["nodes"]["a"]["out"][1]["b"] = 3
    assert state["context"]["nodes"]["a"]["out"][1]["b"] == 2
