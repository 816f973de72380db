/** The editor's toolbar: name, status, undo/redo, layout, notes, import/export, history, save, activate. */
import { useReactFlow } from "@xyflow/react";
import {
  ArrowLeft, Download, FlaskConical, History, Keyboard, LayoutGrid, Maximize, Pause, Play, Redo2, Save, Settings,
  StickyNote, Undo2, Upload,
} from "lucide-react";
import { useStore } from "zustand";
import { Link } from "../router";
import { isDirty, useEditor } from "../store/editor";
import { graphForSave } from "../store/persist";
import { downloadJson } from "../lib/format";
import { ModeChip } from "../ui/ModeChip";
import * as cmd from "./commands";

export type Panel = "settings" | "history" | "import" | "help" | "simulate" | null;

interface Props {
  onSave: () => void;
  onToggleActive: () => void;
  onPanel: (panel: Panel) => void;
  saving: boolean;
}

function Btn({ label, onClick, disabled, children, id }: { label: string; onClick: () => void; disabled?: boolean; children: React.ReactNode; id?: string }) {
  return (
    <button className="tool" title={label} aria-label={label} onClick={onClick} disabled={disabled} id={id}>
      {children}
    </button>
  );
}

function EditTools({ readOnly }: { readOnly: boolean }) {
  const canUndo = useStore(useEditor.temporal, (s) => s.pastStates.length > 0);
  const canRedo = useStore(useEditor.temporal, (s) => s.futureStates.length > 0);
  const flow = useReactFlow();
  const addNote = () => {
    const p = flow.screenToFlowPosition({ x: window.innerWidth / 2, y: window.innerHeight / 2 });
    cmd.addNote({ x: Math.round(p.x), y: Math.round(p.y) });
  };
  return (
    <>
      <div className="tool-group">
        <Btn label="Undo (Ctrl+Z)" onClick={cmd.undo} disabled={!canUndo || readOnly} id="undo"><Undo2 size={16} /></Btn>
        <Btn label="Redo (Ctrl+Shift+Z)" onClick={cmd.redo} disabled={!canRedo || readOnly} id="redo"><Redo2 size={16} /></Btn>
      </div>
      <div className="tool-group">
        <Btn label="Auto-layout (Shift+L)" onClick={cmd.autoLayout} disabled={readOnly} id="auto-layout"><LayoutGrid size={16} /></Btn>
        <Btn label="Zoom to fit (1)" onClick={() => cmd.fit(flow)} id="zoom-fit"><Maximize size={16} /></Btn>
        <Btn label="Add a sticky note (N)" disabled={readOnly} id="add-note" onClick={addNote}><StickyNote size={16} /></Btn>
      </div>
    </>
  );
}

function FileTools({ readOnly, onPanel, slug }: { readOnly: boolean; onPanel: (p: Panel) => void; slug: string }) {
  return (
    <div className="tool-group">
      <Btn label="Import" onClick={() => onPanel("import")} disabled={readOnly} id="import"><Upload size={16} /></Btn>
      <Btn label="Export JSON" onClick={() => downloadJson(`${slug}.workflow.json`, graphForSave())} id="export"><Download size={16} /></Btn>
      <Btn label="Version history" onClick={() => onPanel("history")} id="history"><History size={16} /></Btn>
      <Btn label="Workflow settings" onClick={() => onPanel("settings")} id="settings"><Settings size={16} /></Btn>
      <Btn label="Keyboard shortcuts (?)" onClick={() => onPanel("help")} id="shortcuts"><Keyboard size={16} /></Btn>
    </div>
  );
}

function TitleBlock({ readOnly }: { readOnly: boolean }) {
  const workflow = useEditor((s) => s.workflow)!;
  const name = useEditor((s) => s.graph.name ?? s.workflow?.name ?? "");
  const dirty = useEditor(isDirty);
  const errorCount = useEditor((s) => s.report?.errors.length ?? 0);
  return (
    <>
      <Link href="/workflows" className="tool back" aria-label="Back to the workflows">
        <ArrowLeft size={16} />
      </Link>
      <input className="wf-name" id="workflow-name" dir="auto" aria-label="Workflow name" value={name} readOnly={readOnly}
        onChange={(e) => useEditor.getState().edit((g) => ({ ...g, name: e.target.value }), "name")} />
      <span className={`status status-${workflow.status}`} id="workflow-status">
        {workflow.status}
      </span>
      <span className="muted small" id="workflow-version">
        v{workflow.version}
        {dirty && <span className="dirty" title="Unsaved changes"> · unsaved</span>}
      </span>
      {errorCount > 0 && (
        <span className="error-pill" id="error-count" title="Validation errors">
          {errorCount} {errorCount === 1 ? "problem" : "problems"}
        </span>
      )}
    </>
  );
}

export function Toolbar({ onSave, onToggleActive, onPanel, saving }: Props) {
  const active = useEditor((s) => s.workflow?.status === "active");
  const name = useEditor((s) => s.graph.name ?? s.workflow?.name ?? "");
  const dirty = useEditor(isDirty);
  const readOnly = useEditor((s) => s.readOnly);
  const errorCount = useEditor((s) => s.report?.errors.length ?? 0);
  const slug = name.toLowerCase().replace(/[^a-z0-9\u0600-\u06ff]+/g, "-").replace(/^-|-$/g, "") || "workflow";
  return (
    <header className="editor-toolbar">
      <TitleBlock readOnly={readOnly} />
      <div className="toolbar-spacer" />
      <EditTools readOnly={readOnly} />
      <FileTools readOnly={readOnly} onPanel={onPanel} slug={slug} />
      <ModeChip />
      <button className="btn" id="simulate" onClick={() => onPanel("simulate")} title="Replay the last days' events through this graph">
        <FlaskConical size={15} /> Simulate
      </button>
      <button className="btn" id="save" onClick={onSave} disabled={readOnly || saving || !dirty}>
        <Save size={15} /> {saving ? "Saving…" : "Save"}
      </button>
      <button className={`btn ${active ? "" : "primary"}`} id="toggle-active" onClick={onToggleActive} disabled={readOnly}
        title={errorCount ? "Fix the problems first" : undefined}>
        {active ? <Pause size={15} /> : <Play size={15} />} {active ? "Pause" : "Activate"}
      </button>
    </header>
  );
}
