/** Context paths for field pickers and template suggestions: the server's list plus earlier nodes' outputs. */
import { useEffect, useMemo } from "react";
import { create } from "zustand";
import { api, type ContextPath } from "../api";
import { useEditor } from "../store/editor";
import type { GraphEdge } from "../store/types";

const FALLBACK: ContextPath[] = [
  "event.type", "event.data.content", "event.timestamp", "event.user_id", "event.conversation_id",
  "user.first_name", "user.last_name", "user.email", "user.phone", "user.channel", "user.tags", "conversation.status",
].map((path) => ({ path, type: path === "user.tags" ? "list" : "string" }));

const usePaths = create<{ workflowId: number | null; paths: ContextPath[] }>()(() => ({ workflowId: null, paths: FALLBACK }));

/** The nodes that run before `nodeId` (its ancestors along the edges). */
export function earlierNodes(edges: GraphEdge[], nodeId: string | null): Set<string> {
  const seen = new Set<string>();
  const queue = nodeId ? [nodeId] : [];
  while (queue.length) {
    const id = queue.pop()!;
    for (const e of edges) {
      if (e.target !== id || seen.has(e.source)) continue;
      seen.add(e.source);
      queue.push(e.source);
    }
  }
  return seen;
}

/** The context paths for the open workflow (fetched once per workflow) and `nodes.<id>` of the nodes before the open one. */
export function useContextPaths(): ContextPath[] {
  const workflowId = useEditor((s) => s.workflow?.id ?? null);
  const edges = useEditor((s) => s.graph.edges);
  const openNodeId = useEditor((s) => s.openNodeId);
  const { paths, workflowId: loadedFor } = usePaths();
  useEffect(() => {
    if (workflowId === null || loadedFor === workflowId) return;
    usePaths.setState({ workflowId });
    api.contextPaths(workflowId).then((list) => usePaths.setState({ paths: list }), () => undefined);
  }, [workflowId, loadedFor]);
  return useMemo(() => {
    const before = earlierNodes(edges, openNodeId);
    const fromServer = paths.filter((p) => !p.path.startsWith("nodes.") || before.has(p.path.split(".")[1]));
    const known = new Set(fromServer.map((p) => p.path));
    const nodePaths = [...before].filter((id) => !known.has(`nodes.${id}`)).map((id) => ({ path: `nodes.${id}`, type: "object", description: `output of ${id}` }));
    return [...fromServer, ...nodePaths];
  }, [paths, edges, openNodeId]);
}
