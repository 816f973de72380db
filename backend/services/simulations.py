"""Simulation jobs: started by the API, run by an RQ worker, polled for progress and result.

A simulation's record (params, status, progress, result) lives in Redis under
``fm:simulation:<id>`` for a day: it is a throw-away computation over stored events, not a
record of what happened, so it needs no table. Statuses: ``queued`` -> ``running`` ->
``finished`` (``result`` set) or ``failed`` (``error`` set).
"""

from __future__ import annotations

__all__ = ["KEY", "TTL_SECONDS", "start", "load", "run"]

import json
import secrets

from flask import current_app

from backend.errors import ServiceError
from backend.models import utcnow
from backend.queue import get_queue, get_redis
from backend.services.simulation import SimulationInvalid, simulate
from graph_engine import validate

KEY = "fm:simulation:{id}"
TTL_SECONDS = 24 * 3600
JOB_TIMEOUT = 1800  # a month of a busy shop's events replays in well under this


def _save(record: dict) -> None:
    get_redis().set(KEY.format(id=record["id"]), json.dumps(record), ex=TTL_SECONDS)


def load(sim_id: str) -> dict | None:
    """The stored record of a simulation, or None (unknown or expired)."""
    raw = get_redis().get(KEY.format(id=sim_id))
    return json.loads(raw) if raw else None


def _check(graph: dict) -> None:
    report = validate(graph, max_nodes=current_app.config.get("MAX_GRAPH_NODES", 500))
    if not report.ok:
        errors = [issue.to_dict() for issue in report.errors]
        raise ServiceError(
            400,
            f"graph is not valid: {errors[0]['message']}",
            field="graph",
            node_id=errors[0].get("node_id"),
            errors=errors,
            code="invalid_graph",
        )


def start(graph: dict, days: int, user_id: int | None, workflow_id: int | None = None) -> dict:
    """Check the graph, store a queued simulation and enqueue its job; returns the record."""
    _check(graph)
    record = {
        "id": secrets.token_hex(8),
        "status": "queued",
        "days": days,
        "workflow_id": workflow_id,
        "created_by": user_id,
        "created_at": utcnow().isoformat(),
        "progress": {"done": 0, "total": None},
        "graph": graph,
    }
    try:
        _save(record)
        get_queue().enqueue(
            "backend.jobs.simulate_workflow", record["id"], job_timeout=JOB_TIMEOUT, result_ttl=0
        )
    except Exception as exc:  # Redis down: nothing was started
        raise ServiceError(503, f"the job queue is unavailable ({type(exc).__name__})") from None
    return record


def run(sim_id: str) -> str:
    """The job's body: replay, saving progress after every batch; returns the final status."""
    record = load(sim_id)
    if record is None:
        return "expired"
    record.update(status="running", started_at=utcnow().isoformat())
    _save(record)

    def progress(done: int, total: int) -> None:
        record["progress"] = {"done": done, "total": total}
        _save(record)

    try:
        result = simulate(
            record["graph"],
            record["days"],
            progress=progress,
            per_minute=current_app.config.get("RATE_LIMIT_PER_CONTACT_PER_MINUTE", 30),
            max_nodes=current_app.config.get("MAX_GRAPH_NODES", 500),
        )
    except SimulationInvalid as exc:
        record.update(status="failed", error="graph is not valid", errors=exc.errors)
    except Exception as exc:  # recorded for the poller; the worker moves on
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:500])
    else:
        record.update(
            status="finished",
            result=result,
            progress={"done": result["events"], "total": result["events"]},
        )
    record["finished_at"] = utcnow().isoformat()
    _save(record)
    return record["status"]
