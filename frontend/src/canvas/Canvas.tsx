/** The React Flow canvas: renders the store's graph and turns canvas gestures into store edits. */
import {
  Background, BackgroundVariant, type Connection, Controls, type EdgeChange, MiniMap, type NodeChange,
  ReactFlow, useReactFlow,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { type DragEvent, type MouseEvent, useCallback, useState } from "react";
import { useEditor } from "../store/editor";
import { useNodeTypes } from "../store/nodeTypes";
import type { XY } from "../store/types";
import { connectionProblem } from "./ports";
import { type MenuAt, menuFor, NodeMenu } from "./NodeMenu";
import { NODE_COMPONENTS } from "./nodes";
import { SimScale } from "../simulate/SimScale";
import { useFlowElements } from "./useFlowElements";

export const TYPE_MIME = "application/x-flowmarket-node-type";
export const GRID: [number, number] = [20, 20];

function applyNodeChanges(changes: NodeChange[]) {
  const store = useEditor.getState();
  const moved = new Map<string, XY>();
  let selection: Record<string, boolean> | null = null;
  let sizes: Record<string, { width: number; height: number }> | null = null;
  for (const c of changes) {
    if (c.type === "position" && c.position) moved.set(c.id, { x: Math.round(c.position.x), y: Math.round(c.position.y) });
    else if (c.type === "select") {
      selection ??= { ...store.selected };
      if (c.selected) selection[c.id] = true;
      else delete selection[c.id];
    } else if (c.type === "dimensions" && c.dimensions) {
      sizes ??= { ...store.measured };
      sizes[c.id] = c.dimensions;
    }
  }
  if (moved.size) store.dragMove(moved, false);
  if (selection) useEditor.setState({ selected: selection });
  if (sizes) useEditor.setState({ measured: sizes });
}

function applyEdgeChanges(changes: EdgeChange[]) {
  const selection = { ...useEditor.getState().selected };
  let touched = false;
  for (const c of changes) {
    if (c.type !== "select") continue;
    touched = true;
    if (c.selected) selection[c.id] = true;
    else delete selection[c.id];
  }
  if (touched) useEditor.setState({ selected: selection });
}

const endDrag = () => useEditor.getState().dragMove(new Map(), true);

/** The connection check (the reason goes to the notice) and the palette drop. */
function useCanvasHandlers() {
  const types = useNodeTypes((s) => s.byType);
  const flow = useReactFlow();
  const isValidConnection = useCallback(
    (conn: Connection | { source: string; target: string; sourceHandle?: string | null }) => {
      const store = useEditor.getState();
      const problem = connectionProblem(store.graph, types, conn);
      if (problem && store.notice !== problem) store.setNotice(problem);
      return problem === null;
    },
    [types],
  );
  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = useNodeTypes.getState().byType[event.dataTransfer.getData(TYPE_MIME)];
      if (!type) return;
      event.preventDefault();
      const p = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      useEditor.getState().addNode(type, { x: Math.round(p.x - 110), y: Math.round(p.y - 30) });
    },
    [flow],
  );
  const onConnect = useCallback((conn: Connection) => useEditor.getState().connect(conn, types), [types]);
  return { isValidConnection, onDrop, onConnect };
}

const onDragOver = (e: DragEvent) => {
  e.preventDefault();
  e.dataTransfer.dropEffect = "move";
};
const openNode = (_: unknown, node: { id: string; type?: string }) => node.type !== "note" && useEditor.getState().setOpenNode(node.id);

export function Canvas() {
  const { nodes, edges } = useFlowElements();
  const readOnly = useEditor((s) => s.readOnly);
  const { isValidConnection, onDrop, onConnect } = useCanvasHandlers();
  const [menu, setMenu] = useState<MenuAt | null>(null);
  const closeMenu = useCallback(() => setMenu(null), []);
  const onNodeContextMenu = useCallback((e: MouseEvent, node: { id: string; type?: string }) => {
    if (node.type === "note") return;
    e.preventDefault();
    setMenu(menuFor(node.id, e.clientX, e.clientY));
  }, []);
  // Fit the view once on open (an empty canvas must not re-fit when its first node arrives).
  const [fitOnOpen] = useState(() => useEditor.getState().graph.nodes.length > 0);
  return (
    <>
    <ReactFlow
      nodes={nodes} edges={edges} nodeTypes={NODE_COMPONENTS}
      onNodesChange={applyNodeChanges} onEdgesChange={applyEdgeChanges}
      onNodeDragStop={endDrag} onSelectionDragStop={endDrag}
      onConnect={onConnect} isValidConnection={isValidConnection}
      onNodeDoubleClick={openNode} onPaneClick={() => useEditor.getState().setAddFrom(null)}
      onNodeContextMenu={onNodeContextMenu} onMoveStart={closeMenu}
      onDrop={onDrop} onDragOver={onDragOver}
      nodesDraggable={!readOnly} nodesConnectable={!readOnly}
      // Read-only nodes are not draggable, so a double-click on one reaches the pane's zoom, which
      // swallows it: no zoom on double-click there, so the node still opens (read-only).
      zoomOnDoubleClick={!readOnly}
      deleteKeyCode={null} selectionKeyCode={null} multiSelectionKeyCode={["Shift", "Meta", "Control"]}
      selectionOnDrag panOnDrag={[1, 2]} panOnScroll
      snapToGrid snapGrid={GRID}
      fitView={fitOnOpen} fitViewOptions={{ padding: 0.2, maxZoom: 1.2 }} minZoom={0.1} maxZoom={2}
      proOptions={{ hideAttribution: true }}
    >
      <Background variant={BackgroundVariant.Dots} gap={GRID[0]} size={1.2} color="#c9ced6" />
      <Controls showInteractive={false} position="bottom-left" />
      <SimScale />
      <MiniMap pannable zoomable position="bottom-right" nodeStrokeWidth={2} nodeColor={minimapColor} style={{ width: 168, height: 112 }} />
    </ReactFlow>
    {menu && <NodeMenu at={menu} onClose={closeMenu} />}
    </>
  );
}

const CATEGORY_COLORS: Record<string, string> = {
  trigger: "#f59e0b",
  logic: "#8b5cf6",
  flow: "#06b6d4",
  action: "#3b82f6",
  note: "#fde68a",
};

function minimapColor(node: { type?: string }): string {
  return CATEGORY_COLORS[node.type ?? "action"] ?? "#94a3b8";
}
