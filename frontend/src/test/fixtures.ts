/** Node types and graphs for the unit tests, shaped like the API's (a subset of the registry). */
import type { NodeType, WorkflowGraph } from "../store/types";

function type(partial: Partial<NodeType> & Pick<NodeType, "type" | "category">): NodeType {
  return {
    title: partial.type, description: "", icon: "zap", inputs: ["in"], outputs: ["out"], error_port: true,
    params_schema: { type: "object", properties: {} }, template_fields: [], rule_fields: [], code_fields: [],
    ...partial,
  };
}

export const TYPES: Record<string, NodeType> = Object.fromEntries(
  [
    type({ type: "trigger.message_received", category: "trigger", inputs: [], error_port: false, rule_fields: ["filter"],
      params_schema: { type: "object", properties: { keywords: { type: "array", default: [] }, filter: { $ref: "#/$defs/rules" } } } }),
    type({ type: "logic.condition", category: "logic", outputs: ["true", "false"], rule_fields: ["rules"],
      params_schema: { type: "object", properties: { rules: { $ref: "#/$defs/rules" } } } }),
    type({ type: "logic.switch", category: "logic", outputs: ["default"], outputs_from: "cases", rule_fields: ["cases[*].rules"],
      params_schema: { type: "object", properties: { cases: { type: "array", items: { type: "object", properties: { name: { type: "string" }, rules: { $ref: "#/$defs/rules" } } } } } } }),
    type({ type: "logic.ab_split", category: "logic", outputs: [], outputs_from: "variants" }),
    type({ type: "action.send_message", category: "action", template_fields: ["text"],
      params_schema: { type: "object", properties: { text: { type: "string", maxLength: 10000 } } } }),
    type({ type: "action.update_user", category: "action", template_fields: ["changes"],
      params_schema: { type: "object", properties: { changes: { type: "object" } } } }),
    type({ type: "action.custom_code", category: "action", code_fields: ["code"],
      params_schema: { type: "object", properties: { code: { type: "string" }, timeout: { type: "number", default: 2 } } } }),
  ].map((t) => [t.type, t]),
);

export function coupon(): WorkflowGraph {
  return {
    format: "workflow-graph/v1",
    name: "Coupon request",
    settings: { reentry: "always", max_runs_per_contact_per_day: 3, timezone: "Asia/Tehran" },
    nodes: [
      { id: "trigger", type: "trigger.message_received", position: { x: 0, y: 0 },
        params: { filter: { any: [{ field: "event.data.content", op: "icontains", value: "کد تخفیف" }] } } },
      { id: "interested", type: "logic.condition", position: { x: 300, y: 0 },
        params: { rules: { all: [{ field: "user.tags", op: "contains", value: "interested" }] } } },
      { id: "send", type: "action.send_message", position: { x: 600, y: 0 }, params: { text: "{{ user.first_name }}, your code: SAVE10" } },
    ],
    edges: [
      { id: "e1", source: "trigger", target: "interested" },
      { id: "e2", source: "interested", source_port: "true", target: "send" },
    ],
  };
}
