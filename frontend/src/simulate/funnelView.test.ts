import { describe, expect, it } from "vitest";
import { badgeScale, FUNNEL_MAX_ZOOM, FUNNEL_MIN_ZOOM, FUNNEL_PAD, funnelViewport } from "./funnelView";

const view = { width: 800, height: 600 };

describe("the funnel's viewport", () => {
  it("fits a small graph whole, centred, no closer than the maximum zoom", () => {
    const vp = funnelViewport({ x: 0, y: 0, width: 540, height: 60 }, view);
    expect(vp.zoom).toBe(FUNNEL_MAX_ZOOM);
    expect(vp.x + (540 * vp.zoom) / 2).toBeCloseTo(400); // centred
    expect(vp.y + (60 * vp.zoom) / 2).toBeCloseTo(300);
  });

  it("fits a middling graph whole at the zoom that fits", () => {
    const vp = funnelViewport({ x: 100, y: 0, width: 1200, height: 60 }, view);
    expect(vp.zoom).toBeCloseTo((800 - 2 * FUNNEL_PAD) / 1200);
    expect(vp.x + 100 * vp.zoom).toBeCloseTo(FUNNEL_PAD);
  });

  it("opens a wide graph at the minimum zoom from its start, for the user to pan", () => {
    const vp = funnelViewport({ x: -50, y: 0, width: 4500, height: 60 }, view);
    expect(vp.zoom).toBe(FUNNEL_MIN_ZOOM);
    expect(vp.x + -50 * vp.zoom).toBeCloseTo(FUNNEL_PAD); // the left edge, where the trigger is
    expect(vp.y + 30 * vp.zoom).toBeCloseTo(300); // short: centred vertically
  });

  it("puts the trigger of a tall graph at mid-height, without running past the graph's edges", () => {
    const tall = { x: 0, y: 0, width: 300, height: 3000 };
    const middle = funnelViewport(tall, view, { x: 0, y: 1500 });
    expect(middle.zoom).toBe(FUNNEL_MIN_ZOOM);
    expect(middle.y + 1500 * middle.zoom).toBeCloseTo(300);
    const top = funnelViewport(tall, view, { x: 0, y: 30 });
    expect(top.y).toBeCloseTo(FUNNEL_PAD); // not centred: that would show empty space above
    const bottom = funnelViewport(tall, view, { x: 0, y: 2990 });
    expect(bottom.y + 3000 * bottom.zoom).toBeCloseTo(600 - FUNNEL_PAD);
  });

  it("grows the badges when zoomed out so their text stays 12 px on screen, up to 4 times", () => {
    expect(badgeScale(1.1)).toBe(1);
    expect(badgeScale(1)).toBe(1);
    expect(badgeScale(0.5)).toBe(2);
    expect(12 * 0.3 * badgeScale(0.3)).toBeCloseTo(12, 1);
    expect(badgeScale(0.1)).toBe(4);
    expect(badgeScale(0)).toBe(1);
  });
});
