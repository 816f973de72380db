"""Validation of workflow graphs: every problem at once, each naming its node or edge.

:func:`validate` never raises on bad input: malformed shapes (nodes not a list, a node that is
not an object, an id that is not a string...) become :class:`~graph_engine.errors.Issue`
entries like every other problem. Errors make a graph unusable; warnings (unreachable nodes,
unknown extra keys) do not.

>>> report = validate({"format": "workflow-graph/v1", "name": "x", "nodes": [], "edges": []})
>>> report.ok, [i.code for i in report.errors]
(False, ['no_trigger'])
>>> validate({"format": "v0", "nodes": {}, "edges": []}).errors[0].code
'bad_format'
"""

from __future__ import annotations

__all__ = [
    "Report",
    "validate",
    "validate_or_raise",
    "SETTINGS_SCHEMA",
    "RETRY_SCHEMA",
    "UI_SCHEMA",
]

from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from graph_engine.conditions import check_rules
from graph_engine.errors import Issue, ValidationError
from graph_engine.graph import DEFAULT_PORT, FORMAT, Graph
from graph_engine.nodes.triggers import valid_timezone
from graph_engine.registry import Registry, default_registry, json_path

SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "reentry": {
            "enum": ["always", "once", "once_per_hours"],
            "default": "always",
            "title": "Re-entry",
            "description": "May a contact run this workflow again?",
        },
        "reentry_hours": {
            "type": "integer",
            "minimum": 1,
            "maximum": 87600,
            "title": "Re-entry after (hours)",
        },
        "max_runs_per_contact_per_day": {
            "type": ["integer", "null"],
            "minimum": 1,
            "title": "Max runs per contact per day",
        },
        "timezone": {
            "type": "string",
            "default": "UTC",
            "title": "Timezone",
            "description": "IANA name, e.g. Asia/Tehran.",
        },
        "max_steps": {
            "type": "integer",
            "minimum": 1,
            "maximum": 1_000_000,
            "title": "Max steps per run",
        },
        "priority": {
            "type": "integer",
            "minimum": -1000,
            "maximum": 1000,
            "default": 0,
            "title": "Priority",
            "description": "Who gets a contact's last message of the day under a "
            "frequency cap: the higher priority.",
        },
        "quiet_hours": {
            "type": "object",
            "required": ["start", "end"],
            "additionalProperties": False,
            "title": "Quiet hours",
            "description": "Messages due between start and end (the contact's "
            "user.fields.timezone, else the workflow's) wait.",
            "properties": {
                "start": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                "end": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                "node_types": {
                    "type": "array",
                    "maxItems": 50,
                    "items": {"type": "string", "maxLength": 64},
                },
            },
        },
        "goals": {
            "type": "array",
            "maxItems": 20,
            "title": "Goals (exit conditions)",
            "description": "A waiting run ends as converted when the contact gets a tag, "
            "sends an event (optionally matching filter rules) or a rule "
            "on event.* / user.* holds.",
            "items": {
                "type": "object",
                "required": ["id"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                    "tag": {"type": "string", "minLength": 1, "maxLength": 100},
                    "event_type": {
                        "type": "string",
                        "maxLength": 64,
                        "pattern": "^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$",
                    },
                    "rules": {"type": "object"},
                },
                "minProperties": 2,
            },
        },
        "test_recipients_only": {
            "type": "boolean",
            "default": False,
            "title": "Test recipients only",
            "description": "In live mode, send only to contacts tagged "
            "'test'; the others are captured.",
        },
    },
    "additionalProperties": False,
}

RETRY_SCHEMA = {
    "type": "object",
    "properties": {
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20},
        "backoff_seconds": {"type": "number", "minimum": 0, "maximum": 7 * 86400},
        "backoff_factor": {"type": "number", "minimum": 1, "maximum": 10},
    },
    "additionalProperties": False,
}

