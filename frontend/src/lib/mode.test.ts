import { describe, expect, it } from "vitest";
import { modeOf } from "./mode";

describe("the outbound mode from the page bootstrap or /health/", () => {
  it("accepts only the two modes the server has", () => {
    expect(modeOf("live")).toBe("live");
    expect(modeOf("capture")).toBe("capture");
    expect(modeOf("LIVE")).toBeNull();
    expect(modeOf(undefined)).toBeNull();
    expect(modeOf("")).toBeNull();
  });
});
