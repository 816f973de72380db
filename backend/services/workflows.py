"""Workflow lifecycle: create, save (version bump), activate, pause, delete, import, export.

Every save materialises the graph's trigger nodes as :class:`~backend.models.Trigger` rows
(``is_active`` follows the workflow's status; webhook keys are generated once and kept; schedules
get their next fire time) and tells discovery that the active triggers changed.

A draft may hold an incomplete graph (the editor saves work in progress) as long as its shape
is a graph; activating, or saving an active workflow, needs a graph that passes validation.
"""

from __future__ import annotations

__all__ = [
    "WorkflowError",
    "FORMAT",
    "empty_graph",
    "check_shape",
    "validation_report",
    "create_workflow",
    "update_workflow",
    "activate",
    "pause",
    "delete_workflow",
    "export_graph",
    "import_graph",
    "materialise_triggers",
    "notify_triggers_changed",
]

import logging

from flask import current_app
from sqlalchemy import select

from backend.errors import ServiceError
from backend.extensions import db
from backend.models import EventType, Workflow, WorkflowVersion, utcnow
from backend.services.credentials import known_names
from backend.services.trigger_rows import materialise_triggers, trigger_nodes, triggers_changed
from graph_engine import (
    FORMAT,
    Graph,
    GraphError,
    Issue,
    ValidationError,
    credential_names,
    default_registry,
    header_problems,
    trigger_specs,
    url_problems,
    validate,
)

log = logging.getLogger(__name__)


#: The name the workflow services use for the server's one error type.
WorkflowError = ServiceError


def empty_graph(name: str = "") -> dict:
    """A graph with no nodes, in the current format."""
    return {"format": FORMAT, "name": name, "nodes": [], "edges": []}


def check_shape(graph) -> dict:
    """Refuse what is not a workflow graph at all (format tag, node/edge lists, size cap)."""
    if not isinstance(graph, dict):
        raise WorkflowError(400, "graph must be a JSON object", field="graph")
    if graph.get("format") != FORMAT:
        raise WorkflowError(400, f"graph.format must be {FORMAT!r}", field="graph.format")
    try:
        Graph.from_dict(graph)
    except GraphError as exc:
        raise WorkflowError(400, f"graph: {exc}", field="graph") from None
    for index, node in enumerate(graph["nodes"]):
        if len(node["id"]) > 100 or not node["id"]:
            raise WorkflowError(
                400, "node ids must be 1-100 characters", field=f"graph.nodes.{index}.id"
            )
    cap = current_app.config.get("MAX_GRAPH_NODES", 500)
    if len(graph["nodes"]) > cap:
        raise WorkflowError(400, f"graph has more than {cap} nodes", field="graph.nodes")
    return graph


def validation_report(graph: dict):
    """The engine's full validation report of ``graph``, plus what this server refuses to call:
    in the params a node type declares as addresses and headers (``url_fields`` /
    ``header_fields``), URLs whose literal scheme, credentials or address are unsafe and headers
    with line breaks (``HTTP_ALLOW_PRIVATE`` applies; host names are checked again at send time)."""
    report = validate(graph, max_nodes=current_app.config.get("MAX_GRAPH_NODES", 500))
    allow = current_app.config.get("HTTP_ALLOW_PRIVATE", "")
    _credential_issues(graph, report)
    for node in graph.get("nodes") or []:
        known = isinstance(node, dict) and node.get("type") in default_registry
        spec = default_registry.get(node["type"]) if known else None
        if spec is None or not (spec.url_fields or spec.header_fields):
            continue
        params = node.get("params") if isinstance(node.get("params"), dict) else {}
        problems = [p for f in spec.url_fields for p in url_problems(params.get(f), allow, f)]
        problems += [p for f in spec.header_fields for p in header_problems(params.get(f), f)]
        for field, message in problems:
            report.error("unsafe_url", message, node_id=node.get("id"), field=field)
    return report


def _credential_issues(graph: dict, report) -> None:
    """``{{ credentials.<name> }}`` must name a stored credential."""
    wanted = {}
    for node in graph.get("nodes") or []:
        if isinstance(node, dict):
            for name in credential_names(node.get("params")):
                wanted.setdefault(name.partition(".")[0], node.get("id"))
    missing = set(wanted) - known_names() if wanted else set()
    for name in sorted(missing):
        report.error(
            "unknown_credential",
            f"no credential named {name!r}",
            node_id=wanted[name],
            field="params",
        )


