/** The card every graph node renders: icon, name, one-line summary, validation state and its ports. */
import { Handle, type NodeProps, Position } from "@xyflow/react";
import { AlertTriangle, PowerOff } from "lucide-react";
import { TypeIcon } from "../../ui/icons";
import { RunBadge } from "../../runs/RunBadge";
import { SimBadge } from "../../simulate/SimBadge";
import { useEditor } from "../../store/editor";
import type { CardNode } from "../convert";
import { ERROR_PORT, hasInput, outputPorts } from "../ports";
import { summarize } from "../summary";

const DISABLED_HINT = "Disabled: runs pass through this node without running it (D to enable).";

export function NodeCard({ id, data, selected }: NodeProps<CardNode>) {
  const { node, nodeType, issues } = data;
  const ports = outputPorts(node, nodeType);
  const errors = issues.filter((i) => i.severity !== "warning");
  const summary = summarize(node);
  const category = nodeType?.category ?? "action";
  const readOnly = useEditor((s) => s.readOnly);
  return (
    <div
      style={ports.length > 3 ? { minHeight: ports.length * 20 + 4 } : undefined}
      className={`card-node cat-${category}${selected ? " selected" : ""}${errors.length ? " has-errors" : ""}${node.disabled ? " disabled" : ""}`}
      title={errors.map((e) => e.message).join("\n") || (node.disabled ? DISABLED_HINT : nodeType?.description)}
    >
      {hasInput(nodeType) && <Handle type="target" position={Position.Left} id="in" className="port port-in" />}
      <div className="card-icon">
        <TypeIcon name={nodeType?.icon} size={18} />
      </div>
      <div className="card-text">
        <div className="card-head">
          <span className="card-title" dir="auto">
            {node.title || nodeType?.title || node.type}
          </span>
          <span className="card-id">{id}</span>
        </div>
        <div className="card-sub" dir="auto">
          {summary || <span className="card-empty">{nodeType?.category === "trigger" ? "trigger" : "not configured"}</span>}
        </div>
      </div>
      {node.disabled && (
        <span className="card-off" aria-label="disabled">
          <PowerOff size={10} /> off
        </span>
      )}
      {errors.length > 0 && (
        <div className="card-badge" data-error-count={errors.length} aria-label={`${errors.length} problems`}>
          <AlertTriangle size={12} /> {errors.length}
        </div>
      )}
      <RunBadge nodeId={id} />
      <SimBadge nodeId={id} />
      <div className="card-ports">
        {ports.map((port) => (
          <OutPort key={port} nodeId={id} port={port} labelled={ports.length > 2 || port !== "out"} readOnly={readOnly} />
        ))}
      </div>
    </div>
  );
}

function OutPort({ nodeId, port, labelled, readOnly }: { nodeId: string; port: string; labelled: boolean; readOnly: boolean }) {
  const setAddFrom = useEditor((s) => s.setAddFrom);
  return (
    <div className={`out-port${port === ERROR_PORT ? " is-error" : ""}`} data-port={port}>
      {labelled && <span className="port-label">{port}</span>}
      <Handle type="source" position={Position.Right} id={port} className="port port-out" />
      {!readOnly && (
        <button
          className="port-add nodrag"
          title={`Add a node after “${port}”`}
          aria-label={`Add a node after ${nodeId} ${port}`}
          data-add-from={`${nodeId}:${port}`}
          onClick={(e) => {
            e.stopPropagation();
            setAddFrom({ node: nodeId, port });
          }}
        >
          +
        </button>
      )}
    </div>
  );
}
