"""Draw a workflow graph as a self-contained SVG picture, optionally lit up by a run's trace.

Nodes keep the positions the editor saved; a graph without positions is laid out left to right
in layers (strongly connected parts — loops through a wait — share a layer). Colours follow the
node category, and with a trace each visited node is outlined by its last step status.

>>> graph = {"format": "workflow-graph/v1", "name": "t", "nodes": [
...     {"id": "t", "type": "trigger.manual"}, {"id": "n", "type": "action.add_note",
...     "params": {"text": "hi"}}], "edges": [{"id": "e", "source": "t", "target": "n"}]}
>>> svg = to_svg(graph, statuses={"n": "succeeded"})
>>> svg.startswith("<svg") and "n · succeeded" in svg
True
"""

from __future__ import annotations

__all__ = ["to_svg", "layout"]

from html import escape

from graph_engine.registry import Registry, default_registry

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 190, 58, 80, 36, 30
CATEGORY_COLOURS = {
    "trigger": "#2e7d32",
    "logic": "#b26a00",
    "flow": "#1565c0",
    "action": "#6a1b9a",
}
STATUS_COLOURS = {
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "retrying": "#ef6c00",
    "waiting": "#1565c0",
    "running": "#1565c0",
    "skipped": "#9e9e9e",
}


def layout(graph: dict) -> dict[str, tuple[float, float]]:
    """Top-left corner of every node: its saved position, or a layered layout.

    >>> layout({"nodes": [{"id": "a", "position": {"x": 5, "y": 7}}], "edges": []})
    {'a': (5.0, 7.0)}
    """
    nodes = [n for n in graph.get("nodes", []) if isinstance(n, dict) and "id" in n]
    if nodes and all(_has_position(n) for n in nodes):
        return {n["id"]: (float(n["position"]["x"]), float(n["position"]["y"])) for n in nodes}
    import networkx as nx  # on first use (graph_engine.graph says why)

    digraph = nx.DiGraph()
    digraph.add_nodes_from(n["id"] for n in nodes)
    digraph.add_edges_from(
        (e["source"], e["target"])
        for e in graph.get("edges", [])
        if e.get("source") in digraph and e.get("target") in digraph
    )
    dag = nx.condensation(digraph)
    places: dict[str, tuple[float, float]] = {}
    for column, generation in enumerate(nx.topological_generations(dag)):
        members = [m for scc in sorted(generation) for m in sorted(dag.nodes[scc]["members"])]
        for row, node_id in enumerate(members):
            places[node_id] = (column * (BOX_W + GAP_X), row * (BOX_H + GAP_Y))
    return places


def to_svg(graph: dict, *, statuses: dict | None = None, registry: Registry | None = None) -> str:
    """The SVG text of ``graph``; ``statuses`` maps node id -> last step status of a run."""
    registry = registry or default_registry
    statuses = statuses or {}
    places = layout(graph)
    min_x = min((x for x, _ in places.values()), default=0)
    min_y = min((y for _, y in places.values()), default=0)
    places = {k: (x - min_x + MARGIN, y - min_y + MARGIN) for k, (x, y) in places.items()}
    width = max((x for x, _ in places.values()), default=0) + BOX_W + MARGIN
    height = max((y for _, y in places.values()), default=0) + BOX_H + MARGIN + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#607d8b"/></marker>'
        "</defs>",
        f'<rect width="100%" height="100%" fill="#fafafa"/><text x="{MARGIN}" y="{height - 12}" '
        f'font-size="13" fill="#455a64">{escape(str(graph.get("name", "")))}</text>',
    ]
    parts += [_edge(e, places) for e in graph.get("edges", []) if _drawable(e, places)]
    parts += [
        _node(n, places[n["id"]], registry, statuses.get(n["id"]))
        for n in graph.get("nodes", [])
        if isinstance(n, dict) and n.get("id") in places
    ]
    parts.append("</svg>")
    return "\n".join(parts)


def _has_position(node: dict) -> bool:
    pos = node.get("position")
    return isinstance(pos, dict) and all(isinstance(pos.get(k), int | float) for k in "xy")


def _drawable(edge, places) -> bool:
    return isinstance(edge, dict) and edge.get("source") in places and edge.get("target") in places


def _edge(edge: dict, places: dict) -> str:
    sx, sy = places[edge["source"]]
    tx, ty = places[edge["target"]]
    x1, y1, x2, y2 = sx + BOX_W, sy + BOX_H / 2, tx, ty + BOX_H / 2
    bend = max(40.0, abs(x2 - x1) / 2)
    path = (
        f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 - bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
    )
    out = f'<path d="{path}" fill="none" stroke="#607d8b" stroke-width="1.6" marker-end="url(#arrow)"/>'
    port = edge.get("source_port", "out")
    if port != "out":
        out += (
            f'<text x="{x1 + 6:.0f}" y="{y1 - 6:.0f}" font-size="11" fill="#37474f">'
            f"{escape(str(port))}</text>"
        )
    return out


def _node(node: dict, place: tuple[float, float], registry: Registry, status: str | None) -> str:
    x, y = place
    try:
        node_type = registry.get(node.get("type", ""))
    except KeyError:  # UnknownNodeTypeError: draw it grey, validation reports it
        node_type = None
    category = node_type.category if node_type else "unknown"
    title = node.get("title") or (node_type.title if node_type else node.get("type", "?"))
    colour = CATEGORY_COLOURS.get(category, "#757575")
    outline = STATUS_COLOURS.get(status or "", "#cfd8dc")
    subtitle = f"{node['id']} · {status or str(node.get('type', '')).split('.')[-1]}"
    dash = ' stroke-dasharray="5,4"' if node.get("disabled") else ""
    return (
        f'<g><rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="white" '
        f'stroke="{outline}" stroke-width="{3 if status else 1.5}"{dash}/>'
        f'<rect x="{x:.0f}" y="{y:.0f}" width="6" height="{BOX_H}" rx="3" fill="{colour}"/>'
        f'<text x="{x + 14:.0f}" y="{y + 23:.0f}" font-size="13" font-weight="bold" fill="#263238">'
        f"{escape(_clip(str(title), 24))}</text>"
        f'<text x="{x + 14:.0f}" y="{y + 42:.0f}" font-size="11" fill="#607d8b">'
        f"{escape(_clip(subtitle, 30))}</text></g>"
    )


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"
