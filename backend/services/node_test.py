"""Run one node in isolation with the real engine and in-memory effects ("test this action")."""

from __future__ import annotations

__all__ = ["run_node"]

from datetime import UTC, datetime

from graph_engine import GraphEngineError, InMemoryEffects, NodeCall, default_registry


def run_node(workflow, node: dict, params: dict, context: dict) -> dict:
    """Call the node type's ``run`` once; report rendered input, output, port and effects."""

    effects = InMemoryEffects()
    call = NodeCall(
        node_id=node["id"],
        params=params,
        context=context,
        effects=effects,
        now=datetime.now(UTC),
        execution_id=f"test-{workflow.id}",
        workflow_id=workflow.id,
    )
    try:
        result = default_registry.get(node["type"]).run(call)
    except (GraphEngineError, KeyError, TypeError, ValueError) as exc:
        return {
            "ok": False,
            "input": params,
            "output": None,
            "port": "error",
            "resume_at": None,
            "effects": effects.log,
            "error": str(exc)[:2000],
        }
    resume = result.resume_at.isoformat() if result.resume_at else None
    return {
        "ok": True,
        "input": result.input if result.input is not None else params,
        "output": result.output,
        "port": result.port,
        "resume_at": resume,
        "effects": effects.log,
        "error": None,
    }
