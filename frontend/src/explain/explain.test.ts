import { describe, expect, it } from "vitest";
import { eventParam, explainHref, outcomeLabel, verdictText, type ExplainedRun, type WorkflowVerdict } from "./explain";

const base = { workflow_id: 1, workflow_name: "Coupon", workflow_status: "active", reason: null, triggers: [], run: null };
const run = (extra: Partial<ExplainedRun>): ExplainedRun => ({
  execution_id: 7, status: "succeeded", path: [], conditions: [], messages: [], pending: null, ...extra,
});

describe("explain verdicts", () => {
  it("names the failing trigger rule and the value it saw", () => {
    const v: WorkflowVerdict = {
      ...base, outcome: "not_matched", reason: "filter",
      triggers: [{ node_id: "trigger", matched: false, reason: "filter", failing: [{ field: "event.data.content", op: "icontains", expected: "coupon", actual: "hello" }] }],
    };
    expect(verdictText(v)).toBe("The trigger “trigger” did not match: event.data.content icontains “coupon” — saw “hello”.");
    expect(outcomeLabel(v)).toBe("not matched");
  });

  it("says which false condition stopped a run that sent nothing", () => {
    const v: WorkflowVerdict = {
      ...base, outcome: "ran",
      run: run({ conditions: [{ node_id: "interested", port: "false", failing: [{ field: "user.tags", op: "contains", expected: "interested", actual: [] }] }] }),
    };
    expect(verdictText(v)).toBe("It ran, but the condition “interested” was false: user.tags contains “interested” — saw []. Nothing was sent.");
    expect(outcomeLabel(v)).toBe("ran, stopped early");
  });

  it("reports limits, messages and pending waits", () => {
    expect(verdictText({ ...base, outcome: "skipped", reason: "reentry_once" })).toMatch(/skipped: already ran/);
    const sent = { ...base, outcome: "ran" as const, run: run({ status: "waiting", messages: [{ text: "hi" }], pending: { resume_at: "x", node_id: "wait" } }) };
    expect(verdictText(sent)).toBe("It ran (waiting) and rendered 1 message. It is waiting to go on.");
  });

  it("builds and reads the page's URL", () => {
    expect(explainHref(3)).toBe("/contacts/3/explain");
    expect(explainHref(3, 12)).toBe("/contacts/3/explain?event=12");
    expect(eventParam("?event=12")).toBe(12);
    expect(eventParam("?event=x")).toBeNull();
    expect(eventParam("")).toBeNull();
  });
});
