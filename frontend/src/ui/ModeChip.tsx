/** Capture or live, beside the buttons that start real work (Activate, New workflow). */
import { useOutboundMode } from "../lib/mode";

export function ModeChip() {
  const mode = useOutboundMode();
  if (!mode) return null;
  const live = mode === "live";
  return (
    <span className={`mode-chip mode-${mode}`} id="app-outbound-mode" data-mode={mode}
      title={live ? "Live: runs really send messages (OUTBOUND_MODE=live)" : "Test mode: messages are captured, not sent (OUTBOUND_MODE=capture)"}>
      {live ? "Live" : "Capture"}
    </span>
  );
}
