import { describe, expect, it } from "vitest";
import type { WorkflowGraph } from "../store/types";
import { edgeWidths, funnelSteps, MAX_EDGE, MIN_EDGE, progressPercent, ruleText, skipLabel, type SimResult } from "./simulate";

const graph: WorkflowGraph = {
  format: "workflow-graph/v1",
  nodes: [
    { id: "send", type: "action.send_message" },
    { id: "trigger", type: "trigger.message_received" },
    { id: "check", type: "logic.condition" },
    { id: "tag", type: "action.add_tag" },
  ],
  edges: [
    { id: "e1", source: "trigger", target: "check" },
    { id: "e2", source: "check", source_port: "true", target: "send" },
    { id: "e3", source: "send", target: "tag" },
  ],
};

const counts = (entered: number) => ({ entered, succeeded: entered, failed: 0, waiting: 0, skipped: 0 });
const result = {
  events: 10, runs: 8, outcomes: {}, nodes: { trigger: counts(8), check: counts(8), send: counts(2) },
  contacts_messaged: 2, messages: 2, sample_messages: [], skipped: { reasons: {}, samples: [] },
} as SimResult;

describe("simulate funnel", () => {
  it("orders the nodes from the trigger and gives each its share of the runs", () => {
    expect(funnelSteps(graph, result)).toEqual([
      { nodeId: "trigger", entered: 8, percent: 100 },
      { nodeId: "check", entered: 8, percent: 100 },
      { nodeId: "send", entered: 2, percent: 25 },
      { nodeId: "tag", entered: 0, percent: 0 },
    ]);
  });

  it("draws the busiest edge widest and an unused one thinnest", () => {
    const widths = edgeWidths({ e1: 100, e2: 1, e3: 0 });
    expect(widths.e1).toBe(MAX_EDGE);
    expect(widths.e3).toBe(MIN_EDGE);
    expect(widths.e2).toBeGreaterThan(MIN_EDGE);
    expect(widths.e2).toBeLessThan(widths.e1);
    expect(edgeWidths({ e1: 0 })).toEqual({ e1: MIN_EDGE });
  });

  it("reports progress as a bounded percentage", () => {
    expect(progressPercent({ done: 0, total: null })).toBe(0);
    expect(progressPercent({ done: 250, total: 1000 })).toBe(25);
    expect(progressPercent({ done: 5, total: 4 })).toBe(100);
  });

  it("says why events were skipped and what a failing rule saw", () => {
    expect(skipLabel("reentry_once_per_24_hours")).toBe("ran for this contact less than 24 h before");
    expect(skipLabel("error: GraphError")).toBe("the graph failed: GraphError");
    expect(skipLabel("not_matched")).toMatch(/trigger did not match/);
    expect(ruleText({ field: "user.tags", op: "contains", expected: "vip", actual: ["new"] })).toBe(
      'user.tags contains “vip” — saw ["new"]',
    );
    expect(ruleText({ field: "event.data.content", op: "icontains", expected: "coupon", missing: true })).toBe(
      "event.data.content icontains “coupon” — the field is missing",
    );
  });
});
