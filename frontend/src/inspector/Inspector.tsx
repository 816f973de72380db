/** The node panel: the params form generated from the node type's JSON Schema, with the server's errors beside fields. */
import Form from "@rjsf/core";
import type { RJSFSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { X } from "lucide-react";
import { useMemo } from "react";
import { issuesOf, useEditor } from "../store/editor";
import { useNodeTypes } from "../store/nodeTypes";
import { TypeIcon } from "../ui/icons";
import { IssueList } from "../workflows/IssueList";
import { errorTree, uiSchemaFor } from "./uiSchema";
import { CodeField, RulesField, TemplateWidget } from "./widgets";

const FIELDS = { rules: RulesField, code: CodeField };
const WIDGETS = { template: TemplateWidget };

export default function Inspector({ nodeId }: { nodeId: string }) {
  const node = useEditor((s) => s.graph.nodes.find((n) => n.id === nodeId));
  const report = useEditor((s) => s.report);
  const readOnly = useEditor((s) => s.readOnly);
  const type = useNodeTypes((s) => (node ? s.byType[node.type] : undefined));
  const uiSchema = useMemo(() => (type ? uiSchemaFor(type) : {}), [type]);
  const issues = useMemo(() => issuesOf(report).filter((i) => i.node_id === nodeId), [report, nodeId]);
  const extraErrors = useMemo(() => errorTree(issues, uiSchema), [issues, uiSchema]);
  if (!node) return null;
  const close = () => useEditor.getState().setOpenNode(null);
  const params = node.params ?? {};
  return (
    <aside className="inspector" aria-label="Node settings" data-inspector-for={nodeId}>
      <header className="panel-head">
        <span className={`panel-icon cat-${type?.category ?? "action"}`}>
          <TypeIcon name={type?.icon} />
        </span>
        <div className="panel-title">
          <strong>{type?.title ?? node.type}</strong>
          <span className="muted small">
            <code>{node.id}</code> · {node.type}
          </span>
        </div>
        <button className="icon-btn" aria-label="Close panel" onClick={close}>
          <X size={16} />
        </button>
      </header>
      <div className="panel-body">
        {type?.description && <p className="muted small">{type.description}</p>}
        <label className="control-label" htmlFor="node-title">
          Name on the canvas
        </label>
        <input
          id="node-title"
          className="form-control"
          dir="auto"
          value={node.title ?? ""}
          placeholder={type?.title}
          readOnly={readOnly}
          onChange={(e) => useEditor.getState().updateNode(nodeId, { title: e.target.value || undefined })}
        />
        <IssueList issues={issues} />
        {type ? (
          <Form
            schema={type.params_schema as RJSFSchema}
            uiSchema={uiSchema}
            formData={params}
            validator={validator}
            fields={FIELDS}
            widgets={WIDGETS}
            extraErrors={extraErrors as never}
            showErrorList={false}
            readonly={readOnly}
            idPrefix={`p_${nodeId}`}
            onChange={(e) => {
              if (JSON.stringify(e.formData ?? {}) !== JSON.stringify(params)) {
                useEditor.getState().updateNode(nodeId, { params: e.formData ?? {} });
              }
            }}
          >
            <></>
          </Form>
        ) : (
          <p className="error">Unknown node type {node.type}.</p>
        )}
      </div>
    </aside>
  );
}
