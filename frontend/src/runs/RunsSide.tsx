/**
 * The runs side of the editor, beside the canvas: live runs of the workflow (the panel), the
 * "Test" run of the graph being edited, and the per-node counts picker. The editor keeps the
 * live connection itself (useLiveRuns), so closing this panel loses no run.
 */
import { useState } from "react";
import { useEditor } from "../store/editor";
import { useRuns } from "../store/runs";
import type { WorkflowGraph } from "../store/types";
import { CountsPicker } from "./CountsPicker";
import { RunsPanel } from "./RunsPanel";
import { TEST_RUN_ID, TestRunPanel } from "./TestRunPanel";
import "./runs.css";

/** Test runs need the editor role (the API refuses viewers). */
export function canRunTests(): boolean {
  const role = document.getElementById("app")?.dataset.userRole;
  return role === "admin" || role === "editor";
}

export function RunsSide({ workflowId, graph, canTest }: { workflowId: number; graph: WorkflowGraph; canTest: boolean }) {
  // until the user picks: open on an active workflow or once runs exist, a slim strip otherwise
  const [picked, setView] = useState<"runs" | "test" | null | undefined>(undefined);
  const active = useEditor((s) => s.workflow?.status === "active");
  const hasRuns = useRuns((s) => Object.keys(s.runs).some((id) => Number(id) > 0));
  const view = picked === undefined ? (active || hasRuns ? "runs" : null) : picked;
  const closeTest = () => {
    useRuns.getState().forget(TEST_RUN_ID);
    useRuns.getState().show(null, true);
    setView("runs");
  };
  return (
    <div className={`runs-side${view ? " open" : ""}`}>
      <div className="runs-side-bar">
        <button type="button" id="runs-toggle" className={view === "runs" ? "active" : ""} onClick={() => setView(view === "runs" ? null : "runs")}>Runs</button>
        {canTest && (
          <button type="button" id="test-button" className={view === "test" ? "active" : ""} onClick={() => (view === "test" ? closeTest() : setView("test"))}>Test</button>
        )}
        {view && <CountsPicker workflowId={workflowId} />}
      </div>
      {view === "runs" && <RunsPanel workflowId={workflowId} />}
      {view === "test" && <TestRunPanel workflowId={workflowId} graph={graph} onClose={closeTest} />}
    </div>
  );
}
