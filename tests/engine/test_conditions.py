"""Condition rules: every operator, type edge cases, Persian text, regexes, errors, laws."""

import time

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph_engine.conditions import (
    OPERATORS,
    RULES_SCHEMA,
    check_rules,
    evaluate,
    explain,
    fold_text,
    resolve_path,
)
from graph_engine.errors import ConditionError

CTX = {
    "event": {
        "type": "MESSAGE_RECEIVED",
        "timestamp": "2024-05-01T10:00:00Z",
        "data": {"content": "Hello, I want a COUPON please", "items": [{"n": 1}, {"n": 2}]},
    },
    "user": {
        "first_name": "Sara",
        "email": None,
        "tags": ["VIP", "interested"],
        "fields": {
            "age": "31",
            "score": 7.5,
            "city": "",
            "joined": "2024-01-15",
            "phone": 989121234567,
        },
    },
}


def leaf(field, op, value=None):
    rule = {"field": field, "op": op}
    if value is not None or op in ("equals", "not_equals"):
        rule["value"] = value
    return rule


def check(field, op, value=None, ctx=CTX):
    return evaluate(leaf(field, op, value), ctx)


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("user.first_name", "equals", "Sara", True),
        ("user.first_name", "equals", "sara", False),
        ("user.fields.age", "equals", 31, True),  # numeric string vs number
        ("user.fields.age", "equals", "31.0", False),  # two strings compare as text
        ("user.email", "equals", None, True),
        ("user.missing", "equals", None, True),
        ("user.first_name", "not_equals", "Ali", True),
        ("user.tags", "contains", "VIP", True),  # list membership
        ("user.tags", "contains", "vip", False),
        ("user.tags", "not_contains", "spam", True),
        ("event.data.content", "contains", "COUPON", True),  # substring
        ("event.data.content", "contains", "coupon", False),
        ("user.fields.phone", "contains", "98912", True),  # numbers act as text
        ("user", "contains", "tags", True),  # dict key
        ("user.email", "contains", "x", False),  # None never matches
        ("user.email", "not_contains", "x", True),
        ("event.data.content", "icontains", "coupon", True),
        ("user.tags", "icontains", "vip", True),  # case-insensitive membership
        ("user.tags", "icontains", "vi", False),  # membership, not substring
        ("user.first_name", "starts_with", "Sa", True),
        ("user.first_name", "ends_with", "ra", True),
        ("user.first_name", "starts_with", "ra", False),
        ("user.email", "starts_with", "a", False),
        ("user.first_name", "in", ["Ali", "Sara"], True),
        ("user.first_name", "in", "Sara Ali", True),
        ("user.first_name", "not_in", ["Ali"], True),
        ("user.fields.age", "in", [30, 31], True),
        ("user.email", "is_null", None, True),
        ("user.nope.deeper", "is_null", None, True),
        ("user.first_name", "is_not_null", None, True),
        ("user.fields.city", "is_empty", None, True),
        ("user.email", "is_empty", None, True),
        ("user.tags", "is_not_empty", None, True),
        ("user.fields.score", "is_empty", None, False),
        ("user.fields.age", "greater", 9, True),  # "31" > 9 numerically, not as text
        ("user.fields.age", "greater", "9", True),  # numeric strings compare as numbers
        ("user.fields.age", "greater_or_equal", 31, True),
        ("user.fields.age", "less", 31, False),
        ("user.fields.age", "less_or_equal", 31, True),
        ("user.email", "greater", 0, False),
        ("user.email", "less", 0, False),
        ("user.first_name", "greater", 3, False),  # text vs number: not comparable
        ("user.fields.score", "between", [7, 8], True),
        ("user.fields.score", "between", [7.5, 7.5], True),  # inclusive
        ("user.fields.score", "not_between", [1, 2], True),
        ("user.email", "between", [1, 2], False),
        ("user.email", "not_between", [1, 2], True),
        ("event.timestamp", "greater", "2024-05-01T09:59:59+00:00", True),
        ("event.timestamp", "less", "2024-05-01T12:00:01+02:00", True),  # = 10:00:01Z
        ("event.timestamp", "less", "2024-05-01T12:00:00+02:00", False),  # same instant
        ("user.fields.joined", "between", ["2024-01-01", "2024-01-31T23:59:59"], True),
        ("user.fields.joined", "greater", "2024-01-15T00:00:00Z", False),  # naive = UTC
        ("event.data.content", "matches_regex", r"(?i)\bcoupon\b", True),
        ("event.data.content", "matches_regex", r"^\d+$", False),
        ("user.fields.phone", "matches_regex", r"^98", True),
        ("user.email", "matches_regex", r".*", False),
        ("event.data.items.0.n", "equals", 1, True),
        ("event.data.items.-1.n", "equals", 2, True),
        ("event.data.items.5.n", "is_null", None, True),
    ],
)
def test_operator(field, op, value, expected):
    assert check(field, op, value) is expected


