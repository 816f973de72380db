"""Fixtures for the engine tests: a controllable clock, in-memory effects and a small harness
that builds graphs from a terse notation and runs them to the end."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from graph_engine import InMemoryEffects, Interpreter, build_context, event_from_payload

START = "2024-03-01T12:00:00+00:00"  # a Friday; 15:30 in Asia/Tehran


class Clock:
    """A fake clock: call it for the time, ``advance(...)`` or ``set(iso)`` to move it."""

    def __init__(self, start: str = START):
        self.now = datetime.fromisoformat(start)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)

    def set(self, iso: str) -> None:
        self.now = datetime.fromisoformat(iso)


def make_graph(nodes: dict, edges: list[str], **settings) -> dict:
    """``nodes``: id -> (type, params) or id -> node dict; ``edges``: ``"a>b"`` or
    ``"a.port>b"`` strings (edge ids e1, e2... in order)."""
    node_list = []
    for node_id, spec in nodes.items():
        if isinstance(spec, dict):
            node_list.append({"id": node_id, **spec})
        else:
            type_name, params = spec
            node = {"id": node_id, "type": type_name}
            if params is not None:
                node["params"] = params
            node_list.append(node)
    edge_list = []
    for i, text in enumerate(edges, 1):
        source, target = text.split(">")
        edge = {"id": f"e{i}", "source": source, "target": target}
        if "." in source:
            edge["source"], edge["source_port"] = source.split(".", 1)
        edge_list.append(edge)
    graph = {"format": "workflow-graph/v1", "name": "test", "nodes": node_list, "edges": edge_list}
    if settings:
        graph["settings"] = settings
    return graph


class Harness:
    """Builds interpreters on a fake clock and runs graphs, collecting step records."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.effects = InMemoryEffects(clock=clock)

    graph = staticmethod(make_graph)
    path = staticmethod(lambda records: [r.node_id for r in records])

    def interpreter(self, graph: dict, **kwargs) -> Interpreter:
        return Interpreter(
            graph, effects=self.effects, workflow_id=kwargs.pop("workflow_id", "wf1"), **kwargs
        )

    def context(self, event_type="MANUAL", data=None, contact=None, user_id="c1") -> dict:
        payload = {
            "event_type": event_type,
            "data": data or {},
            "user_id": user_id,
            "conversation_id": "conv1",
            "event_id": "ev1",
            "timestamp": START,
        }
        return build_context(event_from_payload(payload), contact)

    def run(self, graph, *, trigger="t", contact=None, data=None, engine=None, records=None):
        """Start and run once; returns ``(state, records)``."""
        engine = engine or self.interpreter(graph)
        records = [] if records is None else records
        state = engine.start(trigger, self.context(data=data, contact=contact), execution_id="x1")
        engine.run(state, on_step=records.append)
        return state, records


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def h(clock) -> Harness:
    return Harness(clock)
