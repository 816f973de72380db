/**
 * The live-trace connection: one Socket.IO client per page, rooms joined with `watch`.
 *
 * The client reconnects on its own; every (re)connect re-joins the rooms and calls `onSync`, so
 * the page catches up from the API on whatever it missed while the socket was down. A lone trace
 * is handed over at once; under a stream, traces are handed over in batches, at most once per
 * animation frame, so a busy workflow costs one store update per frame instead of one per trace. The server only lets a client join rooms of
 * workflows its user may read (backend/events.py).
 */
import { io, type Socket } from "socket.io-client";
import type { Trace } from "./runs/traceState";

export type Room = { workflow_id: number } | { execution_id: number };

export interface LiveHandlers {
  /** A batch of traces, in arrival order. */
  onTraces: (traces: Trace[]) => void;
  /** The rooms were (re)joined: fetch what may have been missed. */
  onSync?: () => void;
  /** Connection state changes, for the "live" indicator. */
  onState?: (state: LiveState) => void;
}

export type LiveState = "connecting" | "live" | "offline" | "denied";

let shared: Socket | null = null;
/** Traces further apart than this are not batched (ms). */
const IDLE_MS = 50;
/** Watchers per room in this page: the room is left when the last one stops. */
const watchers = new Map<string, number>();

function socket(): Socket {
  if (!shared) {
    shared = io({ path: "/socket.io", withCredentials: true, reconnectionDelayMax: 5000 });
  }
  return shared;
}

/** The last traces' receipts: [execution id, step, kind, server stamp ts (s), received (ms)]. */
const lags: [number, number | null, string, number, number][] = [];
const MAX_LAGS = 2000;

/** Every watcher's trace handler in this page (for `liveConnection.inject`). */
const listeners = new Set<(trace: Trace) => void>();

/**
 * Drop / restore the live connection by hand, or feed traces as if the server had sent them
 * (scripts, the catch-up test, and the canvas benchmark's synthetic stream).
 */
export const liveConnection = {
  disconnect: () => socket().disconnect(),
  connect: () => socket().connect(),
  connected: () => socket().connected,
  transport: () => socket().io.engine?.transport?.name ?? null,
  inject: (traces: Trace[]) => traces.forEach((t) => listeners.forEach((listen) => listen(t))),
  /** The receipts recorded so far (and forget them): for measuring delivery and repaint. */
  lags: () => lags.splice(0),
};
if (typeof window !== "undefined") (window as unknown as Record<string, unknown>).flowmarketLive = liveConnection;

function nextFrame(cb: () => void): void {
  if (typeof document !== "undefined" && !document.hidden && typeof requestAnimationFrame === "function") {
    requestAnimationFrame(cb);
  } else {
    setTimeout(cb, 50);
  }
}

function recordLag(trace: Trace): void {
  if (lags.length >= MAX_LAGS) lags.shift();
  lags.push([trace.execution_id, trace.step ?? null, trace.kind, trace.ts, Date.now()]);
}

/** Watch `room` until the returned function is called. */
export function watchLive(room: Room, handlers: LiveHandlers): () => void {
  const sock = socket();
  let buffer: Trace[] = [];
  let scheduled = false;
  let closed = false;
  const key = "workflow_id" in room ? "workflow_id" : "execution_id";
  const id = (room as Record<string, number>)[key];
  const name = `${key}:${id}`;
  watchers.set(name, (watchers.get(name) ?? 0) + 1);

  let lastFlush = -Infinity;
  const flush = () => {
    scheduled = false;
    lastFlush = performance.now();
    if (closed || buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    handlers.onTraces(batch);
  };
  const onTrace = (trace: Trace) => {
    if ((trace as unknown as Record<string, number>)[key] !== id) return;
    buffer.push(trace);
    if (scheduled) return;
    scheduled = true;
    // a lone trace is handed over at once; under a stream, once per frame
    if (performance.now() - lastFlush > IDLE_MS) queueMicrotask(flush);
    else nextFrame(flush);
  };
  const join = () => {
    handlers.onState?.("connecting");
    sock.emit("watch", room, (answer: { ok: boolean } | undefined) => {
      if (closed) return;
      handlers.onState?.(answer?.ok ? "live" : "denied");
      if (answer?.ok) handlers.onSync?.();
    });
  };
  const onDisconnect = () => handlers.onState?.("offline");

  sock.on("trace", onTrace);
  sock.on("trace", recordLag);
  listeners.add(onTrace);
  sock.on("connect", join);
  sock.on("disconnect", onDisconnect);
  if (sock.connected) join();
  else handlers.onState?.("connecting");

  return () => {
    closed = true;
    sock.off("trace", onTrace);
    sock.off("trace", recordLag);
    listeners.delete(onTrace);
    sock.off("connect", join);
    sock.off("disconnect", onDisconnect);
    const left = (watchers.get(name) ?? 1) - 1;
    if (left > 0) watchers.set(name, left);
    else {
      watchers.delete(name);
      if (sock.connected) sock.emit("unwatch", room);
    }
  };
}
