/**
 * Ports as the registry declares them, and the connection rules of the graph contract.
 * Pure functions (no React), unit-tested in ports.test.ts.
 */
import type { GraphEdge, GraphNode, NodeType, WorkflowGraph } from "../store/types";

export const DEFAULT_PORT = "out";
export const ERROR_PORT = "error";

/** The output ports of `node` for its current params, the implicit "error" port last. */
export function outputPorts(node: GraphNode, type: NodeType | undefined): string[] {
  if (!type) return [DEFAULT_PORT];
  let ports = [...type.outputs];
  if (type.outputs_from) {
    const items = node.params?.[type.outputs_from];
    const named = Array.isArray(items)
      ? items.map((item) => (item as { name?: unknown })?.name).filter((n): n is string => typeof n === "string" && n !== "")
      : [];
    ports = [...new Set([...named, ...(type.outputs_extra ?? []), ...type.outputs])];
  }
  if (type.error_port) ports.push(ERROR_PORT);
  return ports;
}

export function hasInput(type: NodeType | undefined): boolean {
  return !type || type.inputs.length > 0;
}

export interface Connection {
  source: string;
  sourceHandle?: string | null;
  target: string;
}

/** Why `conn` may not be added to `graph` (a sentence), or null when it may. */
export function connectionProblem(
  graph: WorkflowGraph,
  types: Record<string, NodeType>,
  conn: Connection,
): string | null {
  const source = graph.nodes.find((n) => n.id === conn.source);
  const target = graph.nodes.find((n) => n.id === conn.target);
  if (!source || !target) return "Both ends must be nodes of this workflow.";
  if (source.id === target.id) return "A node cannot connect to itself.";
  const targetType = types[target.type];
  if (!hasInput(targetType)) return `“${targetType?.title ?? target.type}” is a trigger: nothing can lead into it.`;
  const port = conn.sourceHandle || DEFAULT_PORT;
  if (!outputPorts(source, types[source.type]).includes(port)) {
    return `“${source.id}” has no output port “${port}”.`;
  }
  const duplicate = graph.edges.some(
    (e) => e.source === source.id && e.target === target.id && (e.source_port || DEFAULT_PORT) === port,
  );
  if (duplicate) return "These ports are already connected.";
  return null;
}

/** A fresh id from `base` that no element of `taken` has. */
export function freshId(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const stem = base.replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "") || "node";
  if (!used.has(stem)) return stem;
  for (let i = 2; ; i += 1) if (!used.has(`${stem}_${i}`)) return `${stem}_${i}`;
}

/** The edge for `conn`, with a fresh id and `source_port` only when not the default port. */
export function edgeFor(graph: WorkflowGraph, conn: Connection): GraphEdge {
  const id = freshId(`e_${conn.source}_${conn.target}`, graph.edges.map((e) => e.id));
  const port = conn.sourceHandle || DEFAULT_PORT;
  return port === DEFAULT_PORT
    ? { id, source: conn.source, target: conn.target }
    : { id, source: conn.source, target: conn.target, source_port: port };
}

/** Edges whose port no longer exists on their source (e.g. after a switch case was renamed). */
export function danglingEdges(graph: WorkflowGraph, types: Record<string, NodeType>): GraphEdge[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  return graph.edges.filter((e) => {
    const node = byId.get(e.source);
    return !node || !outputPorts(node, types[node.type]).includes(e.source_port || DEFAULT_PORT);
  });
}
