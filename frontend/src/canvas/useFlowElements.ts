/**
 * The canvas elements derived from the store, cached per element: a node whose graph entry,
 * selection, size, issues and run status did not change keeps its object, so React Flow
 * re-renders only what moved (this keeps dragging on a 200-node graph smooth).
 */
import type { Edge } from "@xyflow/react";
import { useMemo, useRef } from "react";
import { issuesOf, useEditor } from "../store/editor";
import { useNodeTypes } from "../store/nodeTypes";
import { useRuns } from "../store/runs";
import { useSimulation } from "../store/simulation";
import { edgeToFlow, type FlowNode, issuesByNode, nodeToFlow, noteToFlow } from "./convert";

type Cache<T> = Map<string, { key: unknown[]; value: T }>;

function cached<T>(cache: Cache<T>, next: Cache<T>, id: string, key: unknown[], make: () => T): T {
  const hit = cache.get(id);
  const value = hit && hit.key.length === key.length && hit.key.every((k, i) => k === key[i]) ? hit.value : make();
  next.set(id, { key, value });
  return value;
}

export function useFlowElements(): { nodes: FlowNode[]; edges: Edge[] } {
  const graph = useEditor((s) => s.graph);
  const selected = useEditor((s) => s.selected);
  const measured = useEditor((s) => s.measured);
  const report = useEditor((s) => s.report);
  const types = useNodeTypes((s) => s.byType);
  const status = useRuns((s) => s.runStatus);
  const taken = useRuns((s) => s.edgeTaken);
  const simCounts = useSimulation((s) => s.result?.edges);
  const simWidths = useSimulation((s) => s.widths);
  const nodeCache = useRef<Cache<FlowNode>>(new Map());
  const edgeCache = useRef<Cache<Edge>>(new Map());
  const issues = useMemo(() => issuesByNode(issuesOf(report), graph), [report, graph.edges]); // eslint-disable-line
  const invalidEdges = useMemo(() => new Set(issuesOf(report).map((i) => i.edge_id).filter(Boolean)), [report]);

  const nodes = useMemo(() => {
    const next: Cache<FlowNode> = new Map();
    const ctx = { types, selected, measured, issues, status };
    const out: FlowNode[] = [];
    for (const note of graph.ui?.notes ?? []) {
      const key = [note, !!selected[note.id], measured[note.id]];
      out.push(cached(nodeCache.current, next, note.id, key, () => noteToFlow(note, ctx)));
    }
    for (const node of graph.nodes) {
      const key = [node, !!selected[node.id], measured[node.id], issues[node.id], status[node.id], types[node.type]];
      out.push(cached(nodeCache.current, next, node.id, key, () => nodeToFlow(node, ctx)));
    }
    nodeCache.current = next;
    return out;
  }, [graph.nodes, graph.ui, selected, measured, issues, status, types]);

  const edges = useMemo(() => {
    const next: Cache<Edge> = new Map();
    const out = graph.edges.map((e) => {
      const sim = simCounts ? { count: simCounts[e.id] ?? 0, width: simWidths[e.id] ?? 1.5 } : undefined;
      const key = [e, !!selected[e.id], invalidEdges.has(e.id), !!taken[e.id], sim?.count, sim?.width];
      return cached(edgeCache.current, next, e.id, key, () => edgeToFlow(e, !!selected[e.id], invalidEdges.has(e.id), !!taken[e.id], sim));
    });
    edgeCache.current = next;
    return out;
  }, [graph.edges, selected, invalidEdges, taken, simCounts, simWidths]);

  return { nodes, edges };
}