#: The editor's own space in a graph (the engine ignores it): sticky notes, and more keys later.
UI_SCHEMA = {
    "type": "object",
    "properties": {
        "notes": {
            "type": "array",
            "maxItems": 500,
            "items": {
                "type": "object",
                "required": ["id", "text", "position"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "minLength": 1, "maxLength": 100},
                    "text": {"type": "string", "maxLength": 10_000},
                    "position": {
                        "type": "object",
                        "required": ["x", "y"],
                        "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                    },
                    "width": {"type": "number", "minimum": 0, "maximum": 10_000},
                    "height": {"type": "number", "minimum": 0, "maximum": 10_000},
                },
            },
        },
    },
}

_TOP_KEYS = {"format", "name", "description", "settings", "nodes", "edges", "ui"}
_NODE_KEYS = {"id", "type", "position", "params", "title", "retry", "disabled"}
_EDGE_KEYS = {"id", "source", "target", "source_port"}
_SETTINGS_VALIDATOR = Draft202012Validator(SETTINGS_SCHEMA)
_RETRY_VALIDATOR = Draft202012Validator(RETRY_SCHEMA)
_UI_VALIDATOR = Draft202012Validator(UI_SCHEMA)


@dataclass
class Report:
    """The outcome of :func:`validate`: ``errors`` and ``warnings`` (lists of Issue)."""

    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    @property
    def issues(self) -> list[Issue]:
        return self.errors + self.warnings

    def error(self, code: str, message: str, **where: Any) -> None:
        self.errors.append(Issue(code, message, **where))

    def warn(self, code: str, message: str, **where: Any) -> None:
        self.warnings.append(Issue(code, message, severity="warning", **where))

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "errors": [i.to_dict() for i in self.errors],
            "warnings": [i.to_dict() for i in self.warnings],
        }


def validate(
    data: Any, registry: Registry = default_registry, *, max_nodes: int = 500, max_edges: int = 2000
) -> Report:
    """Check a graph dict and collect every problem.

    Parameters
    ----------
    data : the parsed graph JSON (anything: wrong shapes are reported, not raised).
    registry : the node types to check against.
    max_nodes, max_edges : size caps; a graph over them is reported without further checks.
    """
    report = Report()
    # 1. The envelope: an object, the format tag, top-level keys, settings.
    if not isinstance(data, dict):
        report.error("malformed", "a workflow graph must be a JSON object")
        return report
    _check_envelope(data, report)
    nodes, edges = data.get("nodes"), data.get("edges")
    for key, items in (("nodes", nodes), ("edges", edges)):
        if not isinstance(items, list):
            report.error("malformed", f"{key!r} must be a list", field=key)
    if not isinstance(nodes, list) or not isinstance(edges, list):
        return report
    # 2. The size cap, before any per-node work.
    if len(nodes) > max_nodes or len(edges) > max_edges:
        report.error(
            "too_large",
            f"graph has {len(nodes)} nodes / {len(edges)} edges (max {max_nodes} / {max_edges})",
        )
        return report
    # 3. Nodes, 4. edges, 5. whole-graph questions (triggers, cycles, reachability).
    valid_nodes, node_ids = _check_nodes(nodes, registry, report)
    valid_edges = _check_edges(edges, valid_nodes, node_ids, registry, report)
    _check_graph(
        Graph({"nodes": list(valid_nodes.values()), "edges": valid_edges}), registry, report
    )
    return report


def validate_or_raise(data: Any, registry: Registry = default_registry, **caps: int) -> Graph:
    """Validate and build the :class:`Graph`; :class:`ValidationError` lists every error."""
    report = validate(data, registry, **caps)
    if not report.ok:
        raise ValidationError(report.errors)
    return Graph.from_dict(data)


def _check_envelope(data: dict, report: Report) -> None:
    fmt = data.get("format")
    if fmt != FORMAT:
        got = "missing" if fmt is None else f"{fmt!r}"
        report.error("bad_format", f"format must be {FORMAT!r} (got {got})", field="format")
    if "name" in data and not isinstance(data["name"], str):
        report.error("malformed", "name must be a string", field="name")
    if "description" in data and not isinstance(data["description"], str):
        report.error("malformed", "description must be a string", field="description")
    for key in sorted(set(data) - _TOP_KEYS, key=str):
        report.warn("unknown_key", f"unknown top-level key {key!r}", field=str(key))
    if "settings" in data:
        _check_settings(data["settings"], report)
    for err in _UI_VALIDATOR.iter_errors(data.get("ui", {})):
        report.error("bad_ui", err.message, field=json_path(("ui", *err.absolute_path)))


