/** The node panel: the params form generated from the node type's JSON Schema, with the server's errors beside fields. */
import Form from "@rjsf/core";
import type { RJSFSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { useMemo } from "react";
import { issuesOf, useEditor } from "../store/editor";
import { useNodeTypes } from "../store/nodeTypes";
import type { GraphNode, Issue, NodeType } from "../store/types";
import { TypeIcon } from "../ui/icons";
import { PanelHeader } from "../ui/PanelHeader";
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
  const issues = useMemo(() => issuesOf(report).filter((i) => i.node_id === nodeId), [report, nodeId]);
  if (!node) return null;
  const icon = (
    <span className={`panel-icon cat-${type?.category ?? "action"}`}>
      <TypeIcon name={type?.icon} />
    </span>
  );
  return (
    <aside className="inspector" aria-label="Node settings" data-inspector-for={nodeId}>
      <PanelHeader icon={icon} title={type?.title ?? node.type} subtitle={<><code>{node.id}</code> · {node.type}</>}
        onClose={() => useEditor.getState().setOpenNode(null)} />
      <div className="panel-body">
        {readOnly && <p className="readonly-note" id="inspector-readonly">Read-only: a saved version is shown.</p>}
        {type?.description && <p className="muted small">{type.description}</p>}
        <label className="control-label" htmlFor="node-title">
          Name on the canvas
        </label>
        <input id="node-title" className="form-control" dir="auto" value={node.title ?? ""} placeholder={type?.title} readOnly={readOnly}
          onChange={(e) => useEditor.getState().updateNode(nodeId, { title: e.target.value || undefined })} />
        <EnabledToggle node={node} readOnly={readOnly} />
        <IssueList issues={issues} />
        {type ? <ParamsForm node={node} type={type} issues={issues} readOnly={readOnly} /> : <p className="error">Unknown node type {node.type}.</p>}
      </div>
    </aside>
  );
}

/** Switch the node off (runs pass through it without running it) or on: one undo step each. */
function EnabledToggle({ node, readOnly }: { node: GraphNode; readOnly: boolean }) {
  return (
    <>
      <label className="control-label checkbox" htmlFor="node-disabled">
        <input id="node-disabled" type="checkbox" checked={!!node.disabled} disabled={readOnly}
          onChange={() => useEditor.getState().toggleDisabled([node.id])} />
        Disabled
      </label>
      <p className="field-description">Runs pass through a disabled node without running it (shortcut D).</p>
    </>
  );
}

function ParamsForm({ node, type, issues, readOnly }: { node: GraphNode; type: NodeType; issues: Issue[]; readOnly: boolean }) {
  const uiSchema = useMemo(() => uiSchemaFor(type), [type]);
  const extraErrors = useMemo(() => errorTree(issues, uiSchema), [issues, uiSchema]);
  const params = node.params ?? {};
  return (
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
      disabled={readOnly}
      idPrefix={`p_${node.id}`}
      onChange={(e) => {
        if (JSON.stringify(e.formData ?? {}) !== JSON.stringify(params)) {
          useEditor.getState().updateNode(node.id, { params: e.formData ?? {} });
        }
      }}
    >
      <></>
    </Form>
  );
}
