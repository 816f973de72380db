/** A node's simulated count on the canvas: how many runs entered it (and left it how). */
import { useSimulation } from "../store/simulation";

export function SimBadge({ nodeId }: { nodeId: string }) {
  const counts = useSimulation((s) => s.result?.nodes[nodeId]);
  const active = useSimulation((s) => s.result !== null);
  if (!active) return null;
  const entered = counts?.entered ?? 0;
  const title = counts
    ? `simulated: ${entered} entered · ${counts.succeeded} succeeded · ${counts.failed} failed · ${counts.waiting} waited`
    : "simulated: no run reached this node";
  return (
    <div className={`sim-badge${entered ? "" : " none"}`} data-sim-entered={entered} title={title}>
      {entered.toLocaleString()}
    </div>
  );
}
