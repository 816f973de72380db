/**
 * Keeping the simulated funnel readable. Fitting a wide graph into the canvas shrank the count
 * badges to a pixel or two (15 nodes in a row: zoom 0.14). Now the badges and edge counts grow
 * against the zoom (badgeScale) so their text stays 12 px on screen down to zoom 0.25, and the
 * funnel opens at a zoom no lower than FUNNEL_MIN_ZOOM (a 6-node row, like the coupon sample, still
 * fits whole beside the panel), from its start, for the user to pan along.
 */

export const FUNNEL_MIN_ZOOM = 0.35;
export const FUNNEL_MAX_ZOOM = 1.1;
/** Screen pixels kept free around the graph. */
export const FUNNEL_PAD = 40;
/** The badge's own font size and the smallest on-screen size it may shrink to (CSS pixels). */
const BADGE_PX = 12;
const MIN_SCREEN_PX = 12;
const MAX_SCALE = 4;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

/** One axis: centred when the graph fits the view at `zoom`, else its `anchor` (canvas units) at the start. */
function offset(origin: number, size: number, view: number, zoom: number, anchor: number): number {
  const shown = size * zoom;
  if (shown <= view - 2 * FUNNEL_PAD) return (view - shown) / 2 - origin * zoom;
  const start = FUNNEL_PAD - origin * zoom; // the graph's first edge at the start
  const end = view - FUNNEL_PAD - (origin + size) * zoom; // its last edge at the end
  return Math.max(end, Math.min(start, view / 2 - anchor * zoom));
}

/**
 * The viewport for a funnel over nodes spanning `bounds` in a `view` of that many screen pixels:
 * the whole graph when it fits at FUNNEL_MIN_ZOOM or more; otherwise FUNNEL_MIN_ZOOM, showing the
 * graph's start on the left and the trigger (`start`, canvas units) at mid-height when it is tall.
 */
export function funnelViewport(bounds: Rect, view: { width: number; height: number }, start?: { x: number; y: number }): Viewport {
  const fit = Math.min((view.width - 2 * FUNNEL_PAD) / bounds.width, (view.height - 2 * FUNNEL_PAD) / bounds.height);
  const zoom = Math.max(FUNNEL_MIN_ZOOM, Math.min(FUNNEL_MAX_ZOOM, Number.isFinite(fit) ? fit : FUNNEL_MAX_ZOOM));
  return {
    x: offset(bounds.x, bounds.width, view.width, zoom, bounds.x), // a left-to-right graph starts at its left edge
    y: offset(bounds.y, bounds.height, view.height, zoom, start?.y ?? bounds.y),
    zoom,
  };
}

/** How much the count badges grow at `zoom` so their text stays at least 12 px on screen (1 to 4). */
export function badgeScale(zoom: number): number {
  if (!(zoom > 0)) return 1;
  const scale = MIN_SCREEN_PX / (BADGE_PX * zoom);
  return Math.round(Math.max(1, Math.min(MAX_SCALE, scale)) * 100) / 100;
}
