import { beforeEach, describe, expect, it } from "vitest";
import type { EdgeRef, Trace } from "../runs/traceState";
import { useRuns } from "./runs";

const EDGES: EdgeRef[] = [
  { id: "e1", source: "trigger", target: "send" },
  { id: "e2", source: "send", target: "tag" },
];

function run(id: number, ...nodes: string[]): Trace[] {
  const out: Trace[] = [{ kind: "run_started", execution_id: id, workflow_id: 1, ts: 1 }];
  nodes.forEach((node, i) => out.push({ kind: "step_finished", execution_id: id, workflow_id: 1, ts: 1,
    node_id: node, step: i + 1, status: "succeeded", port: "out" }));
  return out;
}

describe("the runs store", () => {
  beforeEach(() => useRuns.getState().reset(EDGES));

  it("paints the newest run while following", () => {
    useRuns.getState().ingest([...run(1, "trigger", "send", "tag"), ...run(2, "trigger")]);
    const s = useRuns.getState();
    expect(s.shown).toBe(2);
    expect(s.runStatus).toEqual({ trigger: "succeeded" });
    expect(s.edgeTaken).toEqual({});
  });

  it("while following, keeps a run that is still going for a moment, then moves on", () => {
    useRuns.getState().ingest(run(1, "trigger"));
    expect(useRuns.getState().shown).toBe(1);
    useRuns.setState({ shownAt: Date.now() + 60_000 }); // "just shown", whatever the machine's speed
    useRuns.getState().ingest(run(2, "trigger"));
    expect(useRuns.getState().shown).toBe(1);
    useRuns.getState().ingest([{ kind: "run_finished", execution_id: 1, workflow_id: 1, ts: 2, status: "succeeded", steps: 1 }]);
    expect(useRuns.getState().shown).toBe(2);
    useRuns.setState({ shownAt: 0 }); // shown long ago: a newer run replaces it though it goes on
    useRuns.getState().ingest(run(3, "trigger"));
    expect(useRuns.getState().shown).toBe(3);
  });

  it("keeps a picked run on the canvas while new runs arrive", () => {
    useRuns.getState().ingest(run(1, "trigger", "send", "tag"));
    useRuns.getState().show(1);
    useRuns.getState().ingest(run(2, "trigger"));
    const s = useRuns.getState();
    expect(s.shown).toBe(1);
    expect(s.runStatus).toEqual({ trigger: "succeeded", send: "succeeded", tag: "succeeded" });
    expect(s.edgeTaken).toEqual({ e1: true, e2: true });
  });

  it("keeps the painted objects when a batch changes nothing on the canvas", () => {
    useRuns.getState().ingest(run(1, "trigger", "send"));
    useRuns.getState().show(1);
    const before = useRuns.getState();
    useRuns.getState().ingest(run(3, "trigger"));
    const after = useRuns.getState();
    expect(after.runStatus).toBe(before.runStatus);
    expect(after.edgeTaken).toBe(before.edgeTaken);
    expect(after.runs).not.toBe(before.runs);
  });

  it("forgets a test run and goes back to the live runs", () => {
    useRuns.getState().ingest(run(1, "trigger"));
    useRuns.getState().merge([{ id: -1, workflow_id: 1, status: "succeeded", step_count: 2,
      steps: [{ seq: 1, node_id: "trigger", status: "succeeded", port: "out" },
        { seq: 2, node_id: "send", status: "failed", port: null }] }]);
    useRuns.getState().show(-1);
    expect(useRuns.getState().runStatus).toEqual({ trigger: "succeeded", send: "failed" });
    useRuns.getState().forget(-1);
    useRuns.getState().show(null, true);
    expect(useRuns.getState().runStatus).toEqual({ trigger: "succeeded" });
    expect(useRuns.getState().runs[-1]).toBeUndefined();
  });
});
