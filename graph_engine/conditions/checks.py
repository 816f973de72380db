"""Static checking of condition rules and their JSON Schema (private to :mod:`conditions`).

>>> rule_problems({"all": [{"field": "n", "op": "between", "value": [1]}]}, "rules")
[('rules.all[0].value', 'between needs a list [low, high]')]
"""

from __future__ import annotations

import difflib
from typing import Any

from graph_engine.conditions.operators import OPERATORS, UNARY_OPERATORS, compile_regex
from graph_engine.errors import ConditionError
from graph_engine.sandbox import check_code as check

__all__ = ["RULES_SCHEMA", "rule_problems"]

_META = {"id", "label"}
_GROUPS = ("all", "any", "not")
_SCALAR = (str, int, float)
_NEEDS_SCALAR = {"greater", "greater_or_equal", "less", "less_or_equal"}
_NEEDS_TEXT = {"icontains", "starts_with", "ends_with"}
_RANGE = {"between", "not_between"}
_COLLECTION = {"in", "not_in"}

Problems = list[tuple[str, str]]


def _is_scalar(value: Any) -> bool:
    return isinstance(value, _SCALAR) and not isinstance(value, bool)


def _value_problem(op: str, node: dict) -> str | None:
    """What is wrong with ``node["value"]`` for ``op``, or ``None``."""
    if op in UNARY_OPERATORS:
        return None
    if "value" not in node:
        return f"{op} needs a value"
    value = node["value"]
    if op in _RANGE:
        if not isinstance(value, list) or len(value) != 2:
            return f"{op.replace('not_', '')} needs a list [low, high]"
        if not all(_is_scalar(v) for v in value):
            return f"{op} bounds must be numbers, numeric strings or ISO dates"
    elif op in _COLLECTION and not isinstance(value, list | str):
        return f"{op} needs a list of values (or a string)"
    elif op in _NEEDS_SCALAR and not _is_scalar(value):
        return f"{op} needs a number, numeric string or ISO date, not {type(value).__name__}"
    elif op in _NEEDS_TEXT and not _is_scalar(value):
        return f"{op} needs a text value, not {type(value).__name__}"
    elif op == "matches_regex":
        try:
            compile_regex(value)
        except ConditionError as exc:
            return str(exc)
    return None


def _leaf_problems(node: dict, path: str, check_code: bool) -> Problems:
    if "code" in node:
        extra = set(node) - {"code"} - _META
        if extra:
            return [(path, f"a code rule takes only 'code', not {sorted(extra)}")]
        code = node["code"]
        if not isinstance(code, str) or not code.strip():
            return [(f"{path}.code", "code must be a non-empty string")]
        if check_code:
            return [(f"{path}.code", msg) for msg in check(code)]
        return []
    problems: Problems = []
    extra = set(node) - {"field", "op", "value"} - _META
    if extra:
        problems.append((path, f"unknown keys {sorted(extra)}"))
    field = node.get("field")
    if not isinstance(field, str) or not field or "" in field.split("."):
        problems.append((f"{path}.field", "field must be a dotted path like 'user.tags'"))
    op = node.get("op")
    if op not in OPERATORS:
        guess = difflib.get_close_matches(str(op), list(OPERATORS), n=1)
        hint = f"; did you mean {guess[0]!r}?" if guess else ""
        problems.append((f"{path}.op", f"unknown operator {op!r}{hint}"))
        return problems
    problem = _value_problem(op, node)
    if problem:
        problems.append((f"{path}.value", problem))
    return problems


def rule_problems(node: Any, path: str, *, check_code: bool = False) -> Problems:
    """Every static problem in the rule ``node`` located at ``path``."""
    if not isinstance(node, dict):
        return [(path, f"a rule must be an object, not {type(node).__name__}")]
    groups = [key for key in _GROUPS if key in node]
    if not groups:
        if not set(node) - _META:
            return [(path, "empty rule: give a group (all/any/not), a field test or code")]
        return _leaf_problems(node, path, check_code)
    extra = set(node) - {groups[0]} - _META
    if len(groups) > 1 or extra:
        return [
            (path, f"a group has exactly one of all/any/not; found {sorted(set(node) - _META)}")
        ]
    key = groups[0]
    inner = node[key]
    if key == "not":
        return rule_problems(inner, f"{path}.not", check_code=check_code)
    if not isinstance(inner, list):
        return [(f"{path}.{key}", f"'{key}' must be a list of rules")]
    problems: Problems = []
    for i, child in enumerate(inner):
        problems += rule_problems(child, f"{path}.{key}[{i}]", check_code=check_code)
    return problems


_META_SCHEMA = {"id": {"type": "string"}, "label": {"type": "string"}}
_REF = {"$ref": "#/$defs/rule"}


def _object(required: str, properties: dict, **extra) -> dict:
    return {
        "type": "object",
        "required": [required],
        "additionalProperties": False,
        "properties": {**properties, **_META_SCHEMA},
        **extra,
    }


def _leaf_schema() -> dict:
    scalar = {"type": ["string", "number"]}
    value_rules = [
        (
            {"enum": sorted(_RANGE)},
            {"type": "array", "items": scalar, "minItems": 2, "maxItems": 2},
        ),
        ({"enum": sorted(_COLLECTION)}, {"type": ["array", "string"]}),
        ({"enum": sorted(_NEEDS_SCALAR | _NEEDS_TEXT)}, scalar),
        ({"const": "matches_regex"}, {"type": "string", "maxLength": 512}),
    ]
    rules = [
        {"if": {"properties": {"op": op}}, "then": {"properties": {"value": value}}}
        for op, value in value_rules
    ]
    rules.append(
        {
            "if": {"properties": {"op": {"not": {"enum": sorted(UNARY_OPERATORS)}}}},
            "then": {"required": ["value"]},
        }
    )
    schema = _object(
        "field",
        {
            "field": {"type": "string", "minLength": 1, "pattern": r"^[^.]+(\.[^.]+)*$"},
            "op": {"enum": list(OPERATORS)},
            "value": {},
        },
        allOf=rules,
    )
    schema["required"] = ["field", "op"]
    return schema


def _schema() -> dict:
    kinds = ("all", "any", "not", "leaf", "code")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Condition rules",
        "description": "all/any/not groups of field tests ({field, op, value}) and code leaves",
        "anyOf": [_REF, {"type": "object", "maxProperties": 0}],
        "$defs": {
            "rule": {"oneOf": [{"$ref": f"#/$defs/{kind}"} for kind in kinds]},
            "all": _object("all", {"all": {"type": "array", "items": _REF}}),
            "any": _object("any", {"any": {"type": "array", "items": _REF}}),
            "not": _object("not", {"not": _REF}),
            "leaf": _leaf_schema(),
            "code": _object("code", {"code": {"type": "string", "minLength": 1}}),
        },
    }


RULES_SCHEMA: dict = _schema()
"""JSON Schema (draft 2020-12, self-contained via ``$defs``) of a rules group."""
