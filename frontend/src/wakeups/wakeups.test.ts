import { describe, expect, it } from "vitest";
import { barHeights, hourLabel } from "./wakeups";

describe("wake-up hours", () => {
  it("scales bars to the busiest hour and keeps small ones visible", () => {
    const hours = [
      { hour: "a", count: 100, overdue: 0 },
      { hour: "b", count: 1, overdue: 0 },
      { hour: "c", count: 0, overdue: 0 },
      { hour: "d", count: 50, overdue: 5 },
    ];
    expect(barHeights(hours, 40)).toEqual([40, 3, 0, 20]);
    expect(barHeights([])).toEqual([]);
  });

  it("labels an hour bucket with its weekday and time", () => {
    expect(hourLabel("2026-11-28T14:00:00+00:00", "en-GB")).toMatch(/\d\d:00$/);
    expect(hourLabel("not a date")).toBe("not a date");
  });
});
