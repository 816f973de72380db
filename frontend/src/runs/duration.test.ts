import { describe, expect, it } from "vitest";
import { isTerminal, nodeStatuses, quietUntil, runDuration, type RunInfo } from "./traceState";

const run = (extra: Partial<RunInfo>): RunInfo => ({
  id: 1, workflowId: 1, status: "running", version: [0, 0], error: null, resumeAt: null, contact: null, contactId: null,
  createdAt: null, startedAt: "2026-01-01T10:00:00Z", finishedAt: null, durationMs: null, seenAt: 0, summary: true, steps: {},
  ...extra,
});

describe("a run's duration on the run page", () => {
  it("counts up from the start while the run goes on (the page re-reads the clock every second)", () => {
    const start = Date.parse("2026-01-01T10:00:00Z");
    expect(runDuration(run({}), start + 1_000)).toBe(1_000);
    expect(runDuration(run({}), start + 5_000)).toBe(5_000);
  });

  it("stops at the stored duration once over; a converted run is over", () => {
    expect(runDuration(run({ status: "succeeded", durationMs: 420 }), Date.now())).toBe(420);
    expect(isTerminal("converted")).toBe(true);
    expect(isTerminal("waiting")).toBe(false);
  });
});

describe("a converted run on the canvas", () => {
  it("shows the node where the goal ended it as converted, nothing after it", () => {
    const step = (seq: number, nodeId: string, status: string, port: string | null = "out") => ({
      seq, nodeId, finished: true, status, port, attempt: 1, durationMs: 0, error: null, resumeAt: null,
    });
    const converted = run({
      status: "converted",
      steps: { 1: step(1, "trigger", "succeeded"), 2: step(2, "wait", "waiting", null), 3: step(3, "wait", "converted", null) },
    });
    const views = nodeStatuses(converted, [{ id: "e1", source: "trigger", target: "wait" }, { id: "e2", source: "wait", target: "send" }]);
    expect(views.wait.status).toBe("converted");
    expect(views.trigger.status).toBe("succeeded");
    expect(views.send).toBeUndefined();
  });
});

describe("a run held by quiet hours", () => {
  it("reads the quiet hours' end from the waiting step's output", () => {
    const held = run({
      status: "waiting",
      steps: {
        1: { seq: 1, nodeId: "trigger", finished: true, status: "succeeded", port: "out", attempt: 1, durationMs: 0, error: null, resumeAt: null },
        2: { seq: 2, nodeId: "send", finished: true, status: "waiting", port: null, attempt: 1, durationMs: 0, error: null, resumeAt: null,
          record: { seq: 2, node_id: "send", status: "waiting", output: { quiet_hours_until: "2026-01-01T08:00:00+00:00" } } },
      },
    });
    expect(quietUntil(held)).toBe("2026-01-01T08:00:00+00:00");
    expect(quietUntil(run({ status: "waiting" }))).toBeNull();
  });
});
