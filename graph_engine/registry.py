"""The node-type registry: one declaration per node type drives validation, the editor and runs.

A :class:`NodeType` holds everything about a type: its category, palette title/description/icon,
input and output ports, the JSON Schema of its params (titles, descriptions and defaults, so the
editor can generate a form from it), its ``run`` function, its default retry policy and, for
triggers, the event type it listens to. :data:`default_registry` holds the built-in types from
``graph_engine/nodes``; :meth:`Registry.to_json` serves them to the editor and the API.

>>> default_registry.get("logic.condition").output_ports({})
['true', 'false']
>>> default_registry.get("logic.switch").output_ports({"cases": [{"name": "vip", "rules": {}}]})
['vip', 'default']
>>> trigger_spec({"id": "t", "type": "trigger.tag_added", "params": {"tag": "vip"}}, 7).event_type
'TAG_ADDED'
"""

from __future__ import annotations

__all__ = [
    "NodeType",
    "Registry",
    "default_registry",
    "trigger_spec",
    "trigger_specs",
    "CATEGORIES",
    "NO_RETRY",
    "json_path",
]

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from graph_engine import nodes, sandbox, templating
from graph_engine.conditions import check_rules
from graph_engine.errors import UnknownNodeTypeError
from graph_engine.matching import TriggerSpec

CATEGORIES = ("trigger", "logic", "flow", "action")

#: The default retry policy: one attempt, no retry.
NO_RETRY = {"max_attempts": 1, "backoff_seconds": 0, "backoff_factor": 1}


@dataclass(frozen=True, eq=False)
class NodeType:
    """The declaration of one node type.

    ``outputs`` is a tuple of port names or a callable ``params -> list[str]`` for dynamic ports,
    described for the editor by ``outputs_from`` (the param holding the port names) and
    ``outputs_extra`` (fixed ports added after them, e.g. ``"default"``). ``event_type`` is a
    string or a callable ``params -> str`` (triggers only). ``template_fields``, ``rule_fields``
    and ``code_fields`` name the params holding templates, condition rules and custom code (a
    ``[*]`` segment means every item of a list); ``check(params)`` returns extra static problems
    as ``(param path, message)`` pairs. ``error_port`` says whether an ``"error"`` edge may leave
    the node.

    Behaviour the interpreter, validation and the backend ask of a type, instead of testing its
    name: ``merge(params)`` returns ``"all"`` / ``"any"`` for a join node (``None``: not a
    join); ``breaks_cycles`` marks a node a loop must pass through (a wait); for triggers,
    ``filter_parts(params)`` returns the rules its convenience params add to its filter,
    ``targeted`` scopes it to events that name no workflow / node or name this one (schedule,
    manual, webhook), and ``next_fire(params, after, timezone)`` says when a scheduled trigger
    fires next. ``needs_contact`` marks an action that acts on the run's contact;
    ``contactless(params)`` is true for a trigger whose runs have no contact (a schedule with
    no target): validation refuses contact actions after it. ``url_fields`` / ``header_fields``
    name the params holding an address the server will call and the headers it will send: the
    server checks them against its own network policy (private addresses, line breaks).
    """

    type: str
    category: str
    title: str
    description: str
    icon: str
    params_schema: dict
    run: Callable
    inputs: tuple[str, ...] = ("in",)
    outputs: tuple[str, ...] | Callable[[dict], list[str]] = ("out",)
    outputs_from: str | None = None
    outputs_extra: tuple[str, ...] = ()
    event_type: str | Callable[[dict], str] | None = None
    retry: dict = field(default_factory=lambda: dict(NO_RETRY))
    template_fields: tuple[str, ...] = ()
    rule_fields: tuple[str, ...] = ()
    code_fields: tuple[str, ...] = ()
    check: Callable[[dict], list[tuple[str, str]]] | None = None
    error_port: bool = True
    merge: Callable[[dict], str] | None = None
    breaks_cycles: bool = False
    filter_parts: Callable[[dict], list[dict]] | None = None
    targeted: bool = False
    next_fire: Callable[..., Any] | None = None
    needs_contact: bool = False
    contactless: Callable[[dict], bool] | None = None
    url_fields: tuple[str, ...] = ()
    header_fields: tuple[str, ...] = ()

    def output_ports(self, params: dict | None) -> list[str]:
        """The node's output ports for these params (``"error"`` not included)."""
        if callable(self.outputs):
            try:
                return list(self.outputs(params or {}))
            except (TypeError, AttributeError, KeyError):
                return list(self.outputs_extra)
        return list(self.outputs)

    def event_type_for(self, params: dict | None) -> str | None:
        """The event type a trigger of this type listens to (``None`` for non-triggers)."""
        if callable(self.event_type):
            return self.event_type(params or {})
        return self.event_type

    def trigger_filter(self, params: dict, workflow_id: Any, node_id: str) -> dict | None:
        """The combined filter of a trigger node: its convenience params' rules, the target
        scope of a targeted trigger, then its own ``filter`` (``None`` when empty).

        >>> default_registry.get("trigger.message_received").trigger_filter(
        ...     {"keywords": ["hi"]}, 1, "t")
        {'any': [{'field': 'event.data.content', 'op': 'icontains', 'value': 'hi'}]}
        """
        parts = list(self.filter_parts(params)) if self.filter_parts else []
        if self.targeted:
            parts.append(_scope("event.data.workflow_id", workflow_id))
            parts.append(_scope("event.data.node_id", node_id))
        if params.get("filter"):
            parts.append(params["filter"])
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"all": parts}

    @property
    def validator(self) -> Draft202012Validator:
        """A cached Draft 2020-12 validator for the params schema."""
        cached = self.__dict__.get("_validator")
        if cached is None:
            cached = Draft202012Validator(self.params_schema)
            object.__setattr__(self, "_validator", cached)
        return cached

    def check_params(self, params: dict) -> list[tuple[str, str]]:
        """Every static problem of ``params`` as ``(param path, message)`` pairs: the JSON
        Schema first, then rules, templates and code of the fields the schema accepted, then
        the type's own ``check``."""
        problems = sorted(_schema_problem(e) for e in self.validator.iter_errors(params))
        # Rule checks explain a bad rule better than the schema's "not valid under any of the
        # given schemas": where they find something, they replace the schema's errors there.
        rule_problems, flagged = _rule_problems(self, params)
        problems = [(p, m) for p, m in problems if not any(_within(p, f) for f in flagged)]
        bad = [path for path, _ in problems]
        problems += rule_problems + _semantic_problems(self, params, bad)
        if self.check is not None:
            problems += [(p, m) for p, m in self.check(params) if not _under(p, bad)]
        return problems

    def to_json(self) -> dict:
        """A JSON-serialisable description for the editor (no callables)."""
        out: dict[str, Any] = {
            "type": self.type,
            "category": self.category,
            "title": self.title,
            "description": self.description,
            "icon": self.icon,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs_extra) if callable(self.outputs) else list(self.outputs),
            "error_port": self.error_port,
            "params_schema": self.params_schema,
            "retry": dict(self.retry),
            "template_fields": list(self.template_fields),
            "rule_fields": list(self.rule_fields),
            "code_fields": list(self.code_fields),
        }
        if callable(self.outputs):
            out["outputs_from"] = self.outputs_from
        if callable(self.event_type):
            out["event_type_from"] = "event_type"
        elif self.event_type is not None:
            out["event_type"] = self.event_type
        return out


