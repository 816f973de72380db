/**
 * From a node type's declaration to rjsf settings: the uiSchema that puts the condition builder,
 * template inputs and code editor on the declared params, and the server's issues as an
 * rjsf error tree (each message beside its field). Pure; unit-tested.
 */
import type { Issue, JsonSchema, NodeType } from "../store/types";

type Ui = Record<string, unknown>;

/** "cases[*].rules" → ["cases", "*", "rules"]; "cases[0].rules" → ["cases", "0", "rules"]. */
export function splitPath(path: string): string[] {
  return path.split(/\.|\[|\]/).filter((s) => s !== "");
}

function subSchema(schema: JsonSchema | undefined, key: string): JsonSchema | undefined {
  if (!schema) return undefined;
  if (key === "*" || /^\d+$/.test(key)) return schema.items as JsonSchema | undefined;
  return (schema.properties as Record<string, JsonSchema> | undefined)?.[key];
}

function place(ui: Ui, schema: JsonSchema, parts: string[], leaf: Ui): void {
  const target = parts.reduce<JsonSchema | undefined>((s, part) => subSchema(s, part), schema);
  if (leaf["ui:widget"] && target?.type !== "string") return; // templates inside objects stay plain
  let node = ui;
  for (const part of parts) node = (node[part === "*" || /^\d+$/.test(part) ? "items" : part] ??= {}) as Ui;
  Object.assign(node, leaf);
}

export function uiSchemaFor(type: NodeType): Ui {
  const ui: Ui = { "ui:submitButtonOptions": { norender: true } };
  const schema = type.params_schema;
  for (const path of type.rule_fields) place(ui, schema, splitPath(path), { "ui:field": "rules", "ui:fieldReplacesAnyOrOneOf": true });
  for (const path of type.code_fields) place(ui, schema, splitPath(path), { "ui:field": "code" });
  for (const path of type.template_fields) place(ui, schema, splitPath(path), { "ui:widget": "template" });
  return ui;
}

function hasCustomField(ui: Ui, parts: string[]): number {
  let node: Ui | undefined = ui;
  for (let i = 0; i < parts.length; i += 1) {
    const key = /^\d+$/.test(parts[i]) ? "items" : parts[i];
    node = node?.[key] as Ui | undefined;
    if (node?.["ui:field"]) return i + 1;
  }
  return parts.length;
}

/** The issues about params as rjsf `extraErrors`; paths into a rule tree stop at the rules field. */
export function errorTree(issues: Issue[], ui: Ui): Ui {
  const tree: Ui = {};
  for (const issue of issues) {
    const raw = issue.path ?? issue.field;
    if (!raw) continue;
    const parts = splitPath(raw.replace(/^params\.?/, ""));
    if (!parts.length) continue;
    let node = tree;
    for (const part of parts.slice(0, hasCustomField(ui, parts))) node = (node[part] ??= {}) as Ui;
    ((node.__errors ??= []) as string[]).push(issue.message);
  }
  return tree;
}
