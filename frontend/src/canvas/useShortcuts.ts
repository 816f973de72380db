/** Keyboard shortcuts and clipboard events for the canvas (ignored while typing in a field). */
import { type ReactFlowInstance } from "@xyflow/react";
import { useEffect } from "react";
import { useEditor } from "../store/editor";
import * as cmd from "./commands";

export const SHORTCUTS: [string, string][] = [
  ["Ctrl/⌘ + Z", "Undo"],
  ["Ctrl/⌘ + Shift + Z, Ctrl + Y", "Redo"],
  ["Ctrl/⌘ + S", "Save"],
  ["Ctrl/⌘ + C / X / V", "Copy / cut / paste (graph JSON)"],
  ["Ctrl/⌘ + D", "Duplicate the selection"],
  ["Ctrl/⌘ + A", "Select everything"],
  ["D", "Disable / enable the selected nodes (runs pass through a disabled node)"],
  ["Delete, Backspace", "Delete the selection"],
  ["Shift + click, drag on empty canvas", "Add to the selection / box-select"],
  ["Shift + L", "Auto-layout (the selection, or everything)"],
  ["1", "Zoom to fit"],
  ["N", "Add a sticky note"],
  ["/", "Search the palette"],
  ["Enter", "Open the selected node"],
  ["Escape", "Close the panel, clear the selection"],
  ["?", "This list"],
];

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName) || !!el.closest?.(".cm-editor"));
}

interface Handlers {
  flow: ReactFlowInstance | null;
  onSave: () => void;
  onHelp: () => void;
}

function keyAction(e: KeyboardEvent, { flow, onSave, onHelp }: Handlers): (() => void) | null {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.toLowerCase();
  const store = useEditor.getState();
  if (mod && key === "s") return onSave;
  if (mod && key === "z") return e.shiftKey ? cmd.redo : cmd.undo;
  if (mod && key === "y") return cmd.redo;
  if (mod && key === "d") return cmd.duplicate;
  if (mod && key === "a") return cmd.selectAll;
  if (mod && key === "c") {
    cmd.copyText(); // also kept for pasting when the system clipboard is not available
    return null;
  }
  if (mod) return null;
  if (e.key === "Delete" || e.key === "Backspace") return store.removeSelected;
  if (key === "d" && !e.shiftKey) return () => store.toggleDisabled();
  if (e.key === "?") return onHelp;
  if (e.shiftKey && key === "l") return cmd.autoLayout;
  if (e.key === "1") return () => cmd.fit(flow);
  if (key === "n" && flow) {
    const p = flow.screenToFlowPosition({ x: window.innerWidth / 2, y: window.innerHeight / 2 });
    return () => cmd.addNote({ x: Math.round(p.x), y: Math.round(p.y) });
  }
  if (e.key === "/") return () => document.getElementById("palette-search")?.focus();
  if (e.key === "Escape") return () => useEditor.setState({ selected: {}, openNodeId: null, addFrom: null });
  if (e.key === "Enter") {
    const first = Object.keys(store.selected).find((id) => store.graph.nodes.some((n) => n.id === id));
    return first ? () => store.setOpenNode(first) : null;
  }
  return null;
}

export function useShortcuts(handlers: Handlers): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (typing(e.target)) return;
      const action = keyAction(e, handlers);
      if (!action) return;
      e.preventDefault();
      action();
    };
    const onCopy = (e: ClipboardEvent) => {
      if (typing(e.target)) return;
      const text = e.type === "cut" ? cmd.cut() : cmd.copyText();
      if (!text) return;
      e.clipboardData?.setData("text/plain", text);
      e.preventDefault();
    };
    const onPaste = (e: ClipboardEvent) => {
      if (typing(e.target) || useEditor.getState().readOnly) return;
      if (cmd.pasteText(e.clipboardData?.getData("text/plain"))) e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    document.addEventListener("copy", onCopy);
    document.addEventListener("cut", onCopy);
    document.addEventListener("paste", onPaste);
    return () => {
      window.removeEventListener("keydown", onKey);
      document.removeEventListener("copy", onCopy);
      document.removeEventListener("cut", onCopy);
      document.removeEventListener("paste", onPaste);
    };
  }, [handlers]);
}
