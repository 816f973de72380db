"""The workflow graph model: the ``workflow-graph/v1`` JSON, indexed for the interpreter.

A :class:`Graph` wraps the graph dict exactly as given (so a valid graph round-trips to the
same JSON: no defaults are injected) and indexes its nodes and edges by id and by output port.
:meth:`Graph.to_networkx` gives the ``MultiDiGraph`` that validation and the interpreter ask
graph questions of (cycles, reachability). networkx is imported where a question is asked, not
with the engine: it is ~10 MB and ~280 modules that a web process serving events never needs.

>>> g = Graph.from_dict({
...     "format": "workflow-graph/v1", "name": "Hello",
...     "nodes": [{"id": "t", "type": "trigger.manual"},
...               {"id": "c", "type": "logic.condition", "params": {"rules": {"all": []}}},
...               {"id": "m", "type": "action.send_message", "params": {"text": "hi"}}],
...     "edges": [{"id": "e1", "source": "t", "target": "c"},
...               {"id": "e2", "source": "c", "source_port": "true", "target": "m"}]})
>>> g.successors("c", "true"), g.successors("c", "false")
(['m'], [])
>>> [n["id"] for n in g.trigger_nodes()]
['t']
>>> sorted(g.to_networkx().edges(keys=True))
[('c', 'm', 'e2'), ('t', 'c', 'e1')]
>>> sorted(g.reachable_from(["c"])), g.cycles_avoiding([])
(['c', 'm'], [])
"""

from __future__ import annotations

__all__ = ["Graph", "FORMAT", "DEFAULT_PORT"]

import copy
from typing import TYPE_CHECKING, Any

from graph_engine.errors import GraphError
from graph_engine.registry import Registry, default_registry

if TYPE_CHECKING:
    import networkx as nx

FORMAT = "workflow-graph/v1"
DEFAULT_PORT = "out"


class Graph:
    """A workflow graph: nodes (dicts with ``id``, ``type``, ``params``...) joined by edges
    that leave a named output port (``source_port``, default ``"out"``).

    Build it with :meth:`from_dict`; :func:`graph_engine.validate.validate` checks the rest.
    """

    def __init__(self, data: dict):
        self._data = data
        self.nodes: dict[str, dict] = {node["id"]: node for node in data["nodes"]}
        self.edges: dict[str, dict] = {edge["id"]: edge for edge in data["edges"]}
        self._out: dict[tuple[str, str], list[str]] = {}
        self._in: dict[str, list[str]] = {}
        for edge in data["edges"]:
            port = edge.get("source_port", DEFAULT_PORT)
            self._out.setdefault((edge["source"], port), []).append(edge["target"])
            self._in.setdefault(edge["target"], []).append(edge["source"])

    @classmethod
    def from_dict(cls, data: Any) -> Graph:
        """Wrap a graph dict (kept as-is); :class:`GraphError` if its shape is unusable."""
        if not isinstance(data, dict):
            raise GraphError("a workflow graph must be a JSON object")
        for key in ("nodes", "edges"):
            items = data.get(key)
            if not isinstance(items, list):
                raise GraphError(f"{key!r} must be a list")
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    raise GraphError(f"every item of {key!r} must be an object with a string id")
        for edge in data["edges"]:
            if not isinstance(edge.get("source"), str) or not isinstance(edge.get("target"), str):
                raise GraphError(f"edge {edge['id']}: source and target must be node ids")
        return cls(data)

    def to_dict(self) -> dict:
        """The graph JSON, identical to what was given."""
        return copy.deepcopy(self._data)

    @property
    def name(self) -> str:
        return self._data.get("name", "")

    @property
    def settings(self) -> dict:
        return self._data.get("settings") or {}

    @property
    def timezone(self) -> str:
        return self.settings.get("timezone") or "UTC"

    def node(self, node_id: str) -> dict:
        """The node dict with this id (``KeyError`` if there is none)."""
        return self.nodes[node_id]

    def successors(self, node_id: str, port: str = DEFAULT_PORT) -> list[str]:
        """Target ids of the edges leaving ``node_id`` on ``port``, in edge order."""
        return list(self._out.get((node_id, port), ()))

    def ports_used(self, node_id: str) -> set[str]:
        """The output ports of ``node_id`` that have at least one edge."""
        return {port for (source, port) in self._out if source == node_id}

    def predecessors(self, node_id: str) -> list[str]:
        """Source ids of the edges entering ``node_id``."""
        return list(self._in.get(node_id, ()))

    def trigger_nodes(self, registry: Registry = default_registry) -> list[dict]:
        """The nodes whose registered type is a trigger, in document order."""
        return [n for n in self.nodes.values() if registry.category_of(n.get("type")) == "trigger"]

    def cycles_avoiding(self, node_ids) -> list[list[str]]:
        """One cycle (as a node list) per strongly connected part of the graph that still
        loops once ``node_ids`` are removed: the loops that do not pass through them."""
        import networkx as nx

        graph = nx.DiGraph(self.to_networkx())
        graph.remove_nodes_from(node_ids)
        order = {node_id: i for i, node_id in enumerate(self.nodes)}
        cycles = []
        for part in nx.strongly_connected_components(graph):
            first = min(part, key=order.__getitem__)
            if len(part) == 1 and not graph.has_edge(first, first):
                continue
            edges = nx.find_cycle(graph.subgraph(part), source=first)
            cycles.append([u for u, _v in edges])
        return sorted(cycles, key=lambda c: order[c[0]])

    def reachable_from(self, node_ids) -> set[str]:
        """``node_ids`` and every node some edge path leads to from them."""
        import networkx as nx

        graph = self.to_networkx()
        seen = set(node_ids)
        for node_id in node_ids:
            seen |= nx.descendants(graph, node_id)
        return seen

    def to_networkx(self) -> nx.MultiDiGraph:
        """A ``MultiDiGraph``: node attributes are the node dicts' fields, edges are keyed by
        edge id and carry ``port``."""
        import networkx as nx

        graph = nx.MultiDiGraph()
        for node_id, node in self.nodes.items():
            graph.add_node(node_id, **{k: v for k, v in node.items() if k != "id"})
        for edge_id, edge in self.edges.items():
            if edge["source"] in self.nodes and edge["target"] in self.nodes:
                port = edge.get("source_port", DEFAULT_PORT)
                graph.add_edge(edge["source"], edge["target"], key=edge_id, port=port)
        return graph
