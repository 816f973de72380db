/** Context paths for field pickers and template suggestions: the server's list plus earlier nodes' outputs. */
import { useEffect } from "react";
import { create } from "zustand";
import { api, type ContextPath } from "../api";
import { useEditor } from "../store/editor";

const FALLBACK: ContextPath[] = [
  "event.type", "event.data.content", "event.timestamp", "event.user_id", "event.conversation_id",
  "user.first_name", "user.last_name", "user.email", "user.phone", "user.channel", "user.tags", "conversation.status",
].map((path) => ({ path, type: path === "user.tags" ? "list" : "string" }));

const usePaths = create<{ workflowId: number | null; paths: ContextPath[] }>()(() => ({ workflowId: null, paths: FALLBACK }));

/** The context paths for the open workflow (fetched once per workflow) and `nodes.<id>` of its other nodes. */
export function useContextPaths(): ContextPath[] {
  const workflowId = useEditor((s) => s.workflow?.id ?? null);
  const nodes = useEditor((s) => s.graph.nodes);
  const { paths, workflowId: loadedFor } = usePaths();
  useEffect(() => {
    if (workflowId === null || loadedFor === workflowId) return;
    usePaths.setState({ workflowId });
    api.contextPaths(workflowId).then((list) => usePaths.setState({ paths: list }), () => undefined);
  }, [workflowId, loadedFor]);
  const known = new Set(paths.map((p) => p.path));
  const nodePaths = nodes.filter((n) => !known.has(`nodes.${n.id}`)).map((n) => ({ path: `nodes.${n.id}`, type: "object", description: `output of ${n.id}` }));
  return [...paths, ...nodePaths];
}
