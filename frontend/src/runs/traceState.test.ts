import { describe, expect, it } from "vitest";
import {
  applyTraces, mergeExecution, mergeExecutions, newestFirst, nodeStatuses, prune, takenEdges,
  type EdgeRef, type ExecutionJson, type RunMap, type Trace,
} from "./traceState";

const EDGES: EdgeRef[] = [
  { id: "e1", source: "trigger", target: "interested" },
  { id: "e2", source: "interested", source_port: "true", target: "send" },
  { id: "e3", source: "send", target: "tag" },
  { id: "e4", source: "tag", target: "wait" },
  { id: "e5", source: "wait", target: "mail" },
  { id: "e6", source: "interested", source_port: "false", target: "mail" },
];

function t(kind: Trace["kind"], extra: Partial<Trace> = {}): Trace {
  return { kind, execution_id: 7, workflow_id: 3, ts: 1, ...extra };
}

const started = (step: number, node: string) => t("step_started", { step, node_id: node });
const finished = (step: number, node: string, port: string | null = "out", status = "succeeded") =>
  t("step_finished", { step, node_id: node, port, status });

/** The coupon run up to its wait, as the runner emits it. */
const COUPON_TO_WAIT: Trace[] = [
  t("run_started"),
  started(1, "trigger"), finished(1, "trigger"),
  started(2, "interested"), finished(2, "interested", "true"),
  started(3, "send"), finished(3, "send"),
  started(4, "tag"), finished(4, "tag"),
  started(5, "wait"), finished(5, "wait", "out", "waiting"),
  t("run_waiting", { resume_at: "2026-01-01T10:10:00+00:00" }),
];

function statuses(runs: RunMap, id = 7): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [node, view] of Object.entries(nodeStatuses(runs[id], EDGES))) out[node] = view.status;
  return out;
}

