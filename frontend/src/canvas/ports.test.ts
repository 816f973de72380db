import { describe, expect, test } from "vitest";
import { coupon, TYPES } from "../test/fixtures";
import { connectionProblem, danglingEdges, edgeFor, freshId, outputPorts } from "./ports";

describe("output ports", () => {
  test("come from the registry, the error port last", () => {
    const cond = { id: "c", type: "logic.condition" };
    expect(outputPorts(cond, TYPES["logic.condition"])).toEqual(["true", "false", "error"]);
    expect(outputPorts({ id: "t", type: "trigger.message_received" }, TYPES["trigger.message_received"])).toEqual(["out"]);
  });

  test("a switch's ports follow its cases, 'default' after them", () => {
    const node = { id: "s", type: "logic.switch", params: { cases: [{ name: "vip" }, { name: "new" }] } };
    expect(outputPorts(node, TYPES["logic.switch"])).toEqual(["vip", "new", "default", "error"]);
    node.params.cases[1].name = "churned";
    expect(outputPorts(node, TYPES["logic.switch"])).toEqual(["vip", "churned", "default", "error"]);
  });

  test("A/B variants are ports", () => {
    const node = { id: "ab", type: "logic.ab_split", params: { variants: [{ name: "a", weight: 1 }, { name: "b", weight: 3 }] } };
    expect(outputPorts(node, TYPES["logic.ab_split"])).toEqual(["a", "b", "error"]);
  });
});

describe("connection rules", () => {
  test("refuse an edge into a trigger, with the reason", () => {
    expect(connectionProblem(coupon(), TYPES, { source: "send", target: "trigger" })).toMatch(/trigger/);
  });

  test("refuse a port the node does not have", () => {
    expect(connectionProblem(coupon(), TYPES, { source: "interested", sourceHandle: "maybe", target: "send" })).toMatch(/no output port “maybe”/);
  });

  test("refuse a duplicate edge but allow the same nodes on another port", () => {
    const g = coupon();
    expect(connectionProblem(g, TYPES, { source: "interested", sourceHandle: "true", target: "send" })).toMatch(/already connected/);
    expect(connectionProblem(g, TYPES, { source: "interested", sourceHandle: "false", target: "send" })).toBeNull();
    expect(connectionProblem(g, TYPES, { source: "send", sourceHandle: "error", target: "interested" })).toBeNull();
  });

  test("refuse self-loops and unknown nodes", () => {
    expect(connectionProblem(coupon(), TYPES, { source: "send", target: "send" })).toMatch(/itself/);
    expect(connectionProblem(coupon(), TYPES, { source: "ghost", target: "send" })).toMatch(/nodes/);
  });

  test("new edges get fresh ids and omit the default port", () => {
    const g = coupon();
    expect(edgeFor(g, { source: "send", sourceHandle: "out", target: "interested" })).toEqual({ id: "e_send_interested", source: "send", target: "interested" });
    expect(edgeFor(g, { source: "interested", sourceHandle: "false", target: "send" }).source_port).toBe("false");
    expect(freshId("send", ["send", "send_2"])).toBe("send_3");
  });

  test("edges left on a removed switch case are found", () => {
    const g = coupon();
    g.nodes.push({ id: "sw", type: "logic.switch", params: { cases: [{ name: "vip" }] } });
    g.edges.push({ id: "e9", source: "sw", source_port: "gone", target: "send" });
    expect(danglingEdges(g, TYPES).map((e) => e.id)).toEqual(["e9"]);
  });
});