def test_every_operator_is_covered_and_returns_bool():
    odd_values = [None, "", "a", 0, 1.5, True, [], ["x"], {}, {"k": 1}, "2024-01-01"]
    for name, fn in OPERATORS.items():
        for actual in odd_values:
            for expected in odd_values + [[1, 2], ["a", "b"]]:
                if name == "matches_regex" and not isinstance(expected, str):
                    continue
                assert type(fn(actual, expected)) is bool, (name, actual, expected)


def test_dates_compare_as_instants_not_text():
    ctx = {"t": "2024-05-01T12:00:00+04:30"}  # = 07:30Z
    assert check("t", "less", "2024-05-01T08:00:00Z", ctx)
    assert not check("t", "greater", "2024-05-01T08:00:00Z", ctx)  # text order says otherwise


def test_persian_digits_are_numbers():
    assert check("n", "greater", 9, {"n": "۱۰"})
    assert check("n", "equals", 10, {"n": "١٠"})


@pytest.mark.parametrize(
    "typed",
    [
        "کد تخفیف",  # Persian keyboard
        "كد تخفيف",  # Arabic keyboard: kaf and yeh
        "کد\u200cتخفیف",  # ZWNJ instead of the space
        "کد \u200cتخفیف",  # both
        "سلام، کـــد   تخفیف می‌خواستم",  # tatweel, extra spaces, inside a sentence
        "KOD: كد\u200cتخفيف!",
    ],
)
def test_icontains_persian_variants(typed):
    rule = leaf("event.data.content", "icontains", "کد تخفیف")
    assert evaluate(rule, {"event": {"data": {"content": typed}}})
    arabic_rule = leaf("event.data.content", "icontains", "كد تخفيف")
    assert evaluate(arabic_rule, {"event": {"data": {"content": typed}}})


def test_icontains_unicode_casefold_and_nfkc():
    assert check("m", "icontains", "STRASSE", {"m": "die straße"})
    assert check("m", "icontains", "cafe\u0301", {"m": "CAFÉ"})  # NFKC composes
    assert check("m", "icontains", "ﬁle", {"m": "FILE"})  # ligature
    assert not check("m", "icontains", "کد تخفیف", {"m": "کدتخفیف"})  # words must be apart
    assert fold_text("كد\u200cتخفيف") == fold_text("کد تخفیف") == "کد تخفیف"


def test_regex_is_linear_time_and_capped():
    start = time.perf_counter()
    assert not check("m", "matches_regex", "(a+)+$", {"m": "a" * 50_000 + "!"})
    assert time.perf_counter() - start < 0.5
    with pytest.raises(ConditionError, match="limit is 512"):
        check("m", "matches_regex", "a" * 513, {"m": "a"})
    with pytest.raises(ConditionError, match="invalid regex"):
        check("m", "matches_regex", r"(a)\1", {"m": "aa"})  # backreferences: not in RE2


def one(op, value, field="x"):
    return {"all": [{"field": field, "op": op, "value": value}]}


