/** `/workflows/:id`: the editor for one workflow (toolbar, palette, canvas, inspector). */
import { useEffect, useState } from "react";
import { api } from "../api";
import { useEditor } from "../store/editor";
import { useNodeTypes } from "../store/nodeTypes";
import type { Params } from "../router";

export default function EditorPage({ params }: { params: Params }) {
  const id = Number(params.id);
  const [error, setError] = useState<string | null>(null);
  const workflow = useEditor((s) => s.workflow);
  const loadTypes = useNodeTypes((s) => s.load);
  useEffect(() => {
    Promise.all([api.workflow(id), loadTypes()]).then(([wf]) => useEditor.getState().open(wf), (e) => setError(String(e.message)));
  }, [id, loadTypes]);
  if (error) return <div className="page-message error">{error}</div>;
  if (!workflow) return <div className="page-message muted">Loading…</div>;
  return <div className="editor" dir="auto">{workflow.name}</div>;
}
