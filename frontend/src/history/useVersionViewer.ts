/** Viewing an old version read-only (the current graph stashed meanwhile) and restoring one. */
import { useEffect, useRef, useState } from "react";
import { api, ApiError } from "../api";
import { isDirty, normalise, useEditor } from "../store/editor";
import type { Workflow, WorkflowGraph } from "../store/types";

interface Stash {
  workflow: Workflow;
  graph: WorkflowGraph;
  savedGraph: WorkflowGraph;
}

export type VersionViewer = ReturnType<typeof useVersionViewer>;

/** Lives in the editor (not the history panel) so a node panel can replace the history panel meanwhile. */
export function useVersionViewer(workflowId: number) {
  const [viewing, setViewing] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const stash = useRef<Stash | null>(null);

  const backToCurrent = () => {
    if (stash.current) {
      const { workflow, graph, savedGraph } = stash.current;
      useEditor.setState({ workflow, graph, savedGraph, readOnly: false, selected: {}, openNodeId: null });
      stash.current = null;
    }
    setViewing(null);
  };
  useEffect(() => () => backToCurrent(), []); // eslint-disable-line react-hooks/exhaustive-deps

  const view = async (n: number) => {
    const state = useEditor.getState();
    stash.current ??= { workflow: state.workflow!, graph: state.graph, savedGraph: state.savedGraph };
    const graph = normalise((await api.version(workflowId, n)).graph);
    useEditor.setState({ graph, savedGraph: graph, readOnly: true, selected: {}, openNodeId: null, report: null });
    setViewing(n);
  };
  const restore = async (n: number) => {
    const current = stash.current ? { ...useEditor.getState(), ...stash.current } : useEditor.getState();
    if (isDirty(current) && !window.confirm("Restoring replaces your unsaved changes. Continue?")) return;
    try {
      const wf = await api.restore(workflowId, n);
      stash.current = null;
      setViewing(null);
      useEditor.getState().open(wf);
      useEditor.getState().setNotice(`Version ${n} restored as version ${wf.version}.`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  const currentVersion = stash.current?.workflow.version;
  return { viewing, error, view, restore, backToCurrent, currentVersion };
}