class Registry:
    """A set of node types by name.

    >>> reg = Registry()
    >>> reg.register(default_registry.get("logic.merge")).get("logic.merge").category
    'logic'
    """

    def __init__(self, types: Iterable[NodeType] = ()):
        self._types: dict[str, NodeType] = {}
        for node_type in types:
            self.register(node_type)

    def register(self, node_type: NodeType) -> Registry:
        """Add (or replace) a node type; returns the registry for chaining."""
        if node_type.category not in CATEGORIES:
            raise ValueError(f"{node_type.type}: category must be one of {CATEGORIES}")
        self._types[node_type.type] = node_type
        return self

    def get(self, type_name: str) -> NodeType:
        """The node type called ``type_name``; :class:`UnknownNodeTypeError` if none."""
        try:
            return self._types[type_name]
        except (KeyError, TypeError):
            raise UnknownNodeTypeError(f"unknown node type {type_name!r}") from None

    def category_of(self, type_name: object) -> str | None:
        """The category of ``type_name``; ``None`` when no such type is registered."""
        node_type = self._types.get(type_name) if isinstance(type_name, str) else None
        return node_type.category if node_type else None

    def __contains__(self, type_name: object) -> bool:
        return isinstance(type_name, str) and type_name in self._types

    def all(self) -> list[NodeType]:
        """Every node type, in registration order."""
        return list(self._types.values())

    def to_json(self) -> list[dict]:
        """Every node type described for the editor / API (JSON-serialisable)."""
        return [t.to_json() for t in self._types.values()]


def json_path(parts: Iterable) -> str:
    """Join path parts the way rule paths read: ``("cases", 0, "rules")`` -> ``cases[0].rules``.

    >>> json_path(["cases", 0, "rules"])
    'cases[0].rules'
    """
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _scope(path: str, value) -> dict:
    """Matches when the event does not name a target, or names this one."""
    return {
        "any": [{"field": path, "op": "is_null"}, {"field": path, "op": "equals", "value": value}]
    }


