/** Validation issues as a list, each naming its node / edge and param path. */
import type { Issue } from "../store/types";

export function IssueList({ issues, onPick }: { issues: Issue[]; onPick?: (issue: Issue) => void }) {
  if (!issues.length) return null;
  return (
    <ul className="issues">
      {issues.map((issue, i) => (
        <li key={i} className={`issue ${issue.severity ?? "error"}`} data-issue-code={issue.code} data-issue-node={issue.node_id}>
          <button className="link" onClick={() => onPick?.(issue)} disabled={!onPick}>
            {issue.node_id && <code>{issue.node_id}</code>}
            {issue.edge_id && <code>{issue.edge_id}</code>}
            {issue.path && <span className="muted"> · {issue.path}</span>} {issue.message}
          </button>
        </li>
      ))}
    </ul>
  );
}
