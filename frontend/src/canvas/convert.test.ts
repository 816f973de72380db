import { describe, expect, test } from "vitest";
import { coupon, TYPES } from "../test/fixtures";
import { flowToGraph, graphToFlow, issuesByNode } from "./convert";

describe("graph <-> canvas", () => {
  test("nodes carry their ids, types and category component; edges their ports", () => {
    const { nodes, edges } = graphToFlow(coupon(), { types: TYPES, status: { send: "succeeded" } });
    expect(nodes.map((n) => [n.id, n.type])).toEqual([["trigger", "trigger"], ["interested", "logic"], ["send", "action"]]);
    expect(nodes[2].domAttributes).toMatchObject({ "data-node-id": "send", "data-node-type": "action.send_message", "data-status": "succeeded" });
    expect(edges.map((e) => [e.id, e.sourceHandle, e.targetHandle])).toEqual([["e1", "out", "in"], ["e2", "true", "in"]]);
    expect(edges[1].domAttributes).toMatchObject({ "data-edge-id": "e2" });
  });

  test("round trip: canvas elements back to the same graph, notes included", () => {
    const graph = { ...coupon(), ui: { notes: [{ id: "note", text: "یادداشت", position: { x: 5, y: 6 }, width: 220, height: 120 }] } };
    const { nodes, edges } = graphToFlow(graph, { types: TYPES });
    expect(nodes[0].type).toBe("note");
    const { nodes: _n, edges: _e, ...base } = graph;
    expect(flowToGraph(nodes, edges, base)).toEqual(graph);
  });

  test("moved nodes come back rounded", () => {
    const { nodes, edges } = graphToFlow(coupon(), { types: TYPES });
    nodes[1].position = { x: 310.6, y: 19.2 };
    expect(flowToGraph(nodes, edges).nodes[1].position).toEqual({ x: 311, y: 19 });
  });

  test("issues land on their node; edge issues on the edge's source", () => {
    const issues = [
      { code: "bad_params", message: "text is required", node_id: "send", path: "text" },
      { code: "bad_port", message: "no such port", edge_id: "e2" },
      { code: "no_trigger", message: "graph-wide" },
    ];
    const byNode = issuesByNode(issues, coupon());
    expect(Object.keys(byNode).sort()).toEqual(["interested", "send"]);
    const { nodes } = graphToFlow(coupon(), { types: TYPES, issues: byNode });
    expect(nodes[2].domAttributes).toMatchObject({ "data-invalid": "true" });
  });
});