def _check_settings(settings: Any, report: Report) -> None:
    for err in _SETTINGS_VALIDATOR.iter_errors(settings):
        path = json_path(("settings", *err.absolute_path))
        report.error("bad_settings", err.message, field=path)
    if not isinstance(settings, dict):
        return
    tz = settings.get("timezone")
    if isinstance(tz, str) and not valid_timezone(tz):
        report.error("bad_settings", f"unknown timezone {tz!r}", field="settings.timezone")
    _check_goals(settings.get("goals"), report)
    if settings.get("reentry") == "once_per_hours" and "reentry_hours" not in settings:
        report.error(
            "bad_settings", "reentry 'once_per_hours' needs reentry_hours", field="settings"
        )


def _check_goals(goals: Any, report: Report) -> None:
    """Each goal's rules are valid rules; goal ids are unique."""
    if not isinstance(goals, list):
        return
    seen = set()
    for i, goal in enumerate(goals):
        if not isinstance(goal, dict):
            continue
        if goal.get("id") in seen:
            report.error(
                "bad_settings", f"duplicate goal id {goal['id']!r}", field=f"settings.goals[{i}].id"
            )
        seen.add(goal.get("id"))
        for path, message in check_rules(goal.get("rules"), f"settings.goals[{i}].rules"):
            report.error("bad_settings", message, field=path)


def _with_unique_ids(items: list, kind: str, report: Report):
    """Yield ``(id, item)`` for each well-formed ``nodes`` / ``edges`` entry whose id is new;
    report malformed entries, missing ids and duplicates (``kind`` is "node" or "edge")."""
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"{kind}s[{i}]"
        if not isinstance(item, dict):
            report.error("malformed", f"{where} is not an object", field=where)
            continue
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            report.error("bad_id", f"{where} has no string id", field=f"{where}.id")
            continue
        if item_id in seen:
            report.error(
                "duplicate_id", f"duplicate {kind} id {item_id!r}", **{f"{kind}_id": item_id}
            )
            continue
        seen.add(item_id)
        yield item_id, item


def _check_nodes(nodes: list, registry: Registry, report: Report) -> tuple[dict, set]:
    """Shape, ids, types and params of every node; returns the usable nodes by id and the
    set of all node ids."""
    valid: dict[str, dict] = {}
    seen: set[str] = set()
    for node_id, node in _with_unique_ids(nodes, "node", report):
        seen.add(node_id)
        if _check_node(node, registry, report):
            valid[node_id] = node
    return valid, seen


def _check_node(node: dict, registry: Registry, report: Report) -> bool:
    node_id = node["id"]
    for key in sorted(set(node) - _NODE_KEYS, key=str):
        report.warn("unknown_key", f"unknown node key {key!r}", node_id=node_id, field=str(key))
    _check_node_extras(node, report)
    type_name = node.get("type")
    if type_name not in registry:
        report.error("unknown_node_type", f"unknown node type {type_name!r}", node_id=node_id)
        return False
    params = node.get("params", {})
    if not isinstance(params, dict):
        report.error("invalid_params", "params must be an object", node_id=node_id, field="params")
        return False
    for path, message in registry.get(type_name).check_params(params):
        report.error("invalid_params", message, node_id=node_id, field=path or None)
    return True


def _check_node_extras(node: dict, report: Report) -> None:
    node_id = node["id"]
    position = node.get("position")
    if position is not None and not (
        isinstance(position, dict)
        and all(isinstance(position.get(k), int | float) for k in ("x", "y"))
    ):
        report.error(
            "malformed", "position must be {x, y} numbers", node_id=node_id, field="position"
        )
    for key, kind in (("title", str), ("disabled", bool)):
        if key in node and not isinstance(node[key], kind):
            report.error(
                "malformed", f"{key} must be a {kind.__name__}", node_id=node_id, field=key
            )
    if "retry" in node:
        for err in _RETRY_VALIDATOR.iter_errors(node["retry"]):
            path = json_path(("retry", *err.absolute_path))
            report.error("bad_retry", err.message, node_id=node_id, field=path)


