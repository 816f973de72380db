/** Import a graph from a file or pasted JSON: validate first, then create a workflow or replace the open one. */
import { useState } from "react";
import { api, ApiError } from "../api";
import { normalise } from "../store/editor";
import type { ValidationReport, Workflow, WorkflowGraph } from "../store/types";
import { Dialog } from "../ui/Dialog";
import { IssueList } from "./IssueList";

interface Props {
  onClose: () => void;
  onImported: (wf: Workflow) => void;
  onReplace?: (graph: WorkflowGraph) => void;
}

/** Parse and validate pasted / loaded JSON; nothing is saved. */
function useImportCheck() {
  const [text, setText] = useState("");
  const [report, setReport] = useState<ValidationReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [graph, setGraph] = useState<WorkflowGraph | null>(null);
  const check = async (raw: string) => {
    setText(raw);
    setReport(null);
    setGraph(null);
    setError(null);
    if (!raw.trim()) return;
    let parsed: WorkflowGraph;
    try {
      parsed = normalise(JSON.parse(raw));
    } catch (e) {
      setError(`Not valid JSON: ${(e as Error).message}`);
      return;
    }
    setGraph(parsed);
    try {
      setReport(await api.validate(parsed));
    } catch (e) {
      setError(e instanceof ApiError ? `The server could not check it: ${e.message}` : String(e));
    }
  };
  return { text, report, error, graph, check, setError };
}

function ImportReport({ report, graph }: { report: ValidationReport; graph: WorkflowGraph | null }) {
  return (
    <div className="import-report" data-ok={report.ok}>
      {report.ok ? (
        <p className="ok-text">Valid graph: {graph?.nodes.length} nodes, {graph?.edges.length} edges.</p>
      ) : (
        <p className="error-text">This graph has problems (it can still be imported as a draft and fixed):</p>
      )}
      <IssueList issues={[...report.errors, ...report.warnings]} />
    </div>
  );
}

export function ImportDialog({ onClose, onImported, onReplace }: Props) {
  const { text, report, error, graph, check, setError } = useImportCheck();
  const importNew = async () => {
    if (!graph) return;
    try {
      onImported(await api.importGraph(graph));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <Dialog title="Import a workflow" onClose={onClose} wide id="import-dialog">
      <p className="muted small">Choose an exported <code>.workflow.json</code> file or paste graph JSON.</p>
      <input type="file" accept="application/json,.json" aria-label="Graph file"
        onChange={async (e) => {
          const file = e.target.files?.[0];
          if (file) await check(await file.text());
        }} />
      <textarea className="json-input" aria-label="Graph JSON" rows={10} spellCheck={false} value={text}
        placeholder='{"format": "workflow-graph/v1", "nodes": [...], "edges": [...]}' onChange={(e) => check(e.target.value)} />
      {error && <div className="error">{error}</div>}
      {report && <ImportReport report={report} graph={graph} />}
      <footer className="dialog-actions">
        <button className="btn" onClick={onClose}>
          Cancel
        </button>
        {onReplace && (
          <button className="btn" id="import-replace" disabled={!graph} onClick={() => graph && onReplace(graph)}>
            Replace this workflow
          </button>
        )}
        <button className="btn primary" id="import-new" disabled={!graph} onClick={importNew}>
          Import as new workflow
        </button>
      </footer>
    </Dialog>
  );
}
