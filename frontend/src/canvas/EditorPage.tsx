/** `/workflows/:id`: the editor for one workflow (toolbar, palette, canvas, inspector, side panels). */
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api } from "../api";
import { HistoryPanel } from "../history/HistoryPanel";
import { useVersionViewer, type VersionViewer } from "../history/useVersionViewer";
import { SettingsPanel } from "../inspector/SettingsPanel";
import { SimulatePanel } from "../simulate/SimulatePanel";
import { Palette } from "../palette/Palette";
import { type Params, setLeaveGuard } from "../router";
import { isDirty, useEditor } from "../store/editor";
import { useNodeTypes } from "../store/nodeTypes";
import { type Conflict, save, setActive, validateNow } from "../store/persist";
import type { WorkflowGraph } from "../store/types";
import { ImportDialog } from "../workflows/ImportDialog";
import { navigate } from "../router";
import { Canvas } from "./Canvas";
import { ConflictDialog, HelpDialog, Notice, ReadOnlyBanner } from "./EditorChrome";
import { askedVersions, unasked } from "./askedVersions";
import { PublishDialog, runVersionsApi, waitingTotals, type WaitingVersions } from "./PublishDialog";
import { type Panel, Toolbar } from "./Toolbar";
import { useShortcuts } from "./useShortcuts";
import { RunsSide, canRunTests } from "../runs/RunsSide";
import { useLiveRuns } from "../runs/useLiveRuns";

const LEAVE_MESSAGE = "You have unsaved changes. Leave without saving?";
// The node panel (schema forms + their validator) loads when a node is first opened.
const Inspector = lazy(() => import("../inspector/Inspector"));

export default function EditorPage({ params }: { params: Params }) {
  const id = Number(params.id);
  const [error, setError] = useState<string | null>(null);
  const workflow = useEditor((s) => s.workflow);
  const loadTypes = useNodeTypes((s) => s.load);
  useEffect(() => {
    useEditor.setState({ workflow: null });
    Promise.all([api.workflow(id), loadTypes()]).then(
      ([wf]) => useEditor.getState().open(wf),
      (e) => setError(String(e.message)),
    );
  }, [id, loadTypes]);
  useEffect(() => {
    setLeaveGuard(() => (isDirty(useEditor.getState()) ? LEAVE_MESSAGE : null));
    const onUnload = (e: BeforeUnloadEvent) => {
      if (isDirty(useEditor.getState())) e.preventDefault();
    };
    window.addEventListener("beforeunload", onUnload);
    return () => {
      setLeaveGuard(null);
      window.removeEventListener("beforeunload", onUnload);
    };
  }, []);
  if (error) return <div className="page-message error">{error}</div>;
  if (!workflow || workflow.id !== id) return <div className="page-message muted">Loading…</div>;
  return (
    <ReactFlowProvider>
      <Editor />
    </ReactFlowProvider>
  );
}

function useLiveValidation() {
  const graph = useEditor((s) => s.graph);
  const saved = useEditor((s) => s.savedGraph);
  useEffect(() => {
    if (graph === saved) return;
    const timer = setTimeout(validateNow, 500);
    return () => clearTimeout(timer);
  }, [graph, saved]);
}

/** Save (conflicts surface as `conflict`) and activate / pause (refused while invalid; saves first). */
function useEditorActions() {
  const [saving, setSaving] = useState(false);
  const [waiting, setWaiting] = useState<WaitingVersions | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const savingRef = useRef(false);
  const doSave = useCallback(async (baseVersion?: number) => {
    if (savingRef.current || useEditor.getState().readOnly) return false;
    savingRef.current = true;
    setSaving(true);
    const result = await save({ baseVersion });
    savingRef.current = false;
    setSaving(false);
    if (result.ok) {
      useEditor.getState().setNotice(`Saved as version ${result.workflow.version}.`);
      void offerToMoveWaitingRuns(result.workflow.id, setWaiting);
    }
    else if (result.conflict) setConflict(result.conflict);
    else useEditor.getState().setNotice(`Not saved: ${result.error}`);
    return result.ok;
  }, []);
  const toggleActive = useCallback(async () => {
    const state = useEditor.getState();
    const active = state.workflow?.status === "active";
    if (!active && state.report && state.report.errors.length) {
      state.setNotice(`Cannot activate: fix the ${state.report.errors.length} problem(s) marked on the canvas first.`);
      return;
    }
    if (isDirty(state) && !(await doSave())) return;
    const problem = await setActive(!active);
    const done = active ? "Paused." : "Active: new events start runs.";
    useEditor.getState().setNotice(problem ? `Cannot ${active ? "pause" : "activate"}: ${problem}` : done);
  }, [doSave]);
  return { saving, conflict, setConflict, doSave, toggleActive, waiting, setWaiting };
}

/**
 * After publishing: when runs wait on older versions not asked about yet, ask whether to move them
 * (PublishDialog); when all were asked about before, the save notice just says they are finishing.
 */
