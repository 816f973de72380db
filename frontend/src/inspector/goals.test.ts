import { describe, expect, it } from "vitest";
import { goalId, goalKind, goalText, makeGoal } from "./goals";

describe("goals in the settings panel", () => {
  it("makes valid goals with unique ids", () => {
    expect(makeGoal("tag", " vip ", [])).toEqual({ id: "tag_vip", tag: "vip" });
    expect(makeGoal("event_type", "order_paid", ["order_paid"])).toEqual({ id: "order_paid_2", event_type: "ORDER_PAID" });
    expect(makeGoal("rules", '{"all": []}', [])).toEqual({ id: "rule", rules: { all: [] } });
    expect(goalId("کد تخفیف", [])).toBe("goal");
  });

  it("refuses what the server would refuse, with a reason", () => {
    expect(makeGoal("tag", "  ", [])).toHaveProperty("error");
    expect(makeGoal("event_type", "order paid!", [])).toHaveProperty("error");
    expect(makeGoal("rules", "[1]", [])).toHaveProperty("error");
    expect(makeGoal("rules", "{nope", [])).toHaveProperty("error");
  });

  it("reads a goal back as a sentence", () => {
    expect(goalKind({ id: "a", event_type: "ORDER_PAID" })).toBe("event_type");
    expect(goalText({ id: "a", event_type: "ORDER_PAID", tag: "vip" })).toBe("an event ORDER_PAID arrives and the contact gets the tag “vip”");
  });
});
