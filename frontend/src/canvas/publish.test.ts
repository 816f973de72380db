import { describe, expect, it } from "vitest";
import { askedVersions, olderVersions, rememberAsked, unasked } from "./askedVersions";
import { waitingTotals, type WaitingVersions } from "./PublishDialog";

const report = (current: number, ...waiting: [number, number][]): WaitingVersions => ({
  current_version: current,
  versions: waiting.map(([version, n]) => ({ version, waiting: n, movable: n, pinned: [] })),
});

/** localStorage's two methods over a Map (vitest runs in node). */
function memoryStore() {
  const data = new Map<string, string>();
  return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v), data };
}

describe("runs waiting on older versions", () => {
  it("counts only the older versions' waiting and movable runs", () => {
    const totals = waitingTotals({
      current_version: 3,
      versions: [
        { version: 1, waiting: 2, movable: 1, pinned: [{ execution_id: 9, missing_nodes: ["wait"] }] },
        { version: 2, waiting: 4, movable: 4, pinned: [] },
        { version: 3, waiting: 5, movable: 0, pinned: [] },
      ],
    });
    expect(totals).toEqual({ waiting: 6, movable: 5 });
  });

  it("asks only about versions it has not asked about", () => {
    expect(unasked(report(2, [1, 3]), new Set())).toEqual(report(2, [1, 3]));
    expect(unasked(report(3, [1, 3]), new Set([1]))).toBeNull(); // the save after "let them finish"
    expect(unasked(report(4, [1, 3], [3, 2], [4, 1]), new Set([1]))).toEqual(report(4, [3, 2], [4, 1]));
    expect(unasked(report(4, [1, 3], [3, 0], [4, 5]), new Set([1]))).toBeNull(); // nothing waits on v3
  });

  it("remembers the versions asked about, per workflow, across reads", () => {
    const store = memoryStore();
    expect(askedVersions(7, store)).toEqual(new Set());
    rememberAsked(7, olderVersions(report(3, [1, 2], [2, 1], [3, 4])), store);
    rememberAsked(7, [2, 5], store);
    expect(askedVersions(7, store)).toEqual(new Set([1, 2, 5]));
    expect(askedVersions(8, store)).toEqual(new Set());
    store.setItem("flowmarket.waitingRunsAsked.9", "not json");
    expect(askedVersions(9, store)).toEqual(new Set());
    expect(askedVersions(7, null)).toEqual(new Set()); // storage disabled: asks every time
  });
});
