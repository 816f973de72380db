"""Node-level operations for the ``/triggers/`` and ``/actions/`` APIs.

Adding a node to a saved workflow (params checked against its type's schema, optional edge
from an existing node) and building a sample run context for "test this node" requests.
"""

from __future__ import annotations

__all__ = ["add_node", "check_params", "sample_context", "find_node"]

import copy
import uuid

from sqlalchemy import select

from backend.extensions import db
from backend.models import Contact, Workflow
from backend.services.contacts import contact_to_context
from backend.services.workflows import WorkflowError, update_workflow
from graph_engine import GraphError, build_context, default_registry, event_from_payload


def find_node(workflow: Workflow, node_id: str) -> dict | None:
    return next((n for n in workflow.graph.get("nodes", []) if n.get("id") == node_id), None)


def check_params(type_name: str, params: dict, node_id: str) -> None:
    """400 naming the node and the param when ``params`` do not fit the type's schema."""

    node_type = default_registry.get(type_name)
    for error in sorted(node_type.validator.iter_errors(params), key=lambda e: list(e.path)):
        field = ".".join(["params", *(str(p) for p in error.absolute_path)])
        raise WorkflowError(
            400,
            f"node {node_id}: {field}: {error.message[:200]}",
            field=field,
            errors=[{"node_id": node_id, "field": field, "message": error.message[:200]}],
        )


def _new_id(workflow: Workflow, prefix: str) -> str:
    taken = {n.get("id") for n in workflow.graph.get("nodes", [])}
    for _ in range(100):
        candidate = f"{prefix}_{uuid.uuid4().hex[:6]}"
        if candidate not in taken:
            return candidate
    raise WorkflowError(409, "could not allocate a node id")  # pragma: no cover


def add_node(workflow: Workflow, spec: dict, user=None, *, connect_from=None, connect_to=None):
    """Add a node (``type``, ``params``, ``node_id``?, ``position``?, ``title``?) and save.

    ``connect_from`` adds an edge from that node (``{"node_id", "port"?}``) to the new one;
    ``connect_to`` an edge from the new node to that node id. Returns the new node dict.
    """
    graph = copy.deepcopy(workflow.graph)
    node_id = spec.get("node_id") or _new_id(workflow, spec["type"].split(".")[-1])
    if find_node(workflow, node_id) is not None:
        raise WorkflowError(409, f"node {node_id} already exists", field="node_id")
    params = spec.get("params") or {}
    check_params(spec["type"], params, node_id)
    node = {"id": node_id, "type": spec["type"], "params": params}
    for key in ("position", "title"):
        if key in spec:
            node[key] = spec[key]
    graph["nodes"].append(node)
    edges = graph["edges"]
    if connect_from:
        source = connect_from["node_id"]
        if find_node(workflow, source) is None:
            raise WorkflowError(400, f"node {source} does not exist", field="connect_from.node_id")
        edge = {"id": f"e_{uuid.uuid4().hex[:8]}", "source": source, "target": node_id}
        if connect_from.get("port"):
            edge["source_port"] = connect_from["port"]
        edges.append(edge)
    if connect_to:
        if find_node(workflow, connect_to) is None:
            raise WorkflowError(400, f"node {connect_to} does not exist", field="connect_to")
        edges.append({"id": f"e_{uuid.uuid4().hex[:8]}", "source": node_id, "target": connect_to})
    update_workflow(workflow, {"graph": graph}, user)
    return node


def sample_context(workflow: Workflow, event_payload: dict | None, contact: dict | None) -> dict:
    """A run context for tests: the sample event, the given contact (or the stored one)."""

    payload = event_payload or {"event_type": "MANUAL", "data": {}}
    try:
        event = event_from_payload(payload)
    except GraphError as exc:
        raise WorkflowError(400, str(exc), field="event") from None
    user = contact
    if user is None and event.get("user_id"):
        stored = db.session.scalar(select(Contact).filter_by(external_id=event["user_id"]))
        user = contact_to_context(stored) if stored is not None else None
    settings = workflow.graph.get("settings") or {}
    wf = {"id": workflow.id, "name": workflow.name, "timezone": settings.get("timezone", "UTC")}
    return build_context(event, user, None, wf, {"id": "test", "started_at": event["timestamp"]})
