/** A sticky note on the canvas: free text, edited in place, resizable; stored in the graph's ui.notes. */
import { NodeResizer, type NodeProps } from "@xyflow/react";
import { memo, useEffect, useState } from "react";
import { useEditor } from "../../store/editor";
import { notesOf, withNotes } from "../../store/graphOps";
import type { StickyNote } from "../../store/types";
import type { NoteNode } from "../convert";

function patchNote(id: string, patch: Partial<StickyNote>) {
  useEditor.getState().edit((g) => withNotes(g, notesOf(g).map((n) => (n.id === id ? { ...n, ...patch } : n))));
}

export const NoteCard = memo(({ id, data, selected }: NodeProps<NoteNode>) => {
  const [text, setText] = useState(data.note.text);
  const readOnly = useEditor((s) => s.readOnly);
  useEffect(() => setText(data.note.text), [data.note.text]);
  return (
    <div className={`note-node${selected ? " selected" : ""}`}>
      <NodeResizer
        isVisible={selected && !readOnly}
        minWidth={140}
        minHeight={80}
        onResizeEnd={(_, p) => patchNote(id, { width: Math.round(p.width), height: Math.round(p.height), position: { x: Math.round(p.x), y: Math.round(p.y) } })}
      />
      <textarea
        className="note-text nodrag nowheel"
        dir="auto"
        aria-label="Note"
        value={text}
        readOnly={readOnly}
        placeholder="Write a note…"
        onChange={(e) => setText(e.target.value)}
        onBlur={() => text !== data.note.text && patchNote(id, { text })}
      />
    </div>
  );
});
