/**
 * Graph (workflow-graph/v1) <-> React Flow elements. The graph is the source of truth; the
 * canvas elements are derived from it (plus selection, measured sizes, issues and run status),
 * and `flowToGraph` turns canvas elements back into graph JSON.
 */
import type { Edge, Node } from "@xyflow/react";
import type { GraphEdge, GraphNode, Issue, NodeType, StickyNote, WorkflowGraph } from "../store/types";
import { DEFAULT_PORT, ERROR_PORT } from "./ports";

export interface CardData extends Record<string, unknown> {
  node: GraphNode;
  nodeType?: NodeType;
  issues: Issue[];
  status?: string;
}

export interface NoteData extends Record<string, unknown> {
  note: StickyNote;
}

export type CardNode = Node<CardData>;
export type NoteNode = Node<NoteData, "note">;
export type FlowNode = CardNode | NoteNode;

export interface FlowContext {
  types: Record<string, NodeType>;
  selected?: Record<string, boolean>;
  measured?: Record<string, { width: number; height: number }>;
  issues?: Record<string, Issue[]>;
  status?: Record<string, string>;
}

const NO_ISSUES: Issue[] = [];

export function nodeToFlow(node: GraphNode, ctx: FlowContext): CardNode {
  const nodeType = ctx.types[node.type];
  const status = ctx.status?.[node.id];
  const attrs: Record<string, string> = { "data-node-id": node.id, "data-node-type": node.type };
  if (status) attrs["data-status"] = status;
  const issues = ctx.issues?.[node.id] ?? NO_ISSUES;
  if (issues.length) attrs["data-invalid"] = "true";
  if (node.disabled) attrs["data-disabled"] = "true";
  return {
    id: node.id,
    type: nodeType?.category ?? "action",
    position: node.position ?? { x: 0, y: 0 },
    data: { node, nodeType, issues, status },
    selected: !!ctx.selected?.[node.id],
    measured: ctx.measured?.[node.id],
    domAttributes: attrs as Node["domAttributes"],
  };
}

export function noteToFlow(note: StickyNote, ctx: FlowContext): NoteNode {
  return {
    id: note.id,
    type: "note",
    position: note.position,
    data: { note },
    selected: !!ctx.selected?.[note.id],
    measured: ctx.measured?.[note.id],
    style: { width: note.width ?? 220, height: note.height ?? 120 },
    zIndex: -1,
    domAttributes: { "data-note-id": note.id } as Node["domAttributes"],
  };
}

/** ``simulated``: a simulation's runs along this edge and its stroke width (the funnel). */
export function edgeToFlow(
  edge: GraphEdge, selected = false, invalid = false, taken = false, simulated?: { count: number; width: number },
): Edge {
  const port = edge.source_port || DEFAULT_PORT;
  const attrs: Record<string, string> = { "data-edge-id": edge.id };
  if (simulated) attrs["data-sim-count"] = String(simulated.count);
  const sim = simulated ? (simulated.count ? "edge-sim" : "edge-sim edge-sim-none") : "";
  return {
    id: edge.id,
    source: edge.source,
    target: edge.target,
    sourceHandle: port,
    targetHandle: "in",
    selected,
    className: [port === ERROR_PORT ? "edge-error" : "", invalid ? "edge-invalid" : "", taken ? "edge-taken" : "", sim].join(" ").trim() || undefined,
    domAttributes: attrs as Edge["domAttributes"],
    ...(simulated && {
      style: { strokeWidth: simulated.width },
      label: simulated.count.toLocaleString(),
      labelBgPadding: [4, 2] as [number, number],
      labelBgBorderRadius: 4,
    }),
  };
}

/** All canvas elements for a graph (no caching: see `useFlowElements` for the canvas's cached version). */
export function graphToFlow(graph: WorkflowGraph, ctx: FlowContext): { nodes: FlowNode[]; edges: Edge[] } {
  const notes = graph.ui?.notes ?? [];
  return {
    nodes: [...notes.map((n) => noteToFlow(n, ctx)), ...graph.nodes.map((n) => nodeToFlow(n, ctx))],
    edges: graph.edges.map((e) => edgeToFlow(e, !!ctx.selected?.[e.id])),
  };
}

/** Graph JSON from canvas elements; `base` supplies name, settings and anything else top-level. */
export function flowToGraph(nodes: FlowNode[], edges: Edge[], base: Partial<WorkflowGraph> = {}): WorkflowGraph {
  const graphNodes: GraphNode[] = [];
  const notes: StickyNote[] = [];
  for (const n of nodes) {
    if (n.type === "note") notes.push({ ...(n.data as NoteData).note, position: roundXY(n.position) });
    else graphNodes.push({ ...(n.data as CardData).node, position: roundXY(n.position) });
  }
  const graphEdges = edges.map((e): GraphEdge => {
    const port = e.sourceHandle || DEFAULT_PORT;
    const out: GraphEdge = { id: e.id, source: e.source, target: e.target };
    if (port !== DEFAULT_PORT) out.source_port = port;
    return out;
  });
  const graph: WorkflowGraph = { ...base, format: "workflow-graph/v1", nodes: graphNodes, edges: graphEdges };
  if (notes.length) graph.ui = { ...base.ui, notes };
  else if (graph.ui) {
    const { notes: _drop, ...rest } = graph.ui;
    graph.ui = Object.keys(rest).length ? rest : undefined;
    if (!graph.ui) delete graph.ui;
  }
  return graph;
}

export function roundXY(p: { x: number; y: number }): { x: number; y: number } {
  return { x: Math.round(p.x), y: Math.round(p.y) };
}

/** Issues grouped by the node they name (edge issues go to the edge's source node too). */
export function issuesByNode(issues: Issue[], graph: WorkflowGraph): Record<string, Issue[]> {
  const out: Record<string, Issue[]> = {};
  const edgeSource = new Map(graph.edges.map((e) => [e.id, e.source]));
  for (const issue of issues) {
    const id = issue.node_id ?? (issue.edge_id ? edgeSource.get(issue.edge_id) : undefined);
    if (id) (out[id] ??= []).push(issue);
  }
  return out;
}
