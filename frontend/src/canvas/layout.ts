/** Auto-layout with dagre: left-to-right layers, ports in order; the whole graph or a selection. */
import dagre from "@dagrejs/dagre";
import type { WorkflowGraph, XY } from "../store/types";

export const DEFAULT_SIZE = { width: 240, height: 64 };
type Sizes = Record<string, { width: number; height: number } | undefined>;

/**
 * New top-left positions for the nodes `ids` (all graph nodes when omitted). A selection keeps
 * its place: the laid-out block is moved so its top-left corner stays where the selection's was.
 */
export function layoutPositions(graph: WorkflowGraph, sizes: Sizes = {}, ids?: Set<string>): Map<string, XY> {
  const nodes = graph.nodes.filter((n) => !ids || ids.has(n.id));
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 90, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { ...(sizes[n.id] ?? DEFAULT_SIZE) });
  for (const e of graph.edges) {
    if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target, {}, e.id);
  }
  dagre.layout(g);
  const out = new Map<string, XY>();
  for (const n of nodes) {
    const box = g.node(n.id);
    const size = sizes[n.id] ?? DEFAULT_SIZE;
    out.set(n.id, { x: Math.round(box.x - size.width / 2), y: Math.round(box.y - size.height / 2) });
  }
  if (ids && nodes.length) {
    const before = corner(nodes.map((n) => n.position ?? { x: 0, y: 0 }));
    const after = corner([...out.values()]);
    for (const [id, p] of out) out.set(id, { x: p.x + before.x - after.x, y: p.y + before.y - after.y });
  }
  return out;
}

function corner(points: XY[]): XY {
  return { x: Math.min(...points.map((p) => p.x)), y: Math.min(...points.map((p) => p.y)) };
}

/** Do any two boxes overlap? (used by tests and the bench to check a layout) */
export function overlaps(boxes: { x: number; y: number; width: number; height: number }[]): boolean {
  for (let i = 0; i < boxes.length; i += 1) {
    for (let j = i + 1; j < boxes.length; j += 1) {
      const a = boxes[i];
      const b = boxes[j];
      if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) return true;
    }
  }
  return false;
}