@pytest.mark.parametrize(
    ("rules", "where", "fragment"),
    [
        ({"any": [{"field": "x", "op": "grater", "value": 1}]}, "rules.any[0].op", "'greater'"),
        (one("between", [1]), "rules.all[0].value", "[low, high]"),
        (one("between", 5), "rules.all[0].value", "[low, high]"),
        (one("in", 5), "rules.all[0].value", "list"),
        (one("greater", [1]), "rules.all[0].value", "number"),
        ({"all": [{"field": "x", "op": "equals"}]}, "rules.all[0].value", "needs a value"),
        (one("matches_regex", "("), "rules.all[0].value", "invalid regex"),
        (one("equals", 1, field=""), "rules.all[0].field", "dotted path"),
        (one("equals", 1, field="a..b"), "rules.all[0].field", "dotted path"),
        ({"all": {"field": "x"}}, "rules.all", "must be a list"),
        ({"all": [], "any": []}, "rules", "exactly one"),
        ({"not": [1]}, "rules.not", "must be an object"),
        ({"all": [{}]}, "rules.all[0]", "empty rule"),
        ({"all": [{"field": "x", "operator": "equals"}]}, "rules.all[0]", "unknown keys"),
        ({"all": [{"code": ""}]}, "rules.all[0].code", "non-empty"),
        ({"all": [{"code": "x.__class__"}]}, "rules.all[0].code", "starts with"),
        ([], "rules", "must be an object"),
    ],
)
def test_malformed_rules_are_reported_and_raise(rules, where, fragment):
    problems = check_rules(rules)
    assert problems, rules
    assert problems[0][0] == where
    assert fragment in problems[0][1]
    if not (isinstance(rules, dict) and "code" in str(rules) and "__class__" in str(rules)):
        with pytest.raises(ConditionError, match="rules"):
            evaluate(rules, {})


def test_valid_rules_have_no_problems_and_match_schema():
    rules = {
        "all": [
            {"field": "user.tags", "op": "contains", "value": "vip", "id": "r1", "label": "VIP"},
            {"any": [leaf("m", "icontains", "a"), {"not": leaf("m", "is_empty")}]},
            {"field": "n", "op": "between", "value": ["2024-01-01", "2024-12-31"]},
            {"code": "return True"},
        ]
    }
    assert check_rules(rules) == []
    assert check_rules({}) == [] and check_rules(None) == []
    validator = jsonschema.Draft202012Validator(RULES_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(RULES_SCHEMA)
    assert validator.is_valid(rules) and validator.is_valid({}) and validator.is_valid({"any": []})
    for bad in (
        {"all": [{"field": "x", "op": "nope", "value": 1}]},
        {"all": [{"field": "x", "op": "between", "value": [1]}]},
        {"all": [{"field": "x", "op": "equals"}]},
        {"xor": []},
    ):
        assert not validator.is_valid(bad)
        assert check_rules(bad)


def test_groups_and_empty_groups():
    assert evaluate({"all": []}, {}) and not evaluate({"any": []}, {}) and evaluate({}, {})
    assert evaluate(None, {})
    neither = {
        "any": [leaf("user.first_name", "equals", "Ali"), leaf("user.fields.score", "less", 5)]
    }
    rules = {"all": [leaf("user.tags", "contains", "VIP"), {"not": neither}]}
    assert evaluate(rules, CTX)


def test_code_leaf_uses_runner():
    calls = []

    def runner(code, ctx):
        calls.append(code)
        return ctx["user"]["first_name"] == "Sara"

    assert evaluate(
        {"all": [{"code": "return user['first_name'] == 'Sara'"}]}, CTX, code_runner=runner
    )
    assert calls == ["return user['first_name'] == 'Sara'"]


def test_mutated_rules_are_recompiled():
    rules = {"all": [leaf("n", "equals", 1)]}
    assert evaluate(rules, {"n": 1})
    rules["all"][0]["value"] = 2
    assert not evaluate(rules, {"n": 1}) and evaluate(rules, {"n": 2})


def test_explain_tree():
    rules = {
        "all": [
            leaf("user.tags", "contains", "interested"),
            {"not": leaf("user.fields.vip", "equals", True)},
            leaf("user.fields.age", "greater", 40),
        ]
    }
    tree = explain(rules, CTX)
    assert tree["group"] == "all" and tree["result"] is False
    first, negation, age = tree["children"]
    assert first["result"] is True and first["actual"] == ["VIP", "interested"]
    assert negation["group"] == "not" and negation["children"][0]["missing"] is True
    assert negation["result"] is True
    assert [age[k] for k in ("op", "expected", "actual", "missing", "result")] == [
        "greater",
        40,
        "31",
        False,
        False,
    ]
    assert age["text"] == "user.fields.age greater 40: no (value: '31')"
    assert explain({}, CTX) == {"group": "all", "result": True, "children": []}
    with pytest.raises(ConditionError):
        explain({"all": [leaf("x", "nope", 1)]}, CTX)


def test_resolve_path_defaults():
    assert resolve_path(CTX, "user.tags.1") == "interested"
    assert resolve_path(CTX, "user.tags.x", "d") == "d"
    assert resolve_path(CTX, "user.first_name.0", "d") == "d"  # no indexing into strings
    assert resolve_path(CTX, "event.data.items.-3", "d") == "d"


def test_evaluation_is_fast():
    rules = {
        "all": [
            leaf("user.tags", "contains", "VIP"),
            {"any": [leaf("event.data.content", "icontains", w) for w in ("coupon", "کد")]},
            leaf("user.fields.age", "between", [18, 65]),
        ]
    }
    evaluate(rules, CTX)
    start = time.perf_counter()
    for _ in range(5000):
        evaluate(rules, CTX)
    assert (time.perf_counter() - start) / 5000 < 100e-6


# --- properties ---------------------------------------------------------------------------

TEXTS = ["", "a", "A", "10", "9", "۱۰", "x y", "true", "کد", "كد"]
TEXTS += ["2024-01-01", "2024-01-01T10:00:00Z"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-50, 50),
    st.floats(-50, 50, allow_nan=False),
    st.sampled_from(TEXTS),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3))
