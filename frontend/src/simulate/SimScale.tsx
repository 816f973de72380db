/**
 * Sets `--sim-scale` on the canvas while a simulation is shown: the count badges and edge counts
 * grow by it when the user zooms out, so they stay legible (funnelView.badgeScale). One CSS
 * variable on the canvas instead of a re-render of every badge on each zoom step.
 */
import { useStore } from "@xyflow/react";
import { useEffect } from "react";
import { useSimulation } from "../store/simulation";
import { badgeScale } from "./funnelView";

export function SimScale() {
  const active = useSimulation((s) => s.result !== null);
  const zoom = useStore((s) => s.transform[2]);
  const dom = useStore((s) => s.domNode);
  useEffect(() => {
    if (active) dom?.style.setProperty("--sim-scale", String(badgeScale(zoom)));
    else dom?.style.removeProperty("--sim-scale");
  }, [active, zoom, dom]);
  return null;
}
