"""The command line, run for real in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graph_engine import default_registry

ROOT = Path(__file__).resolve().parents[2]
COUPON = ROOT / "tests" / "fixtures" / "graphs" / "coupon.json"


def cli(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graph_engine", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def files(tmp_path):
    fixture = json.loads(COUPON.read_text(encoding="utf-8"))

    def write(name, obj):
        path = tmp_path / name
        path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
        return path

    return {
        "graph": write("graph.json", fixture["graph"]),
        "event": write("event.json", fixture["event"]),
        "contact": write("contact.json", fixture["contact"]),
        "other_event": write("other.json", {"event_type": "USER_CREATED", "user_id": "u1"}),
        "fixture": fixture,
        "write": write,
    }


def lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_validate_ok_prints_ok_and_warnings_on_stderr(files):
    graph = files["fixture"]["graph"]
    graph["nodes"].append({"id": "orphan", "type": "action.add_tag", "params": {"tag": "x"}})
    result = cli("validate", files["write"]("warn.json", graph))
    assert result.returncode == 0 and result.stdout.strip() == "ok"
    assert "warning: node orphan: no trigger leads to this node" in result.stderr


def test_validate_errors_one_line_each(files):
    graph = files["fixture"]["graph"]
    graph["nodes"][2]["type"] = "action.teleport"
    graph["edges"].append({"id": "e9", "source": "ghost", "target": "tag"})
    result = cli("validate", files["write"]("bad.json", graph))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "node send: unknown node type 'action.teleport'",
        "edge e9: source 'ghost' is not a node of this graph (at source)",
    ]


def test_validate_unreadable_file(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    result = cli("validate", bad)
    assert result.returncode == 1 and "error:" in result.stderr


def test_run_stops_at_the_wait_and_says_when_it_resumes(files):
    result = cli(
        "run",
        files["graph"],
        "--event",
        files["event"],
        "--contact",
        files["contact"],
        "--now",
        "2024-03-01T12:00:00+00:00",
    )
    assert result.returncode == 0, result.stderr
    out = lines(result.stdout)
    steps = [o for o in out if o["kind"] == "step"]
    assert [s["node_id"] for s in steps] == ["trigger", "interested", "send", "tag", "wait"]
    assert {"node_id", "type", "status", "output", "port"} <= set(steps[0])
    effects = [o for o in out if o["kind"] == "effect"]
    assert effects[0] == {
        "kind": "effect",
        "effect": "send_message",
        "to": "customer123",
        "channel": "telegram",
        "text": "Sara, your code: SAVE10",
    }
    assert out[-1]["kind"] == "result" and out[-1]["status"] == "waiting"
    assert out[-1]["resume_at"] == "2024-03-01T12:10:00+00:00"
    assert [o["kind"] for o in out] == ["step"] * 5 + ["effect"] * 2 + ["result"]


def test_run_with_resume_goes_to_the_end(files):
    result = cli(
        "run", files["graph"], "--event", files["event"], "--contact", files["contact"], "--resume"
    )
    out = lines(result.stdout)
    assert [o["node_id"] for o in out if o["kind"] == "step"][-1] == "mail"
    assert [o["effect"] for o in out if o["kind"] == "effect"] == [
        "send_message",
        "add_tag",
        "send_email",
    ]
    assert out[-1] == {"kind": "result", "status": "succeeded", "steps": 6}


def test_run_a_golden_fixture_directly():
    result = cli(
        "run", ROOT / "tests" / "fixtures" / "graphs" / "welcome-new-users.json", "--resume"
    )
    assert result.returncode == 0, result.stderr
    assert "خوش آمدید" in result.stdout  # Persian printed as-is, not \u-escaped


def test_run_without_matching_trigger_exits_2(files):
    result = cli("run", files["graph"], "--event", files["other_event"])
    assert result.returncode == 2 and "no trigger matches" in result.stderr
    assert result.stdout == ""
    result = cli("run", files["graph"], "--event", files["event"], "--trigger", "nope")
    assert result.returncode == 2


def test_run_an_invalid_graph_exits_1(files):
    graph = files["fixture"]["graph"]
    graph["format"] = "v0"
    result = cli("run", files["write"]("g.json", graph), "--event", files["event"])
    assert result.returncode == 1 and result.stdout.startswith("graph: format must be")


def test_node_types_prints_the_registry():
    result = cli("node-types")
    described = json.loads(result.stdout)
    assert result.returncode == 0 and len(described) == len(default_registry.all())
    assert any(d["type"] == "flow.wait" and d["category"] == "flow" for d in described)


def test_render_draws_every_node_and_lights_up_the_trace(files, tmp_path):
    trace = tmp_path / "trace.jsonl"
    run = cli("run", files["graph"], "--event", files["event"], "--contact", files["contact"])
    trace.write_text(run.stdout, encoding="utf-8")
    out = tmp_path / "coupon.svg"
    result = cli("render", files["graph"], "--trace", trace, "-o", out)
    assert result.returncode == 0, result.stderr
    svg = out.read_text(encoding="utf-8")
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)  # well-formed SVG
    assert root.tag.endswith("svg")
    for node in files["fixture"]["graph"]["nodes"]:
        assert f">{node['id']} · " in svg
    assert "send · succeeded" in svg and "wait · waiting" in svg
    assert "mail · send_email" in svg  # not reached yet: drawn without a status