describe("live traces", () => {
  it("paints each node as its step starts and finishes", () => {
    let runs = applyTraces({}, COUPON_TO_WAIT.slice(0, 4));
    expect(statuses(runs)).toEqual({ trigger: "succeeded", interested: "running" });
    runs = applyTraces(runs, COUPON_TO_WAIT.slice(4));
    expect(statuses(runs)).toEqual({
      trigger: "succeeded", interested: "succeeded", send: "succeeded", tag: "succeeded",
      wait: "waiting",
    });
    expect(runs[7].status).toBe("waiting");
    expect(nodeStatuses(runs[7], EDGES).wait.resumeAt).toBe("2026-01-01T10:10:00+00:00");
    expect([...takenEdges(runs[7], EDGES)].sort()).toEqual(["e1", "e2", "e3", "e4"]);
  });

  it("shows a waiting node as resumed once its successor runs", () => {
    const traces = [...COUPON_TO_WAIT, started(6, "mail"), finished(6, "mail"),
      t("run_finished", { status: "succeeded", steps: 6 })];
    const runs = applyTraces({}, traces);
    expect(runs[7].status).toBe("succeeded");
    expect(statuses(runs).wait).toBe("succeeded");
    expect(statuses(runs).mail).toBe("succeeded");
    expect(takenEdges(runs[7], EDGES).has("e5")).toBe(true);
  });

  it("gives the same picture whatever order the traces arrive in", () => {
    const inOrder = applyTraces({}, COUPON_TO_WAIT);
    const reversed = applyTraces({}, [...COUPON_TO_WAIT].reverse());
    const shuffled = applyTraces({}, [6, 2, 11, 0, 9, 4, 1, 10, 3, 8, 5, 7].map((i) => COUPON_TO_WAIT[i]));
    for (const other of [reversed, shuffled]) {
      expect(statuses(other)).toEqual(statuses(inOrder));
      expect(other[7].status).toBe("waiting");
    }
  });

  it("ignores duplicated traces", () => {
    const once = applyTraces({}, COUPON_TO_WAIT);
    const twice = applyTraces(applyTraces({}, COUPON_TO_WAIT), COUPON_TO_WAIT);
    expect(twice[7]).toEqual({ ...once[7], seenAt: twice[7].seenAt });
    expect(applyTraces(once, [finished(3, "send")])).toEqual(once);
  });

  it("never lets a late started trace undo a finished step", () => {
    const runs = applyTraces({}, [finished(1, "trigger"), started(1, "trigger")]);
    expect(statuses(runs)).toEqual({ trigger: "succeeded" });
  });

  it("drops a started step that never finished once the run is over", () => {
    const runs = applyTraces({}, [finished(1, "trigger"), started(2, "interested"),
      t("run_finished", { status: "failed", steps: 1, error: "boom" })]);
    expect(statuses(runs)).toEqual({ trigger: "succeeded" });
    expect(runs[7].error).toBe("boom");
  });

  it("follows the port a condition chose", () => {
    const runs = applyTraces({}, [finished(1, "trigger"), finished(2, "interested", "false"),
      finished(3, "mail"), t("run_finished", { status: "succeeded", steps: 3 })]);
    expect([...takenEdges(runs[7], EDGES)].sort()).toEqual(["e1", "e6"]);
  });

  it("shows the last attempt of a retried node and counts attempts", () => {
    const runs = applyTraces({}, [finished(1, "trigger"), finished(2, "send", null, "retrying"),
      t("run_waiting", { resume_at: "soon" })]);
    expect(nodeStatuses(runs[7], EDGES).send).toMatchObject({ status: "waiting", attempts: 1 });
    const later = applyTraces(runs, [finished(3, "send"), t("run_finished", { status: "succeeded", steps: 3 })]);
    expect(nodeStatuses(later[7], EDGES).send).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("a failed run that is retried runs again", () => {
    let runs = applyTraces({}, [finished(1, "trigger"), finished(2, "send", null, "failed"),
      t("run_finished", { status: "failed", steps: 2 })]);
    expect(statuses(runs).send).toBe("failed");
    runs = applyTraces(runs, [started(3, "send"), finished(3, "send")]);
    expect(runs[7].status).toBe("running");
    expect(statuses(runs).send).toBe("succeeded");
  });
});

const SNAPSHOT: ExecutionJson = {
  id: 7, workflow_id: 3, status: "waiting", step_count: 5, contact_external_id: "sara",
  contact_id: 11, created_at: "2026-01-01T10:00:00+00:00", resume_at: "2026-01-01T10:10:00+00:00",
  steps: [
    { seq: 1, node_id: "trigger", status: "succeeded", port: "out" },
    { seq: 2, node_id: "interested", status: "succeeded", port: "true", output: { result: true } },
    { seq: 3, node_id: "send", status: "succeeded", port: "out" },
    { seq: 4, node_id: "tag", status: "succeeded", port: "out" },
    { seq: 5, node_id: "wait", status: "waiting", port: "out" },
  ],
};

describe("catch-up from the API", () => {
  it("fills the steps the socket missed during a gap", () => {
    const gap = applyTraces({}, COUPON_TO_WAIT.slice(0, 3));
    const caught = mergeExecutions(gap, [SNAPSHOT]);
    expect(statuses(caught)).toEqual(statuses(applyTraces({}, COUPON_TO_WAIT)));
    expect(caught[7]).toMatchObject({ status: "waiting", contact: "sara", contactId: 11, summary: true });
    expect(caught[7].steps[2].record?.output).toEqual({ result: true });
  });

  it("a stale snapshot does not roll back newer live traces", () => {
    const live = applyTraces({}, [...COUPON_TO_WAIT, finished(6, "mail"),
      t("run_finished", { status: "succeeded", steps: 6 })]);
    const merged = mergeExecution(live[7], { ...SNAPSHOT, steps: SNAPSHOT.steps!.slice(0, 3), status: "running", step_count: 3 });
    expect(merged.status).toBe("succeeded");
    expect(merged.contact).toBe("sara");
    expect(nodeStatuses(merged, EDGES).mail.status).toBe("succeeded");
  });

  it("live traces after a snapshot move the run on", () => {
    const snap = mergeExecutions({}, [SNAPSHOT]);
    const runs = applyTraces(snap, [finished(6, "mail"), t("run_finished", { status: "succeeded", steps: 6 })]);
    expect(runs[7].status).toBe("succeeded");
    expect(statuses(runs).wait).toBe("succeeded");
  });

  it("keeps live output previews when the record arrives", () => {
    const live = applyTraces({}, [t("step_finished", { step: 2, node_id: "interested", port: "true", output_preview: "{'result': True}" })]);
    const merged = mergeExecution(live[7], SNAPSHOT);
    expect(merged.steps[2].outputPreview).toBe("{'result': True}");
    expect(merged.steps[2].record?.output).toEqual({ result: true });
  });
});

describe("the run list", () => {
  it("lists newest first and prunes old runs but keeps the pinned one", () => {
    const traces = [1, 5, 3, 9, 2].map((id) => ({ ...t("run_started"), execution_id: id }));
    const runs = applyTraces({}, traces);
    expect(newestFirst(runs).map((r) => r.id)).toEqual([9, 5, 3, 2, 1]);
    expect(Object.keys(prune(runs, 2, 1)).map(Number).sort()).toEqual([1, 5, 9]);
    expect(prune(runs, 10)).toBe(runs);
  });
});