def _require_valid(graph: dict) -> None:
    """Refuse a graph that fails validation, or whose triggers listen to unregistered events
    (they would refuse every such event with 400 later: better to say so now)."""
    report = validation_report(graph)
    if not report.ok:
        raise ValidationError(report.errors)
    known = set(db.session.scalars(select(EventType.name)))
    unknown = [
        Issue(
            "unknown_event_type",
            f"event type {spec.event_type!r} is not registered "
            "(register it with POST /event-types/ first)",
            node_id=spec.node_id,
            field="params.event_type",
        )
        for spec in trigger_specs(graph, None)
        if spec.event_type and spec.event_type not in known
    ]
    if unknown:
        raise ValidationError(unknown)


def _snapshot(workflow: Workflow, user) -> None:
    db.session.add(
        WorkflowVersion(
            workflow=workflow,
            version=workflow.version,
            graph=workflow.graph,
            created_by_id=getattr(user, "id", None),
        )
    )


def create_workflow(name: str, description: str = "", graph: dict | None = None, user=None):
    """Create a draft workflow (version 1) and commit it."""
    graph = check_shape(graph) if graph is not None else empty_graph(name)
    workflow = Workflow(
        name=name,
        description=description or "",
        graph=graph,
        status="draft",
        version=1,
        created_by_id=getattr(user, "id", None),
        updated_by_id=getattr(user, "id", None),
    )
    db.session.add(workflow)
    db.session.flush()
    _snapshot(workflow, user)
    materialise_triggers(workflow)
    db.session.commit()
    notify_triggers_changed()
    return workflow


def update_workflow(workflow: Workflow, changes: dict, user=None) -> Workflow:
    """Apply ``changes`` (name, description, graph, status); a new graph bumps the version."""
    status = changes.get("status")
    if "name" in changes:
        workflow.name = changes["name"]
    if "description" in changes:
        workflow.description = changes["description"] or ""
    if "graph" in changes and changes["graph"] != workflow.graph:
        graph = check_shape(changes["graph"])
        if (status or workflow.status) == "active":
            _require_valid(graph)
        workflow.graph = graph
        workflow.version += 1
        _snapshot(workflow, user)
    workflow.updated_by_id = getattr(user, "id", None)
    workflow.updated_at = utcnow()
    if status == "active" and workflow.status != "active":
        return activate(workflow, user)
    if status is not None:
        workflow.status = status
    materialise_triggers(workflow)
    db.session.commit()
    notify_triggers_changed()
    return workflow


def activate(workflow: Workflow, user=None) -> Workflow:
    """Validate the graph (ValidationError naming each bad node) and make its triggers live."""
    if workflow.status == "archived":
        raise WorkflowError(409, "an archived workflow cannot be activated", field="status")
    _require_valid(workflow.graph)
    if not trigger_nodes(workflow.graph):
        raise WorkflowError(
            400, "a workflow needs a trigger node to be activated", field="graph.nodes"
        )
    workflow.status = "active"
    workflow.activated_at = utcnow()
    workflow.updated_by_id = getattr(user, "id", None)
    materialise_triggers(workflow)
    db.session.commit()
    notify_triggers_changed()
    return workflow


def pause(workflow: Workflow, user=None) -> Workflow:
    """Stop a workflow from starting new runs (its running executions continue)."""
    if workflow.status == "archived":
        raise WorkflowError(409, "an archived workflow cannot be paused", field="status")
    workflow.status = "paused"
    workflow.updated_by_id = getattr(user, "id", None)
    materialise_triggers(workflow)
    db.session.commit()
    notify_triggers_changed()
    return workflow


def delete_workflow(workflow: Workflow) -> None:
    db.session.delete(workflow)
    db.session.commit()
    notify_triggers_changed()


def export_graph(workflow: Workflow) -> dict:
    """The graph JSON as a file: the workflow's name and description included."""
    graph = dict(workflow.graph)
    graph["name"] = workflow.name
    if workflow.description:
        graph["description"] = workflow.description
    return graph


def import_graph(graph: dict, user=None, name: str | None = None) -> Workflow:
    """Create a draft workflow from an exported graph file."""
    check_shape(graph)
    title = (name or graph.get("name") or "Imported workflow")[:200]
    description = graph.get("description") if isinstance(graph.get("description"), str) else ""
    return create_workflow(title, description, graph, user)


def notify_triggers_changed() -> None:
    """Tell every process's trigger index to refresh."""
    try:
        triggers_changed()
    except Exception:  # Redis down: discovery falls back to the DB-derived version
        log.warning("triggers_changed failed", exc_info=True)