def _schema_problem(error) -> tuple[str, str]:
    """``(param path, message)`` of a jsonschema error; a missing key names the key itself."""
    parts = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [key for key in error.validator_value if key not in error.instance]
        parts += missing[:1]
    return json_path(parts), error.message


def _under(path: str, bad_paths: list[str]) -> bool:
    """Whether ``path`` is inside (or contains) a path that already has a schema error."""
    for bad in bad_paths:
        if bad == path:
            return True
        if not bad or not path:  # a root-level problem (a missing key) hides nothing else
            continue
        shorter, longer = sorted((bad, path), key=len)
        if longer.startswith((shorter + ".", shorter + "[")):
            return True
    return False


def _field_values(params: Any, spec: str, prefix: str = "") -> list[tuple[str, Any]]:
    """The ``(path, value)`` pairs a field spec like ``cases[*].rules`` names in ``params``."""
    head, _, rest = spec.partition(".")
    many = head.endswith("[*]")
    key = head[:-3] if many else head
    if not isinstance(params, dict) or key not in params:
        return []
    path = f"{prefix}.{key}" if prefix else key
    values = [(path, params[key])]
    if many:
        items = params[key] if isinstance(params[key], list) else []
        values = [(f"{path}[{i}]", item) for i, item in enumerate(items)]
    if not rest:
        return values
    return [pair for p, v in values for pair in _field_values(v, rest, p)]


def _strings(value: Any, path: str):
    """Every string inside ``value`` with its path (templates may sit anywhere in a body)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def _rule_path(field_path: str, rule_path: str) -> str:
    if rule_path == "rules" or rule_path.startswith(("rules.", "rules[")):
        rule_path = rule_path[len("rules") :]
    if not rule_path:
        return field_path
    return field_path + (rule_path if rule_path[0] in ".[" else "." + rule_path)


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith((root + ".", root + "["))


def _rule_problems(node_type: NodeType, params: dict) -> tuple[list, list[str]]:
    """Problems of every rule field (``conditions.check_rules``) and the fields that have some."""

    problems, flagged = [], []
    for spec in node_type.rule_fields:
        for path, rules in _field_values(params, spec):
            found = [(_rule_path(path, p), m) for p, m in check_rules(rules)]
            if found:
                problems += found
                flagged.append(path)
    return problems, flagged


def _semantic_problems(node_type: NodeType, params: dict, bad: list[str]) -> list:
    problems: list[tuple[str, str]] = []
    for spec in node_type.template_fields:
        for path, value in _field_values(params, spec):
            for str_path, text in _strings(value, path):
                error = None if _under(str_path, bad) else templating.check_template(text)
                if error:
                    problems.append((str_path, f"template error: {error}"))
    for spec in node_type.code_fields:
        for path, code in _field_values(params, spec):
            if isinstance(code, str) and not _under(path, bad):
                problems += [(path, f"code error: {msg}") for msg in sandbox.check_code(code)]
    return problems


def trigger_spec(node: dict, workflow_id: Any, registry: Registry | None = None):
    """Build the :class:`graph_engine.matching.TriggerSpec` of a trigger node.

    The spec's filter combines the node's ``filter`` rules with its convenience params
    (``keywords``, ``tag``, ``from_status``/``to_status``) and, for targeted triggers (schedule, manual,
    webhook), a scope on ``event.data.workflow_id`` / ``event.data.node_id``.
    """

    registry = registry or default_registry
    node_type = registry.get(node.get("type"))
    if node_type.category != "trigger":
        raise ValueError(f"node {node.get('id')}: {node_type.type} is not a trigger")
    params = node.get("params") or {}
    return TriggerSpec(
        workflow_id=workflow_id,
        node_id=node["id"],
        event_type=node_type.event_type_for(params),
        filter=node_type.trigger_filter(params, workflow_id, node["id"]),
    )


def trigger_specs(graph: dict, workflow_id: Any, registry: Registry | None = None) -> list:
    """The trigger specs of every enabled trigger node of a graph dict."""
    registry = registry or default_registry
    return [
        trigger_spec(node, workflow_id, registry)
        for node in graph.get("nodes", [])
        if registry.category_of(node.get("type")) == "trigger" and not node.get("disabled")
    ]


def _build_default() -> Registry:
    """Every ``NODE_TYPES`` list of the modules in ``graph_engine/nodes``, by category: a new
    node type module is picked up without being named anywhere."""
    found = []
    for info in sorted(pkgutil.iter_modules(nodes.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{nodes.__name__}.{info.name}")
        found += getattr(module, "NODE_TYPES", [])
    return Registry(sorted(found, key=lambda t: CATEGORIES.index(t.category)))


#: The built-in node types.
default_registry = _build_default()