async function offerToMoveWaitingRuns(workflowId: number, show: (w: WaitingVersions) => void) {
  const waiting = await runVersionsApi.waiting(workflowId).catch(() => null);
  if (!waiting) return;
  const ask = unasked(waiting, askedVersions(workflowId));
  if (ask) return show(ask);
  const { waiting: n } = waitingTotals(waiting);
  if (n > 0) {
    useEditor.getState().setNotice(
      `Saved as version ${waiting.current_version}. ${n} waiting ${n === 1 ? "run finishes" : "runs finish"} on an older version, as you chose.`,
    );
  }
}

/**
 * The panel beside the canvas. An opened node shows its settings, read-only while an old version
 * is viewed: over the history panel, which comes back when the node panel closes.
 */
function SidePanel({ panel, onClose, viewer }: { panel: Panel; onClose: () => void; viewer: VersionViewer }) {
  const openNodeId = useEditor((s) => s.openNodeId);
  const readOnly = useEditor((s) => s.readOnly);
  if (panel === "settings") return <SettingsPanel onClose={onClose} />;
  if (panel === "history" && !(readOnly && openNodeId)) return <HistoryPanel onClose={onClose} viewer={viewer} />;
  if (panel === "simulate") return <SimulatePanel onClose={onClose} />;
  if (!openNodeId) return <Runs readOnly={readOnly} />;
  return (
    <Suspense fallback={<aside className="inspector" />}>
      <Inspector key={openNodeId} nodeId={openNodeId} />
    </Suspense>
  );
}

/** The live runs of the open workflow, the Test run and the per-node counts (runs/). */
function Runs({ readOnly }: { readOnly: boolean }) {
  const workflowId = useEditor((s) => s.workflow?.id ?? null);
  const graph = useEditor((s) => s.graph);
  return workflowId ? <RunsSide workflowId={workflowId} graph={graph} canTest={canRunTests() && !readOnly} /> : null;
}

function Editor() {
  const [panel, setPanel] = useState<Panel>(null);
  const openNodeId = useEditor((s) => s.openNodeId);
  const readOnly = useEditor((s) => s.readOnly);
  const flow = useReactFlow();
  const { saving, conflict, setConflict, doSave, toggleActive, waiting, setWaiting } = useEditorActions();
  useLiveValidation();
  const workflowId = useEditor((s) => s.workflow?.id ?? null);
  const edges = useEditor((s) => s.graph.edges);
  useLiveRuns(workflowId, edges);
  const viewer = useVersionViewer(workflowId ?? 0);
  useEffect(() => {
    // a node opened while an old version is viewed shows over the history panel (SidePanel)
    const keep = (p: Panel) => p === "history" && useEditor.getState().readOnly;
    if (openNodeId) setPanel((p) => (p === "settings" || p === "history" || p === "simulate") && !keep(p) ? null : p);
  }, [openNodeId]);
  useEffect(() => {
    if (panel !== "history") viewer.backToCurrent(); // leaving the history panel leaves the old version
  }, [panel]); // eslint-disable-line react-hooks/exhaustive-deps
  const handlers = useMemo(() => ({ flow, onSave: () => void doSave(), onHelp: () => setPanel("help") }), [flow, doSave]);
  useShortcuts(handlers);
  const openPanel = (p: Panel) => {
    if (p === "settings" || p === "history" || p === "simulate") useEditor.getState().setOpenNode(null);
    setPanel(p);
  };
  const replaceGraph = (graph: WorkflowGraph) => {
    useEditor.getState().edit(() => graph);
    setPanel(null);
    setTimeout(() => flow.fitView({ padding: 0.2, maxZoom: 1.2 }), 50);
  };
  return (
    <div className="editor-page">
      <Toolbar onSave={() => void doSave()} onToggleActive={toggleActive} onPanel={openPanel} saving={saving} />
      {readOnly && <ReadOnlyBanner onBack={viewer.viewing !== null ? viewer.backToCurrent : undefined} />}
      <div className="editor-body">
        <Palette />
        <div className="canvas-wrap">
          <Canvas />
          <Notice />
        </div>
        <SidePanel panel={panel} onClose={() => setPanel(null)} viewer={viewer} />
      </div>
      {panel === "import" && (
        <ImportDialog onClose={() => setPanel(null)} onImported={(wf) => navigate(`/workflows/${wf.id}`)} onReplace={replaceGraph} />
      )}
      {panel === "help" && <HelpDialog onClose={() => setPanel(null)} />}
      {waiting && workflowId && (
        <PublishDialog workflowId={workflowId} waiting={waiting} onClose={(message) => {
          setWaiting(null);
          if (message) useEditor.getState().setNotice(message);
        }} />
      )}
      {conflict && (
        <ConflictDialog conflict={conflict} onClose={() => setConflict(null)}
          onOverwrite={() => {
            setConflict(null);
            void doSave(conflict.current_version);
          }} />
      )}
    </div>
  );
}