bounds = st.lists(
    st.one_of(st.integers(-50, 50), st.sampled_from(["1", "2024-01-01", "b"])),
    min_size=2,
    max_size=2,
)
OPS = sorted(set(OPERATORS) - {"matches_regex"})


def make_leaf(op, value):
    if op in ("between", "not_between") and not (isinstance(value, list) and len(value) == 2):
        value = [0, 1]
    return {"field": "v", "op": op, "value": value}


leaves = st.builds(lambda op, v: make_leaf(op, v), st.sampled_from(OPS), values)
leaf_rules = leaves.filter(lambda r: not check_rules(r))
rule_trees = st.recursive(
    leaf_rules,
    lambda kids: st.one_of(
        st.builds(lambda c: {"all": c}, st.lists(kids, max_size=3)),
        st.builds(lambda c: {"any": c}, st.lists(kids, max_size=3)),
        st.builds(lambda c: {"not": c}, kids),
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(rule_trees, values)
def test_not_and_de_morgan(rules, actual):
    ctx = {"v": actual}
    assert evaluate({"not": rules}, ctx) == (not evaluate(rules, ctx))
    pair = [rules, {"not": rules}]
    assert evaluate({"any": pair}, ctx) and not evaluate({"all": pair}, ctx)
    assert evaluate({"not": {"all": [rules, rules]}}, ctx) == evaluate(
        {"any": [{"not": rules}]}, ctx
    )


@settings(max_examples=300, deadline=None)
@given(values, bounds)
def test_between_is_ge_and_le(actual, pair):
    ctx = {"v": actual}
    low, high = pair
    ge_and_le = [leaf("v", "greater_or_equal", low), leaf("v", "less_or_equal", high)]
    both = evaluate({"all": ge_and_le}, ctx)
    assert evaluate({"field": "v", "op": "between", "value": pair}, ctx) == both
    assert evaluate({"field": "v", "op": "not_between", "value": pair}, ctx) == (not both)


@settings(max_examples=300, deadline=None)
@given(scalars, st.one_of(st.lists(scalars, max_size=4), st.sampled_from(["", "abc", "کد تخفیف"])))
def test_in_is_contains_flipped(item, collection):
    ctx = {"item": item, "coll": collection}
    via_in = evaluate({"field": "item", "op": "in", "value": collection}, ctx)
    via_contains = OPERATORS["contains"](collection, item)
    assert via_in == via_contains
    assert evaluate({"field": "item", "op": "not_in", "value": collection}, ctx) == (not via_in)


@settings(max_examples=200, deadline=None)
@given(scalars, scalars)
def test_comparisons_are_consistent(a, b):
    ops = {
        name: OPERATORS[name](a, b)
        for name in ("greater", "less", "greater_or_equal", "less_or_equal")
    }
    assert not (ops["greater"] and ops["less"])
    assert ops["greater_or_equal"] == (
        ops["greater"] or (ops["greater_or_equal"] and ops["less_or_equal"])
    )
    if a is None or b is None:
        assert not any(ops.values())
