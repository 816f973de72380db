"""Logic node types: branch on conditions, split traffic, join branches.

>>> variant_for(["a", "b"], [1, 1], "wf1", "split", "customer123") in ("a", "b")
True
>>> variant_for(["a", "b"], [0, 5], "wf1", "split", "anyone")
'b'
"""

from __future__ import annotations

__all__ = ["NODE_TYPES", "variant_for", "code_runner"]

import hashlib

from graph_engine.conditions import evaluate
from graph_engine.nodes import RULES_REF, NodeCall, NodeResult, rules_schema
from graph_engine.registry import NodeType

_PORT_NAME = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"}


def code_runner(call: NodeCall):
    """A ``code_runner`` for :func:`conditions.evaluate` that goes through the effects."""
    return lambda code, context: call.effects.run_code(code, context, timeout=2.0)


def _evaluate(rules: dict, call: NodeCall) -> bool:
    return evaluate(rules, call.context, code_runner=code_runner(call))


def _run_condition(call: NodeCall) -> NodeResult:
    result = bool(_evaluate(call.params.get("rules") or {"all": []}, call))
    return NodeResult({"result": result}, port="true" if result else "false")


def _run_switch(call: NodeCall) -> NodeResult:
    for case in call.params.get("cases", []):
        if _evaluate(case.get("rules") or {"all": []}, call):
            return NodeResult({"case": case["name"]}, port=case["name"])
    return NodeResult({"case": "default"}, port="default")


def variant_for(names: list, weights: list, workflow_id, node_id: str, subject: str) -> str:
    """Pick a variant by weight, deterministically for (workflow, node, subject).

    Uses SHA-256 (stable across processes, unlike ``hash()``) mapped onto [0, total weight).
    """
    total = sum(weights)
    digest = hashlib.sha256(f"{workflow_id}:{node_id}:{subject}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64 * total
    upto = 0.0
    for name, weight in zip(names, weights, strict=True):
        upto += weight
        if point < upto and weight > 0:
            return name
    return next(n for n, w in zip(reversed(names), reversed(weights), strict=True) if w > 0)


def _run_ab_split(call: NodeCall) -> NodeResult:
    variants = call.params["variants"]
    user = call.contact
    subject = user.get("external_id") or user.get("id") or call.execution_id
    name = variant_for(
        [v["name"] for v in variants],
        [v.get("weight", 1) for v in variants],
        call.workflow_id,
        call.node_id,
        str(subject),
    )
    return NodeResult({"variant": name}, port=name)


def _run_merge(call: NodeCall) -> NodeResult:
    return NodeResult({"arrived": list(call.arrived)})


def _check_names(params: dict, key: str, reserved: tuple = ()) -> list[tuple[str, str]]:
    items = params.get(key)
    if not isinstance(items, list):
        return []
    problems, seen = [], set()
    for i, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        if name in seen or name in reserved:
            problems.append((f"{key}[{i}].name", f"duplicate or reserved port name {name!r}"))
        seen.add(name)
    return problems


def _check_ab(params: dict) -> list[tuple[str, str]]:
    problems = _check_names(params, "variants", ("error",))
    variants = params.get("variants")
    if isinstance(variants, list) and variants:
        weights = [v.get("weight", 1) for v in variants if isinstance(v, dict)]
        if all(isinstance(w, int | float) for w in weights) and sum(weights) <= 0:
            problems.append(("variants", "at least one variant needs a weight above 0"))
    return problems


def _names(key: str, extra: tuple = ()):
    return lambda params: [item["name"] for item in params.get(key) or []] + list(extra)


_CONDITION_SCHEMA = rules_schema(
    {
        "type": "object",
        "properties": {
            "rules": {
                **RULES_REF,
                "title": "Rules",
                "description": "Follow 'true' when these rules hold, else 'false'.",
            }
        },
        "required": ["rules"],
        "additionalProperties": False,
    }
)

_SWITCH_SCHEMA = rules_schema(
    {
        "type": "object",
        "properties": {
            "cases": {
                "type": "array",
                "title": "Cases",
                "minItems": 1,
                "maxItems": 50,
                "description": "Checked in order; the first case whose rules hold picks its port, "
                "else 'default'.",
                "items": {
                    "type": "object",
                    "required": ["name", "rules"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {**_PORT_NAME, "title": "Port name"},
                        "rules": {**RULES_REF, "title": "Rules"},
                    },
                },
            }
        },
        "required": ["cases"],
        "additionalProperties": False,
    }
)

_AB_SCHEMA = {
    "type": "object",
    "properties": {
        "variants": {
            "type": "array",
            "title": "Variants",
            "minItems": 2,
            "maxItems": 20,
            "description": "Each contact always gets the same variant, chosen by weight.",
            "default": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}],
            "items": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": {**_PORT_NAME, "title": "Port name"},
                    "weight": {"type": "number", "minimum": 0, "default": 1, "title": "Weight"},
                },
            },
        }
    },
    "required": ["variants"],
    "additionalProperties": False,
}

_MERGE_SCHEMA = {
    "type": "object",
    "properties": {
        "mode": {
            "type": "string",
            "enum": ["all", "any"],
            "default": "all",
            "title": "Mode",
            "description": "all: wait for every branch that can still arrive; "
            "any: continue on the first arrival only.",
        }
    },
    "additionalProperties": False,
}

NODE_TYPES = [
    NodeType(
        type="logic.condition",
        category="logic",
        title="Condition",
        description="Branch on rules: 'true' or 'false'.",
        icon="git-branch",
        params_schema=_CONDITION_SCHEMA,
        run=_run_condition,
        outputs=("true", "false"),
        rule_fields=("rules",),
    ),
    NodeType(
        type="logic.switch",
        category="logic",
        title="Switch",
        description="Route to the first matching case, else 'default'.",
        icon="shuffle",
        params_schema=_SWITCH_SCHEMA,
        run=_run_switch,
        outputs=_names("cases", ("default",)),
        outputs_from="cases",
        outputs_extra=("default",),
        rule_fields=("cases[*].rules",),
        check=lambda params: _check_names(params, "cases", ("default", "error")),
    ),
    NodeType(
        type="logic.ab_split",
        category="logic",
        title="A/B split",
        description="Split contacts between weighted variants (stable per contact).",
        icon="percent",
        params_schema=_AB_SCHEMA,
        run=_run_ab_split,
        outputs=_names("variants"),
        outputs_from="variants",
        check=_check_ab,
    ),
    NodeType(
        type="logic.merge",
        category="logic",
        title="Merge",
        description="Join branches: wait for all of them, or continue on the first.",
        icon="git-merge",
        params_schema=_MERGE_SCHEMA,
        run=_run_merge,
        merge=lambda params: params.get("mode", "all"),
    ),
]
