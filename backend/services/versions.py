"""Saving safely and going back: optimistic-lock checks, version snapshots, restore, duplicate.

The editor sends the version it started from (``base_version``) with every save; when someone
else saved in between, :func:`check_base_version` refuses with a :class:`VersionConflict` that
says who saved and when, instead of silently overwriting their work. Restoring an old version
saves its graph as a *new* version, so history only ever grows.
"""

from __future__ import annotations

__all__ = [
    "VersionConflict",
    "check_base_version",
    "lock_workflow",
    "get_version",
    "restore_version",
    "duplicate_workflow",
]

import copy

from sqlalchemy import select

from backend.extensions import db
from backend.models import User, Workflow, WorkflowVersion, iso, utcnow
from backend.services import workflows as service


class VersionConflict(Exception):
    """The workflow was saved by someone else after ``base_version``; ``body()`` says how."""

    status = 409

    def __init__(self, workflow: Workflow, base_version: int):
        super().__init__(
            f"workflow {workflow.id} is at version {workflow.version}, not {base_version}"
        )
        self.workflow, self.base_version = workflow, base_version

    def body(self) -> dict:
        wf = self.workflow
        editor = db.session.get(User, wf.updated_by_id) if wf.updated_by_id else None
        return {
            "error": "conflict",
            "code": "conflict",
            "field": "base_version",
            "detail": f"this workflow was saved by someone else (version {wf.version}) after "
            f"version {self.base_version} that your changes start from",
            "current_version": wf.version,
            "updated_at": iso(wf.updated_at),
            "updated_by": wf.updated_by_id,
            "updated_by_email": editor.email if editor else None,
        }


def lock_workflow(workflow_id: int) -> Workflow | None:
    """The workflow row, locked for this transaction where the database can (PostgreSQL)."""
    return db.session.scalar(
        select(Workflow)
        .where(Workflow.id == workflow_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def check_base_version(workflow: Workflow, base_version: int | None) -> None:
    """Raise :class:`VersionConflict` when ``base_version`` is given and is not the current one."""
    if base_version is not None and base_version != workflow.version:
        raise VersionConflict(workflow, base_version)


def get_version(workflow_id: int, number: int) -> WorkflowVersion | None:
    """Version ``number`` of a workflow, or None."""
    return db.session.scalar(
        select(WorkflowVersion).where(
            WorkflowVersion.workflow_id == workflow_id, WorkflowVersion.version == number
        )
    )


def restore_version(workflow: Workflow, version: WorkflowVersion, user=None) -> Workflow:
    """Save version ``version``'s graph as a new version (always a new one, even if equal)."""
    graph = copy.deepcopy(version.graph)
    if graph != workflow.graph:
        return service.update_workflow(workflow, {"graph": graph}, user)
    workflow.version += 1
    db.session.add(
        WorkflowVersion(
            workflow=workflow,
            version=workflow.version,
            graph=graph,
            created_by_id=getattr(user, "id", None),
        )
    )
    workflow.updated_by_id = getattr(user, "id", None)
    workflow.updated_at = utcnow()
    db.session.commit()
    return workflow


def duplicate_workflow(workflow: Workflow, user=None) -> Workflow:
    """A new draft with a copy of the graph, named ``"<name> (copy)"``."""
    name = f"{workflow.name[:193]} (copy)"
    graph = copy.deepcopy(workflow.graph)
    if isinstance(graph, dict) and "name" in graph:
        graph["name"] = name
    return service.create_workflow(name, workflow.description, graph, user)
