/** Pure edits of a workflow graph: add, remove, copy (subgraph), paste with fresh ids, notes. */
import { freshId } from "../canvas/ports";
import type { GraphEdge, GraphNode, StickyNote, WorkflowGraph, XY } from "./types";

export function notesOf(graph: WorkflowGraph): StickyNote[] {
  return graph.ui?.notes ?? [];
}

export function withNotes(graph: WorkflowGraph, notes: StickyNote[]): WorkflowGraph {
  const { notes: _old, ...rest } = graph.ui ?? {};
  const ui: WorkflowGraph["ui"] = notes.length ? { ...rest, notes } : rest;
  const { ui: _drop, ...bare } = graph;
  return Object.keys(ui).length ? { ...bare, ui } : bare;
}

export function allIds(graph: WorkflowGraph): string[] {
  return [...graph.nodes.map((n) => n.id), ...notesOf(graph).map((n) => n.id)];
}

/** Remove nodes/notes/edges by id; edges touching a removed node go too. */
export function removeIds(graph: WorkflowGraph, ids: Set<string>): WorkflowGraph {
  const nodes = graph.nodes.filter((n) => !ids.has(n.id));
  const edges = graph.edges.filter((e) => !ids.has(e.id) && !ids.has(e.source) && !ids.has(e.target));
  const notes = notesOf(graph).filter((n) => !ids.has(n.id));
  return withNotes({ ...graph, nodes, edges }, notes);
}

/** The selected nodes and notes with the edges between selected nodes, as graph JSON. */
export function subgraph(graph: WorkflowGraph, ids: Set<string>): WorkflowGraph {
  const nodes = graph.nodes.filter((n) => ids.has(n.id));
  const edges = graph.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
  const notes = notesOf(graph).filter((n) => ids.has(n.id));
  const out: WorkflowGraph = { format: "workflow-graph/v1", nodes, edges };
  return notes.length ? { ...out, ui: { notes } } : out;
}

/** Parse clipboard text as graph JSON (or null when it is not one). */
export function parseClip(text: string): WorkflowGraph | null {
  try {
    const data = JSON.parse(text);
    if (data && Array.isArray(data.nodes) && Array.isArray(data.edges ?? [])) {
      return { format: "workflow-graph/v1", edges: [], ...data };
    }
  } catch {
    /* not JSON: nothing to paste */
  }
  return null;
}

/**
 * Add `clip`'s nodes, edges and notes to `graph` under fresh ids, shifted by `offset`.
 * Returns the new graph and the ids of the pasted elements.
 */
export function pasteInto(graph: WorkflowGraph, clip: WorkflowGraph, offset: XY): { graph: WorkflowGraph; ids: string[] } {
  const taken = new Set(allIds(graph));
  const rename = new Map<string, string>();
  const move = (p: XY | undefined): XY => ({ x: (p?.x ?? 0) + offset.x, y: (p?.y ?? 0) + offset.y });
  const nodes: GraphNode[] = clip.nodes.map((n) => {
    const id = freshId(n.id, taken);
    taken.add(id);
    rename.set(n.id, id);
    return { ...structuredClone(n), id, position: move(n.position) };
  });
  const edgeIds = new Set(graph.edges.map((e) => e.id));
  const edges: GraphEdge[] = [];
  for (const e of clip.edges ?? []) {
    const source = rename.get(e.source);
    const target = rename.get(e.target);
    if (!source || !target) continue;
    const id = freshId(e.id, edgeIds);
    edgeIds.add(id);
    edges.push({ ...e, id, source, target });
  }
  const notes = (clip.ui?.notes ?? []).map((n) => {
    const id = freshId(n.id, taken);
    taken.add(id);
    return { ...n, id, position: move(n.position) };
  });
  const merged = withNotes(
    { ...graph, nodes: [...graph.nodes, ...nodes], edges: [...graph.edges, ...edges] },
    [...notesOf(graph), ...notes],
  );
  return { graph: merged, ids: [...nodes.map((n) => n.id), ...notes.map((n) => n.id)] };
}

/** Replace the node `id` by `patch(node)`. */
export function patchNode(graph: WorkflowGraph, id: string, patch: (n: GraphNode) => GraphNode): WorkflowGraph {
  return { ...graph, nodes: graph.nodes.map((n) => (n.id === id ? patch(n) : n)) };
}

/**
 * Switch nodes off (`disabled: true`: runs pass through them without running them) or back on.
 * An enabled node carries no `disabled` key, so switching one off and on again leaves the graph
 * as it was.
 */
export function setDisabled(graph: WorkflowGraph, ids: Set<string>, disabled: boolean): WorkflowGraph {
  if (!graph.nodes.some((n) => ids.has(n.id))) return graph;
  const nodes = graph.nodes.map((n) => {
    if (!ids.has(n.id) || !!n.disabled === disabled) return n;
    const { disabled: _old, ...rest } = n;
    return disabled ? { ...rest, disabled: true } : rest;
  });
  return { ...graph, nodes };
}

/** Set positions of nodes and notes (ids missing from `positions` keep theirs). */
export function setPositions(graph: WorkflowGraph, positions: Map<string, XY>): WorkflowGraph {
  if (!positions.size) return graph;
  const nodes = graph.nodes.map((n) => (positions.has(n.id) ? { ...n, position: positions.get(n.id) } : n));
  const notes = notesOf(graph);
  const moved = notes.some((n) => positions.has(n.id))
    ? notes.map((n) => (positions.has(n.id) ? { ...n, position: positions.get(n.id)! } : n))
    : notes;
  return moved === notes ? { ...graph, nodes } : withNotes({ ...graph, nodes }, moved);
}

/** Default params for a new node: each property's schema `default`. */
export function defaultParams(schema: Record<string, unknown> | undefined): Record<string, unknown> {
  const props = (schema?.properties ?? {}) as Record<string, { default?: unknown }>;
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(props)) {
    if (prop.default !== undefined) out[key] = structuredClone(prop.default);
  }
  return out;
}
