/**
 * The outbound mode of the server: `capture` (messages are recorded, not sent) or `live`. The
 * page bootstrap carries it (`#app[data-outbound-mode]`); without it (the Vite dev page) the
 * app asks GET /health/.
 */
import { useEffect, useState } from "react";
import { request } from "../api";

export type OutboundMode = "capture" | "live";

export function modeOf(value: string | null | undefined): OutboundMode | null {
  return value === "live" || value === "capture" ? value : null;
}

export function pageMode(): OutboundMode | null {
  return modeOf(typeof document !== "undefined" ? document.getElementById("app")?.dataset.outboundMode : null);
}

export function useOutboundMode(): OutboundMode | null {
  const [mode, setMode] = useState<OutboundMode | null>(pageMode);
  useEffect(() => {
    if (mode) return;
    request<{ outbound_mode?: string }>("GET", "/health/").then((h) => setMode(modeOf(h.outbound_mode)), () => undefined);
  }, [mode]);
  return mode;
}
