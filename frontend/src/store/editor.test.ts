import { beforeEach, describe, expect, test } from "vitest";
import { autoLayout, duplicate } from "../canvas/commands";
import { DEFAULT_SIZE, layoutPositions, overlaps } from "../canvas/layout";
import { coupon, TYPES } from "../test/fixtures";
import { isDirty, redo, undo, useEditor } from "./editor";
import { graphToFlow } from "../canvas/convert";
import { parseClip, pasteInto, setDisabled, subgraph } from "./graphOps";
import type { Workflow } from "./types";

const history = () => useEditor.temporal.getState();

beforeEach(() => {
  const wf: Workflow = { id: 1, name: "Coupon request", status: "draft", version: 1, graph: coupon() };
  useEditor.getState().open(wf);
});

describe("undo history", () => {
  test("every edit is one step; undo and redo walk them; back at the start it is not dirty", () => {
    const s = useEditor.getState();
    s.addNode(TYPES["action.send_message"], { x: 900, y: 0 }, { node: "send", port: "out" });
    s.updateNode("send", { title: "Coupon" });
    expect(useEditor.getState().graph.nodes).toHaveLength(4);
    expect(useEditor.getState().graph.edges).toHaveLength(3);
    expect(history().pastStates).toHaveLength(2);
    undo();
    expect(useEditor.getState().graph.nodes.find((n) => n.id === "send")?.title).toBeUndefined();
    undo();
    expect(useEditor.getState().graph.nodes).toHaveLength(3);
    expect(isDirty(useEditor.getState())).toBe(false);
    redo();
    redo();
    expect(useEditor.getState().graph.nodes.find((n) => n.id === "send")?.title).toBe("Coupon");
  });

  test("typing into one field is one step; selection changes are none", () => {
    const s = useEditor.getState();
    for (const text of ["H", "Hi", "Hi {{"]) s.updateNode("send", { params: { text } });
    s.select(["send"]);
    expect(history().pastStates).toHaveLength(1);
    undo();
    expect(useEditor.getState().graph.nodes[2].params).toEqual({ text: "{{ user.first_name }}, your code: SAVE10" });
  });

  test("a drag is recorded once, when it ends", () => {
    const s = useEditor.getState();
    for (let x = 0; x <= 50; x += 10) s.dragMove(new Map([["send", { x: 600 + x, y: 0 }]]), false);
    s.dragMove(new Map(), true);
    expect(history().pastStates).toHaveLength(1);
    expect(useEditor.getState().graph.nodes[2].position).toEqual({ x: 650, y: 0 });
    undo();
    expect(useEditor.getState().graph.nodes[2].position).toEqual({ x: 600, y: 0 });
  });

  test("refused connections change nothing and say why", () => {
    expect(useEditor.getState().connect({ source: "send", target: "trigger" }, TYPES)).toMatch(/trigger/);
    expect(history().pastStates).toHaveLength(0);
    expect(useEditor.getState().notice).toMatch(/trigger/);
  });

  test("auto-layout of everything is one undoable step with no overlaps", () => {
    const s = useEditor.getState();
    s.edit((g) => ({ ...g, nodes: g.nodes.map((n) => ({ ...n, position: { x: 0, y: 0 } })) }));
    autoLayout();
    const boxes = useEditor.getState().graph.nodes.map((n) => ({ ...n.position!, ...DEFAULT_SIZE }));
    expect(overlaps(boxes)).toBe(false);
    undo();
    expect(useEditor.getState().graph.nodes.every((n) => n.position?.x === 0)).toBe(true);
  });
});

describe("clipboard", () => {
  test("copy = subgraph JSON; paste renames ids and keeps inner edges", () => {
    const g = coupon();
    const clip = parseClip(JSON.stringify(subgraph(g, new Set(["interested", "send"]))))!;
    expect(clip.edges.map((e) => e.id)).toEqual(["e2"]);
    const { graph, ids } = pasteInto(g, clip, { x: 40, y: 40 });
    expect(ids).toEqual(["interested_2", "send_2"]);
    expect(graph.edges.at(-1)).toEqual({ id: "e2_2", source: "interested_2", source_port: "true", target: "send_2" });
    expect(graph.nodes.at(-1)?.position).toEqual({ x: 640, y: 40 });
    expect(parseClip("not json")).toBeNull();
  });

  test("duplicate pastes the selection next to it and selects the copies", () => {
    useEditor.getState().select(["send"]);
    duplicate();
    expect(Object.keys(useEditor.getState().selected)).toEqual(["send_2"]);
  });

  test("a selection's layout keeps its top-left corner", () => {
    const g = coupon();
    const pos = layoutPositions(g, {}, new Set(["interested", "send"]));
    expect(Math.min(...[...pos.values()].map((p) => p.x))).toBe(300);
    expect(pos.has("trigger")).toBe(false);
  });
});

describe("disabling nodes", () => {
  const disabled = () => useEditor.getState().graph.nodes.filter((n) => n.disabled).map((n) => n.id);

  test("the selection is switched off in one undo step; on again, the graph is as saved", () => {
    const s = useEditor.getState();
    s.select(["interested", "send"]);
    s.toggleDisabled();
    expect(disabled()).toEqual(["interested", "send"]);
    expect(history().pastStates).toHaveLength(1);
    s.toggleDisabled();
    expect(disabled()).toEqual([]);
    expect(useEditor.getState().graph.nodes.some((n) => "disabled" in n)).toBe(false);
    expect(useEditor.getState().graph).toEqual(useEditor.getState().savedGraph);
    undo();
    expect(disabled()).toEqual(["interested", "send"]);
    undo();
    expect(disabled()).toEqual([]);
    expect(isDirty(useEditor.getState())).toBe(false);
  });

  test("a mixed selection is disabled first; notes and edges in it are left alone", () => {
    const s = useEditor.getState();
    s.toggleDisabled(["send"]);
    s.select(["send", "trigger", "e1"]);
    s.toggleDisabled();
    expect(disabled()).toEqual(["trigger", "send"]);
    expect(useEditor.getState().graph.edges).toEqual(coupon().edges);
  });

  test("nothing to toggle, or a read-only view: no edit", () => {
    useEditor.getState().toggleDisabled([]);
    useEditor.getState().toggleDisabled(["no-such-node"]);
    expect(history().pastStates).toHaveLength(0);
    useEditor.getState().open(useEditor.getState().workflow!, { readOnly: true });
    useEditor.getState().toggleDisabled(["send"]);
    expect(disabled()).toEqual([]);
  });

  test("a disabled node is marked on its canvas element", () => {
    const graph = setDisabled(coupon(), new Set(["send"]), true);
    const { nodes } = graphToFlow(graph, { types: TYPES });
    expect(nodes.map((n) => n.domAttributes?.["data-disabled" as never])).toEqual([undefined, undefined, "true"]);
  });
});
