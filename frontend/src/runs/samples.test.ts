import { describe, expect, it } from "vitest";
import type { WorkflowGraph } from "../store/types";
import { sampleContact, sampleEvent } from "./samples";

const COUPON: WorkflowGraph = {
  format: "workflow-graph/v1",
  nodes: [
    { id: "trigger", type: "trigger.message_received", params: { keywords: ["کد تخفیف", "coupon"] } },
    { id: "interested", type: "logic.condition",
      params: { rules: { all: [{ field: "user.tags", op: "contains", value: "interested" }] } } },
  ],
  edges: [{ id: "e1", source: "trigger", target: "interested" }],
};

describe("test-run samples", () => {
  it("pre-fills the event from the trigger and its keywords", () => {
    const event = sampleEvent(COUPON);
    expect(event.event_type).toBe("MESSAGE_RECEIVED");
    expect((event.data as { content: string }).content).toContain("کد تخفیف");
  });

  it("uses a custom trigger's event type", () => {
    const graph: WorkflowGraph = { format: "workflow-graph/v1", edges: [],
      nodes: [{ id: "t", type: "trigger.event", params: { event_type: "ORDER_PAID" } }] };
    expect(sampleEvent(graph).event_type).toBe("ORDER_PAID");
  });

  it("gives the contact the tags the conditions ask for and the known custom fields", () => {
    const contact = sampleContact(COUPON, ["user.first_name", "user.fields.city"]);
    expect(contact.tags).toEqual(["interested"]);
    expect(contact.fields).toEqual({ city: "" });
  });
});
