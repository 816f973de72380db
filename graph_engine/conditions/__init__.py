"""Condition rules: nested ``all`` / ``any`` / ``not`` groups of field tests and code leaves.

A rule is a group ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``, a field leaf
``{"field": "user.tags", "op": "contains", "value": "vip"}`` or a code leaf
``{"code": "return user['fields'].get('score', 0) > 3"}`` (run in :mod:`graph_engine.sandbox`,
truthiness of its result). ``{"all": []}`` is true, ``{"any": []}`` false and a top-level ``{}``
means "no conditions" (true). Groups and leaves may carry an ``"id"`` and a ``"label"``.

Fields are dotted paths into the run context (see :func:`resolve_path`): ``event.data.content``,
``user.tags.0`` (list index), ``event.data.items.-1`` (negative index = from the end). A missing
path resolves to ``None``. Operator semantics -- numbers vs numeric strings (``"10" > 9``),
ISO dates compared as instants (naive = UTC), ``contains`` as list membership or substring,
``None`` never matching a comparison, ``icontains`` over :func:`fold_text` (casefold, NFKC,
Arabic/Persian yeh and kaf, ZWNJ = space), ``matches_regex`` with RE2 and length caps -- are
documented in ``graph_engine.conditions.operators``.

Rules are compiled once into closures and cached (keyed by the rules object, re-checked by
equality), so :func:`evaluate` on the hot path neither re-validates nor re-compiles regexes.

>>> ctx = {"user": {"tags": ["vip"], "fields": {"age": "31"}}, "event": {"data": {"content": "كد تخفيف?"}}}
>>> evaluate({"all": [{"field": "user.tags", "op": "contains", "value": "vip"},
...                   {"field": "user.fields.age", "op": "between", "value": [18, 40]},
...                   {"field": "event.data.content", "op": "icontains", "value": "کد تخفیف"}]}, ctx)
True
>>> check_rules({"any": [{"field": "x", "op": "greter", "value": 1}]})
[('rules.any[0].op', "unknown operator 'greter'; did you mean 'greater'?")]
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from graph_engine.conditions.checks import RULES_SCHEMA, rule_problems
from graph_engine.conditions.operators import (
    MAX_REGEX_INPUT,
    OPERATORS,
    UNARY_OPERATORS,
    _text,
    compile_regex,
    fold_text,
)
from graph_engine.errors import ConditionError
from graph_engine.sandbox import run_code

__all__ = [
    "OPERATORS",
    "RULES_SCHEMA",
    "resolve_path",
    "evaluate",
    "explain",
    "check_rules",
    "compile_rules",
    "fold_text",
]

_MISSING = object()
_CACHE: dict[int, tuple[Any, Any, Callable]] = {}
_CACHE_SIZE = 8192

Predicate = Callable[[dict, Any], bool]


def _index(segment: str):
    try:
        return int(segment)
    except ValueError:
        return None


def _getter(path: str) -> Callable[[Any], Any]:
    """A fast ``context -> value`` function for a dotted path (missing -> ``_MISSING``)."""
    parts = tuple((seg, _index(seg)) for seg in path.split("."))

    def get(current):
        for key, index in parts:
            if type(current) is dict:
                current = current.get(key, _MISSING)
                if current is _MISSING:
                    return _MISSING
            elif index is not None and isinstance(current, list | tuple):
                if -len(current) <= index < len(current):
                    current = current[index]
                else:
                    return _MISSING
            else:
                return _MISSING
        return current

    return get


def resolve_path(context: dict, path: str, default: Any = None) -> Any:
    """The value at dotted ``path`` in ``context``, or ``default`` when it is missing.

    Integer segments index lists; negative ones count from the end.

    >>> ctx = {"user": {"tags": ["a", "b"]}, "event": {"data": {"items": [{"n": 1}, {"n": 2}]}}}
    >>> resolve_path(ctx, "user.tags.0"), resolve_path(ctx, "event.data.items.-1.n")
    ('a', 2)
    >>> resolve_path(ctx, "user.fields.x.y", "?")
    '?'
    """
    value = _getter(path)(context)
    return default if value is _MISSING else value


def _leaf(node: dict) -> Predicate:
    get, op = _getter(node["field"]), node["op"]
    if op == "matches_regex":
        regex = compile_regex(node["value"])

        def regex_leaf(ctx, runner):
            text = _text(get(ctx))
            return text is not None and regex.search(text[:MAX_REGEX_INPUT]) is not None

        return regex_leaf
    fn, value = OPERATORS[op], node.get("value")
    if op == "icontains" and _text(value) is not None:
        folded = fold_text(_text(value))  # fold the constant once, not per evaluation

        def icontains_leaf(ctx, runner):
            actual = get(ctx)
            if type(actual) is str:
                return folded in fold_text(actual)
            return fn(None if actual is _MISSING else actual, value)

        return icontains_leaf

    def leaf(ctx, runner):
        actual = get(ctx)
        return fn(None if actual is _MISSING else actual, value)

    return leaf


def _code_leaf(code: str) -> Predicate:
    def code_leaf(ctx, runner):
        if runner is None:
            runner = run_code
        return bool(runner(code, ctx))

    return code_leaf


def _build(node: dict) -> Predicate:
    if "any" in node:
        options = tuple(_build(child) for child in node["any"])

        def any_group(ctx, runner):
            for child in options:  # noqa: SIM110 - hot path: a loop beats any(<generator>)
                if child(ctx, runner):
                    return True
            return False

        return any_group
    if "all" in node:
        parts = tuple(_build(child) for child in node["all"])

        def all_group(ctx, runner):
            for child in parts:  # noqa: SIM110 - hot path: a loop beats all(<generator>)
                if not child(ctx, runner):
                    return False
            return True

        return all_group
    if "not" in node:
        inner = _build(node["not"])
        return lambda ctx, runner: not inner(ctx, runner)
    if "code" in node:
        return _code_leaf(node["code"])
    return _leaf(node)


def compile_rules(rules: dict | None) -> Predicate:
    """Validate and compile ``rules`` into ``predicate(context, code_runner) -> bool``.

    Cached: compiling the same (unchanged) rules object again is a dict lookup.
    Raises :class:`ConditionError` naming every problem found.

    >>> compile_rules({"not": {"field": "a", "op": "is_null"}})({"a": 0}, None)
    True
    """
    key = id(rules)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is rules and hit[1] == rules:
        return hit[2]
    snapshot = copy.deepcopy(rules)
    if snapshot is None or snapshot == {}:
        predicate: Predicate = lambda ctx, runner: True  # noqa: E731
    else:
        problems = rule_problems(snapshot, "rules")
        if problems:
            raise ConditionError("; ".join(f"{where}: {msg}" for where, msg in problems))
        predicate = _build(snapshot)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[key] = (rules, snapshot, predicate)
    return predicate


def evaluate(rules: dict | None, context: dict, *, code_runner=None) -> bool:
    """Whether ``context`` satisfies ``rules``.

    ``code_runner(code, context)`` runs ``{"code": ...}`` leaves (default:
    :func:`graph_engine.sandbox.run_code`). Raises :class:`ConditionError` on malformed rules.

    >>> evaluate({"any": []}, {}), evaluate({"all": []}, {}), evaluate({}, {})
    (False, True, True)
    """
    return compile_rules(rules)(context, code_runner)


def check_rules(rules: Any, path: str = "rules") -> list[tuple[str, str]]:
    """Static problems in ``rules`` as ``(json-path, message)`` pairs; ``[]`` when fine.

    Checks structure, operator names, value shapes (``between`` needs ``[low, high]``, ``in``
    a list...), regexes (RE2 syntax and length cap) and the syntax of code leaves.
    """
    if rules is None or rules == {}:
        return []
    return rule_problems(rules, path, check_code=True)


def _summary(value: Any) -> Any:
    """A JSON-able, bounded view of ``value`` for explanations."""
    if isinstance(value, str):
        return value if len(value) <= 200 else value[:200] + "…"
    if isinstance(value, list | tuple):
        items = [_summary(v) for v in value[:20]]
        return items + ["…"] if len(value) > 20 else items
    if isinstance(value, dict):
        return {str(k): _summary(v) for k, v in list(value.items())[:20]}
    if value is None or isinstance(value, bool | int | float):
        return value
    return repr(value)


def _explain(node: dict, ctx: dict, runner) -> dict:
    for group in ("all", "any"):
        if group in node:
            children = [_explain(child, ctx, runner) for child in node[group]]
            results = [child["result"] for child in children]
            result = all(results) if group == "all" else any(results)
            return {"group": group, "result": result, "children": children}
    if "not" in node:
        child = _explain(node["not"], ctx, runner)
        return {"group": "not", "result": not child["result"], "children": [child]}
    if "code" in node:
        result = _code_leaf(node["code"])(ctx, runner)
        return {"code": node["code"], "result": result, "text": f"custom code → {result}"}
    actual = _getter(node["field"])(ctx)
    missing = actual is _MISSING
    result = _leaf(node)(ctx, runner)
    op, expected = node["op"], node.get("value")
    shown = "(missing)" if missing else repr(_summary(actual))
    words = op.replace("_", " ") + ("" if op in UNARY_OPERATORS else f" {expected!r}")
    return {
        "field": node["field"],
        "op": op,
        "expected": None if op in UNARY_OPERATORS else _summary(expected),
        "actual": None if missing else _summary(actual),
        "missing": missing,
        "result": result,
        "text": f"{node['field']} {words}: {'yes' if result else 'no'} (value: {shown})",
    }


def explain(rules: dict | None, context: dict, *, code_runner=None) -> dict:
    """A tree answering "why did / didn't this match?" for a marketer.

    Groups give ``{"group", "result", "children"}``; leaves ``{"field", "op", "expected",
    "actual", "missing", "result", "text"}``. Every child is evaluated (no short-circuit).

    >>> tree = explain({"all": [{"field": "user.tags", "op": "contains", "value": "vip"}]},
    ...                {"user": {"tags": []}})
    >>> tree["result"], tree["children"][0]["text"]
    (False, "user.tags contains 'vip': no (value: [])")
    """
    compile_rules(rules)  # raises ConditionError on malformed rules
    if rules is None or rules == {}:
        return {"group": "all", "result": True, "children": []}
    return _explain(rules, context, code_runner)