def _check_edges(
    edges: list, nodes: dict, node_ids: set, registry: Registry, report: Report
) -> list[dict]:
    """Shape, ids, endpoints and ports of every edge; returns the usable edges."""
    valid = []
    for edge_id, edge in _with_unique_ids(edges, "edge", report):
        for key in sorted(set(edge) - _EDGE_KEYS, key=str):
            report.warn("unknown_key", f"unknown edge key {key!r}", edge_id=edge_id, field=str(key))
        if _check_edge(edge, nodes, node_ids, registry, report):
            valid.append(edge)
    return valid


def _check_edge(edge: dict, nodes: dict, node_ids: set, registry: Registry, report: Report) -> bool:
    edge_id, ok = edge["id"], True
    for end in ("source", "target"):
        ref = edge.get(end)
        if not isinstance(ref, str) or ref not in node_ids:
            report.error(
                "dangling_edge",
                f"{end} {ref!r} is not a node of this graph",
                edge_id=edge_id,
                field=end,
            )
            ok = False
        elif ref not in nodes:  # the node itself is broken and already reported
            ok = False
    port = edge.get("source_port", DEFAULT_PORT)
    if not isinstance(port, str):
        report.error(
            "unknown_port", "source_port must be a string", edge_id=edge_id, field="source_port"
        )
        return False
    if not ok:
        return False
    source, target = nodes[edge["source"]], nodes[edge["target"]]
    source_type, target_type = registry.get(source["type"]), registry.get(target["type"])
    ports = source_type.output_ports(source.get("params"))
    if source_type.error_port:
        ports.append("error")
    if port not in ports:
        report.error(
            "unknown_port",
            f"port {port!r} is not an output of {source['id']} "
            f"({source_type.type}: {', '.join(ports) or 'none'})",
            edge_id=edge_id,
            field="source_port",
        )
        ok = False
    if not target_type.inputs:
        report.error(
            "unknown_port",
            f"{target['id']} ({target_type.type}) has no input",
            edge_id=edge_id,
            field="target",
        )
        ok = False
    return ok


def _check_graph(graph: Graph, registry: Registry, report: Report) -> None:
    """Triggers exist, every cycle passes through a wait, every node is reachable."""
    categories = {nid: registry.get(n["type"]).category for nid, n in graph.nodes.items()}
    triggers = [nid for nid, category in categories.items() if category == "trigger"]
    if not triggers:
        report.error("no_trigger", "the graph has no trigger node")
    breakers = {t.type for t in registry.all() if t.breaks_cycles}
    waits = [nid for nid, n in graph.nodes.items() if n["type"] in breakers]
    names = " / ".join(sorted(breakers)) or "cycle-breaking"
    for cycle in graph.cycles_avoiding(waits):
        path = " -> ".join([*cycle, cycle[0]])
        report.error(
            "cycle", f"cycle {path} does not pass through a {names} node", node_id=cycle[0]
        )
    reachable = graph.reachable_from(triggers)
    for node_id in graph.nodes:
        if node_id not in reachable:
            report.warn("unreachable", "no trigger leads to this node", node_id=node_id)
    _check_contactless(graph, registry, triggers, report)


def _check_contactless(graph: Graph, registry: Registry, triggers: list, report: Report) -> None:
    """A contact action after a trigger whose runs have no contact would fail every run."""
    for trigger_id in triggers:
        node = graph.nodes[trigger_id]
        contactless = registry.get(node["type"]).contactless
        if contactless is None or not contactless(node.get("params") or {}):
            continue
        for node_id in sorted(graph.reachable_from([trigger_id])):
            if registry.get(graph.nodes[node_id]["type"]).needs_contact:
                report.error(
                    "needs_contact",
                    f"acts on a contact, but trigger {trigger_id} "
                    "starts runs without one (give it a target tag or rule)",
                    node_id=node_id,
                )
