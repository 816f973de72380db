/**
 * Live runs of one workflow: watch its Socket.IO room, fold traces into the runs store, and
 * catch up from the API after every (re)connect so no run is missed while the socket was down.
 */
import { useEffect } from "react";
import { watchLive } from "../socket";
import { useRuns } from "../store/runs";
import { runsApi } from "./api";
import { isTerminal, type EdgeRef, type Trace } from "./traceState";

/** Fetch summaries (contact, start time) at most this often while new runs stream in. */
const SUMMARY_EVERY_MS = 1000;

async function catchUp(workflowId: number): Promise<void> {
  const list = await runsApi.listItems({ workflow: workflowId, page_size: 50 });
  useRuns.getState().merge(list);
  const { shown, runs } = useRuns.getState();
  const run = shown !== null ? runs[shown] : undefined;
  if (run && run.id > 0 && !isTerminal(run.status)) useRuns.getState().merge([await runsApi.get(run.id)]);
}

/** Keep the runs store in step with the live runs of `workflowId` while mounted. */
export function useLiveRuns(workflowId: number | null, edges: EdgeRef[]): void {
  useEffect(() => {
    // only a new workflow starts over; edits change `edges`, which the next effect follows
    useRuns.getState().reset(edges);
  }, [workflowId]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    useRuns.getState().setEdges(edges);
  }, [edges]);
  useEffect(() => {
    if (!workflowId) return undefined;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const summaries = () => {
      timer = null;
      catchUp(workflowId).catch(() => undefined);
    };
    const onTraces = (traces: Trace[]) => {
      const store = useRuns.getState();
      store.ingest(traces);
      const runs = useRuns.getState().runs;
      if (!timer && traces.some((t) => !runs[t.execution_id]?.summary)) {
        timer = setTimeout(summaries, SUMMARY_EVERY_MS);
      }
    };
    const stop = watchLive({ workflow_id: workflowId }, {
      onTraces,
      onSync: () => { catchUp(workflowId).catch(() => undefined); },
      onState: (state) => useRuns.getState().setLive(state),
    });
    return () => {
      stop();
      if (timer) clearTimeout(timer);
    };
  }, [workflowId]);
}
