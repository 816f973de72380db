/**
 * Editor commands shared by the toolbar, the keyboard shortcuts and the clipboard events:
 * each is one store edit (so one undo step).
 */
import type { ReactFlowInstance } from "@xyflow/react";
import { redo, undo, useEditor } from "../store/editor";
import { allIds, notesOf, parseClip, subgraph, withNotes } from "../store/graphOps";
import { freshId } from "./ports";
import type { WorkflowGraph, XY } from "../store/types";
import { layoutPositions } from "./layout";
import { setPositions } from "../store/graphOps";

const CLIP_KEY = "flowmarket.clipboard";
let pasteCount = 0;

function selectedIds(): Set<string> {
  return new Set(Object.keys(useEditor.getState().selected));
}

/** The selection as graph JSON text (what goes to the clipboard), or "" when nothing is selected. */
export function copyText(): string {
  const ids = selectedIds();
  const clip = subgraph(useEditor.getState().graph, ids);
  if (!clip.nodes.length && !clip.ui?.notes?.length) return "";
  const text = JSON.stringify(clip, null, 2);
  try {
    localStorage.setItem(CLIP_KEY, text);
  } catch {
    /* private mode: the system clipboard still has it */
  }
  pasteCount = 0;
  return text;
}

/** Paste graph JSON text (from the clipboard, or the last copy when `text` is empty). */
export function pasteText(text: string | null | undefined): boolean {
  let clip = parseClip(text ?? "");
  if (!clip) {
    try {
      clip = parseClip(localStorage.getItem(CLIP_KEY) ?? "");
    } catch {
      clip = null;
    }
  }
  if (!clip) return false;
  pasteCount += 1;
  useEditor.getState().pasteGraph(clip, { x: 40 * pasteCount, y: 40 * pasteCount });
  return true;
}

export function cut(): string {
  const text = copyText();
  useEditor.getState().removeSelected();
  return text;
}

export function duplicate(): void {
  const clip = subgraph(useEditor.getState().graph, selectedIds());
  if (clip.nodes.length || clip.ui?.notes?.length) useEditor.getState().pasteGraph(clip, { x: 40, y: 40 });
}

export function selectAll(): void {
  useEditor.getState().select(allIds(useEditor.getState().graph));
}

/** Lay out the selection (two or more nodes) or else the whole graph, as one undo step. */
export function autoLayout(): void {
  const { graph, measured } = useEditor.getState();
  const ids = new Set([...selectedIds()].filter((id) => graph.nodes.some((n) => n.id === id)));
  const positions = layoutPositions(graph, measured, ids.size >= 2 ? ids : undefined);
  useEditor.getState().edit((g) => setPositions(g, positions));
}

export function addNote(at: XY): void {
  const id = freshId("note", allIds(useEditor.getState().graph));
  useEditor.getState().edit((g: WorkflowGraph) => withNotes(g, [...notesOf(g), { id, text: "", position: at, width: 220, height: 120 }]));
  useEditor.getState().select([id]);
}

export function fit(flow: ReactFlowInstance | null): void {
  flow?.fitView({ padding: 0.2, maxZoom: 1.2, duration: 200 });
}

export { redo, undo };
