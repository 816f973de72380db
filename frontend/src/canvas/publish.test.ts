import { describe, expect, it } from "vitest";
import { waitingTotals } from "./PublishDialog";

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
});
