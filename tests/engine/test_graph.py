"""The graph model: JSON in and out unchanged, port adjacency, networkx view."""

from __future__ import annotations

import pytest

from graph_engine import Graph, GraphError


def sample() -> dict:
    return {
        "format": "workflow-graph/v1",
        "name": "Sample",
        "description": "two branches",
        "settings": {"timezone": "Asia/Tehran", "max_steps": 50},
        "nodes": [
            {"id": "t", "type": "trigger.manual", "position": {"x": 0, "y": 0}},
            {"id": "c", "type": "logic.condition", "params": {"rules": {"all": []}}, "title": "?"},
            {"id": "a", "type": "action.add_tag", "params": {"tag": "a"}},
            {"id": "b", "type": "action.add_tag", "params": {"tag": "b"}, "disabled": True},
            {"id": "w", "type": "flow.wait", "params": {"minutes": 1}},
        ],
        "edges": [
            {"id": "e1", "source": "t", "target": "c"},
            {"id": "e2", "source": "c", "source_port": "true", "target": "a"},
            {"id": "e3", "source": "c", "source_port": "false", "target": "b"},
            {"id": "e4", "source": "c", "source_port": "true", "target": "b"},
            {"id": "e5", "source": "a", "target": "w"},
            {"id": "e6", "source": "w", "target": "c"},
        ],
    }


def test_round_trip_is_identical_and_a_copy():
    data = sample()
    graph = Graph.from_dict(data)
    out = graph.to_dict()
    assert out == sample() and out is not data
    out["nodes"].clear()
    assert len(graph.to_dict()["nodes"]) == 5


def test_accessors():
    graph = Graph.from_dict(sample())
    assert graph.name == "Sample" and graph.timezone == "Asia/Tehran"
    assert graph.settings["max_steps"] == 50
    assert graph.node("a")["params"] == {"tag": "a"}
    assert graph.successors("c", "true") == ["a", "b"] and graph.successors("c", "false") == ["b"]
    assert graph.successors("t") == ["c"] and graph.successors("b") == []
    assert graph.ports_used("c") == {"true", "false"}
    assert sorted(graph.predecessors("c")) == ["t", "w"]
    assert [n["id"] for n in graph.trigger_nodes()] == ["t"]
    with pytest.raises(KeyError):
        graph.node("zzz")


def test_networkx_view_and_graph_questions():
    graph = Graph.from_dict(sample())
    nxg = graph.to_networkx()
    assert nxg.number_of_nodes() == 5 and nxg.number_of_edges() == 6
    assert nxg.edges["c", "b", "e4"]["port"] == "true"
    assert nxg.nodes["a"]["type"] == "action.add_tag"
    assert graph.cycles_avoiding(["w"]) == []
    assert graph.cycles_avoiding([]) == [["c", "a", "w"]]
    assert graph.reachable_from(["a"]) == {"a", "w", "c", "b"}


def test_defaults_are_not_injected():
    data = {"format": "workflow-graph/v1", "name": "x", "nodes": [], "edges": []}
    graph = Graph.from_dict(data)
    assert graph.settings == {} and graph.timezone == "UTC"
    assert graph.to_dict() == data


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"nodes": {}, "edges": []},
        {"nodes": [], "edges": None},
        {"nodes": [1], "edges": []},
        {"nodes": [{"id": 3}], "edges": []},
        {"nodes": [], "edges": [{"id": "e", "source": 1}]},
    ],
)
def test_unusable_shapes_raise_graph_error(data):
    with pytest.raises(GraphError):
        Graph.from_dict(data)
