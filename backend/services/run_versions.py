"""Runs pinned to a graph version, and moving waiting runs to the newest version.

Every run records the version it started on (``workflow_version``) and keeps running on that
graph, whatever is published meanwhile. After a new version is published, the runs still
waiting on older versions can either finish where they are (the default: do nothing) or be
moved to the current version -- each one only if every node its frontier will continue from
still exists in the new graph with the same type; the others stay pinned, with the reason.
"""

from __future__ import annotations

__all__ = ["waiting_by_version", "migrate_waiting_runs"]

from sqlalchemy import or_, select, update

from backend.extensions import db
from backend.models import Workflow, WorkflowExecution, WorkflowVersion, utcnow

Run = WorkflowExecution


def _graph(workflow_id: int, version: int) -> dict:
    graph = db.session.scalar(
        select(WorkflowVersion.graph).filter_by(workflow_id=workflow_id, version=version)
    )
    return graph or {}


def _types(graph: dict) -> dict[str, str]:
    return {n.get("id"): n.get("type") for n in graph.get("nodes", [])}


def _blockers(run: Run, old: dict, new: dict) -> list[str]:
    """Frontier nodes of ``run`` missing from the new graph (or of another type there)."""
    frontier = [item.get("node_id") for item in (run.state or {}).get("frontier", [])]
    return [nid for nid in frontier if nid not in new or new[nid] != old.get(nid)]


def _old_waiting(workflow: Workflow, from_version: int | None) -> list[Run]:
    where = [
        Run.workflow_id == workflow.id,
        Run.status == "waiting",
        Run.workflow_version < workflow.version,
    ]
    if from_version is not None:
        where.append(Run.workflow_version == from_version)
    return list(db.session.scalars(select(Run).where(*where).order_by(Run.id)))


def waiting_by_version(workflow: Workflow) -> dict:
    """Runs waiting on older versions, per version: how many could move, and which cannot."""
    new, versions = _types(workflow.graph or {}), {}
    for run in _old_waiting(workflow, None):
        entry = versions.setdefault(
            run.workflow_version,
            {
                "version": run.workflow_version,
                "waiting": 0,
                "movable": 0,
                "pinned": [],
                "_old": _types(_graph(workflow.id, run.workflow_version)),
            },
        )
        entry["waiting"] += 1
        blockers = _blockers(run, entry["_old"], new)
        if blockers:
            entry["pinned"].append({"execution_id": run.id, "missing_nodes": blockers})
        else:
            entry["movable"] += 1
    out = [{k: v for k, v in e.items() if k != "_old"} for e in versions.values()]
    return {
        "current_version": workflow.version,
        "versions": sorted(out, key=lambda e: e["version"]),
    }


def migrate_waiting_runs(workflow: Workflow, from_version: int | None = None) -> dict:
    """Move waiting runs of older versions to the current one where their nodes still exist."""
    new, olds, moved, pinned = _types(workflow.graph or {}), {}, [], []
    now = utcnow()
    for run in _old_waiting(workflow, from_version):
        old = olds.setdefault(
            run.workflow_version, _types(_graph(workflow.id, run.workflow_version))
        )
        blockers = _blockers(run, old, new)
        if blockers:
            pinned.append(
                {"execution_id": run.id, "version": run.workflow_version, "missing_nodes": blockers}
            )
            continue
        # Guarded: only a run still waiting on that version and not leased to a worker moves.
        done = db.session.execute(
            update(Run)
            .where(
                Run.id == run.id,
                Run.status == "waiting",
                Run.workflow_version == run.workflow_version,
                or_(Run.lease_owner.is_(None), Run.lease_expires_at < now),
            )
            .values(workflow_version=workflow.version),
            execution_options={"synchronize_session": False},
        )
        if done.rowcount:
            moved.append(run.id)
        else:
            pinned.append(
                {
                    "execution_id": run.id,
                    "version": run.workflow_version,
                    "missing_nodes": [],
                    "reason": "busy",
                }
            )
    db.session.commit()
    return {"current_version": workflow.version, "migrated": moved, "pinned": pinned}
