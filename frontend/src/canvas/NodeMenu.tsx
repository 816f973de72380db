/**
 * A node's right-click menu: open its settings, disable / enable, duplicate, delete. Like the
 * shortcuts, the edits act on the selection, and a right-click on a node outside the selection
 * selects that node first (the habit of file managers and of n8n).
 */
import { Copy, Power, PowerOff, Settings2, Trash2 } from "lucide-react";
import { type KeyboardEvent as KeyEvent, type ReactNode, useEffect, useRef } from "react";
import { useEditor } from "../store/editor";
import * as cmd from "./commands";

export interface MenuAt {
  nodeId: string;
  x: number;
  y: number;
}

/** Where the menu opens for a right-click on `nodeId`; selects the node unless it is already in the selection. */
export function menuFor(nodeId: string, x: number, y: number): MenuAt {
  const store = useEditor.getState();
  if (!store.selected[nodeId]) store.select([nodeId]);
  return { nodeId, x, y };
}

function Item({ id, icon, label, keys, onClick }: { id: string; icon: ReactNode; label: string; keys: string; onClick: () => void }) {
  return (
    <button type="button" role="menuitem" className="node-menu-item" data-menu={id} onClick={onClick}>
      {icon}
      <span>{label}</span>
      <kbd>{keys}</kbd>
    </button>
  );
}

function useCloseOnOutside(onClose: () => void) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const onDown = (e: MouseEvent) => !ref.current?.contains(e.target as Node) && onClose();
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("mousedown", onDown, true);
    window.addEventListener("keydown", onKey);
    window.addEventListener("blur", onClose);
    return () => {
      window.removeEventListener("mousedown", onDown, true);
      window.removeEventListener("keydown", onKey);
      window.removeEventListener("blur", onClose);
    };
  }, [onClose]);
  useEffect(() => ref.current?.querySelector<HTMLElement>("[role=menuitem]")?.focus(), []);
  return ref;
}

/** Arrow keys move between the items, Escape closes; keys stay in the menu (not canvas shortcuts). */
function onMenuKey(e: KeyEvent<HTMLDivElement>, onClose: () => void) {
  e.stopPropagation();
  if (e.key === "Escape") return onClose();
  if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
  e.preventDefault();
  const items = [...e.currentTarget.querySelectorAll<HTMLElement>("[role=menuitem]")];
  const at = items.indexOf(document.activeElement as HTMLElement);
  items[(at + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length]?.focus();
}

export function NodeMenu({ at, onClose }: { at: MenuAt; onClose: () => void }) {
  const readOnly = useEditor((s) => s.readOnly);
  const nodes = useEditor((s) => s.graph.nodes);
  const selected = useEditor((s) => s.selected);
  const targets = nodes.filter((n) => selected[n.id] || n.id === at.nodeId);
  const ref = useCloseOnOutside(onClose);
  if (!targets.length) return null;
  const enable = targets.every((n) => n.disabled);
  const what = targets.length > 1 ? ` ${targets.length} nodes` : "";
  const run = (action: () => void) => () => {
    onClose();
    action();
  };
  const store = useEditor.getState();
  // Keep the menu on screen near the pointer.
  const style = { left: Math.min(at.x, window.innerWidth - 230), top: Math.min(at.y, window.innerHeight - 170) };
  return (
    <div className="node-menu" role="menu" id="node-menu" data-menu-for={at.nodeId} ref={ref} style={style}
      onContextMenu={(e) => e.preventDefault()} onKeyDown={(e) => onMenuKey(e, onClose)}>
      <Item id="open" icon={<Settings2 size={14} />} label="Open settings" keys="Enter" onClick={run(() => store.setOpenNode(at.nodeId))} />
      {!readOnly && (
        <>
          <Item id="toggle-disabled" icon={enable ? <Power size={14} /> : <PowerOff size={14} />} label={`${enable ? "Enable" : "Disable"}${what}`}
            keys="D" onClick={run(() => store.toggleDisabled(targets.map((n) => n.id)))} />
          <Item id="duplicate" icon={<Copy size={14} />} label={`Duplicate${what}`} keys="Ctrl+D" onClick={run(cmd.duplicate)} />
          <Item id="delete" icon={<Trash2 size={14} />} label={`Delete${what}`} keys="Del" onClick={run(store.removeSelected)} />
        </>
      )}
    </div>
  );
}
