"""Golden workflows: each tests/fixtures/graphs/*.json holds a graph, an event, a contact and
the expected trigger, path, final status and effects. The run is checkpointed through JSON at
every wait, as the backend would."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from graph_engine import (
    InMemoryEffects,
    Interpreter,
    RunState,
    build_context,
    event_from_payload,
    trigger_specs,
    validate_or_raise,
)
from graph_engine.matching import TriggerIndex

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "graphs"
FILES = sorted(FIXTURES.glob("*.json"))


def run_fixture(fixture: dict) -> dict:
    """Match the fixture's event, run the graph (past waits when ``resume``), report."""
    now = [datetime.fromisoformat(fixture["now"])]
    effects = InMemoryEffects(clock=lambda: now[0], http_responses=fixture.get("http_responses"))
    context = build_context(event_from_payload(fixture["event"]), fixture.get("contact"))
    specs = trigger_specs(fixture["graph"], fixture["workflow_id"])
    matched = [spec.node_id for spec in TriggerIndex(specs).match(context)]
    out = {
        "trigger": matched[0] if matched else None,
        "path": [],
        "status": None,
        "waits": [],
        "effects": effects.log,
    }
    if not matched:
        return out
    engine = Interpreter(
        validate_or_raise(fixture["graph"]), effects=effects, workflow_id=fixture["workflow_id"]
    )
    state = engine.start(matched[0], context, execution_id="golden")
    records = []
    engine.run(state, on_step=records.append)
    while fixture.get("resume") and state.status == "waiting":
        out["waits"].append(state.resume_at)
        now[0] = max(now[0], datetime.fromisoformat(state.resume_at))
        state = RunState.from_dict(json.loads(json.dumps(state.to_dict())))
        engine.run(state, on_step=records.append)
    out["path"] = [f"{r.node_id}:{r.status}" for r in records]
    out["status"] = state.status
    return out


def test_there_are_golden_files():
    names = {f.stem for f in FILES}
    assert {"coupon", "welcome-new-users"} <= names and len(names) >= 4


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_golden(path):
    fixture = json.loads(path.read_text(encoding="utf-8"))
    got = run_fixture(fixture)
    expected = fixture["expected"]
    assert got["trigger"] == expected["trigger"]
    assert got["path"] == expected["path"]
    assert got["status"] == expected["status"]
    assert got["waits"] == expected.get("waits", [])
    assert got["effects"] == expected["effects"]
