/** The palette: node types from the registry grouped by category, searchable; drag onto the canvas or click to add. */
import { useReactFlow } from "@xyflow/react";
import { Search } from "lucide-react";
import { useMemo, useState } from "react";
import { TYPE_MIME } from "../canvas/Canvas";
import { DEFAULT_SIZE } from "../canvas/layout";
import { useEditor } from "../store/editor";
import { useNodeTypes } from "../store/nodeTypes";
import type { NodeType } from "../store/types";
import { TypeIcon } from "../ui/icons";

const CATEGORY_TITLES: Record<string, string> = {
  trigger: "Triggers",
  logic: "Logic",
  flow: "Flow",
  action: "Actions",
};

export function matchesQuery(type: NodeType, query: string): boolean {
  const q = query.trim().toLowerCase();
  return !q || [type.title, type.description, type.type].some((s) => s.toLowerCase().includes(q));
}

/** Where a node added by click goes: after the "+" port it came from, else the viewport's centre. */
function placeFor(from: { node: string; port: string } | null, center: { x: number; y: number }) {
  const graph = useEditor.getState().graph;
  const source = from && graph.nodes.find((n) => n.id === from.node);
  if (!source) return { x: Math.round(center.x - DEFAULT_SIZE.width / 2), y: Math.round(center.y - 30) };
  const siblings = graph.edges.filter((e) => e.source === source.id).length;
  const p = source.position ?? { x: 0, y: 0 };
  return { x: p.x + 320, y: p.y + siblings * 100 };
}

function useAddNode() {
  const flow = useReactFlow();
  return (type: NodeType) => {
    const rect = document.querySelector(".react-flow")?.getBoundingClientRect();
    const center = flow.screenToFlowPosition({ x: (rect?.left ?? 0) + (rect?.width ?? 800) / 2, y: (rect?.top ?? 0) + (rect?.height ?? 600) / 2 });
    const from = useEditor.getState().addFrom;
    useEditor.getState().addNode(type, placeFor(from, center), from ?? undefined);
    useEditor.getState().setAddFrom(null);
  };
}

export function Palette() {
  const [query, setQuery] = useState("");
  const list = useNodeTypes((s) => s.list);
  const addFrom = useEditor((s) => s.addFrom);
  const readOnly = useEditor((s) => s.readOnly);
  const add = useAddNode();
  const groups = useMemo(() => {
    const shown = list.filter((t) => matchesQuery(t, query) && !(addFrom && t.category === "trigger"));
    return Object.keys(CATEGORY_TITLES)
      .map((cat) => ({ cat, types: shown.filter((t) => t.category === cat) }))
      .filter((g) => g.types.length);
  }, [list, query, addFrom]);
  if (readOnly) return null;
  return (
    <aside className="palette" aria-label="Node palette">
      <div className="palette-search">
        <Search size={14} />
        <input id="palette-search" type="search" placeholder="Search nodes…" value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => e.key === "Enter" && groups[0] && add(groups[0].types[0])} />
      </div>
      {addFrom && (
        <div className="palette-hint" data-add-from={`${addFrom.node}:${addFrom.port}`}>
          Pick a node to add after <code>{addFrom.node}</code> · {addFrom.port}
          <button className="link" onClick={() => useEditor.getState().setAddFrom(null)}>
            cancel
          </button>
        </div>
      )}
      <div className="palette-groups">
        {groups.map(({ cat, types }) => (
          <section key={cat} className="palette-group">
            <h3>{CATEGORY_TITLES[cat]}</h3>
            {types.map((t) => <PaletteItem key={t.type} type={t} onAdd={add} />)}
          </section>
        ))}
        {!groups.length && <p className="muted small palette-empty">No node matches “{query}”.</p>}
      </div>
    </aside>
  );
}

function PaletteItem({ type: t, onAdd }: { type: NodeType; onAdd: (t: NodeType) => void }) {
  return (
    <button
      className={`palette-item cat-${t.category}`}
      data-palette-type={t.type}
      draggable
      onDragStart={(e) => {
        e.dataTransfer.setData(TYPE_MIME, t.type);
        e.dataTransfer.effectAllowed = "move";
      }}
      onClick={() => onAdd(t)}
      title={t.description}
    >
      <span className="palette-icon">
        <TypeIcon name={t.icon} />
      </span>
      <span className="palette-text">
        <strong>{t.title}</strong>
        <span className="muted small">{t.description}</span>
      </span>
    </button>
  );
}
