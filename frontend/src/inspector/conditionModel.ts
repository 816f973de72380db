/**
 * The condition builder's model: rule trees (`{all}`, `{any}`, `{not}`, `{field, op, value}`,
 * `{code}`), the operators that fit a field's type, the value shape each operator takes, and
 * immutable edits addressed by a path of child indexes. Pure; unit-tested.
 */

export type Leaf = { field: string; op: string; value?: unknown };
export type Rule = { all: Rule[] } | { any: Rule[] } | { not: Rule } | Leaf | { code: string };
export type Path = number[];
export type FieldType = "string" | "number" | "boolean" | "list" | "datetime" | "object" | "any";
export type ValueShape = "none" | "single" | "list" | "pair";

const NONE = ["is_null", "is_not_null", "is_empty", "is_not_empty"];
const LIST = ["in", "not_in"];
const PAIR = ["between", "not_between"];

export const OPERATORS: Record<FieldType, string[]> = {
  string: ["equals", "not_equals", "contains", "not_contains", "icontains", "starts_with", "ends_with", "in", "not_in", "matches_regex", "is_empty", "is_not_empty", "is_null", "is_not_null"],
  number: ["equals", "not_equals", "greater", "greater_or_equal", "less", "less_or_equal", "between", "not_between", "in", "not_in", "is_null", "is_not_null"],
  boolean: ["equals", "not_equals", "is_null", "is_not_null"],
  list: ["contains", "not_contains", "is_empty", "is_not_empty", "is_null", "is_not_null"],
  datetime: ["greater", "greater_or_equal", "less", "less_or_equal", "between", "not_between", "is_null", "is_not_null"],
  object: ["is_empty", "is_not_empty", "is_null", "is_not_null", "equals", "not_equals"],
  any: ["equals", "not_equals", "contains", "not_contains", "icontains", "starts_with", "ends_with", "in", "not_in", "greater", "greater_or_equal", "less", "less_or_equal", "between", "not_between", "matches_regex", "is_empty", "is_not_empty", "is_null", "is_not_null"],
};

export const OPERATOR_LABELS: Record<string, string> = {
  equals: "equals", not_equals: "does not equal", contains: "contains", not_contains: "does not contain",
  icontains: "contains (any case)", starts_with: "starts with", ends_with: "ends with", in: "is one of",
  not_in: "is none of", matches_regex: "matches regex", is_empty: "is empty", is_not_empty: "is not empty",
  is_null: "is not set", is_not_null: "is set", greater: ">", greater_or_equal: "≥", less: "<",
  less_or_equal: "≤", between: "is between", not_between: "is not between",
};

export function normaliseType(type: string | undefined): FieldType {
  const t = (type ?? "").toLowerCase();
  if (["string", "text", "str"].includes(t)) return "string";
  if (["number", "integer", "int", "float"].includes(t)) return "number";
  if (["boolean", "bool"].includes(t)) return "boolean";
  if (["list", "array"].includes(t)) return "list";
  if (["datetime", "date", "time"].includes(t)) return "datetime";
  if (["object", "dict"].includes(t)) return "object";
  return "any";
}

export function operatorsFor(type: string | undefined): string[] {
  return OPERATORS[normaliseType(type)];
}

export function valueShape(op: string): ValueShape {
  if (NONE.includes(op)) return "none";
  if (LIST.includes(op)) return "list";
  if (PAIR.includes(op)) return "pair";
  return "single";
}

/** The leaf with operator `op`, its value carried over in the shape `op` takes. */
export function withOperator(leaf: Leaf, op: string): Leaf {
  const shape = valueShape(op);
  const old = leaf.value;
  const first = Array.isArray(old) ? old[0] : old;
  if (shape === "none") return { field: leaf.field, op };
  if (shape === "list") return { field: leaf.field, op, value: Array.isArray(old) ? old : first === undefined || first === "" ? [] : [first] };
  if (shape === "pair") return { field: leaf.field, op, value: Array.isArray(old) && old.length === 2 ? old : [first ?? "", ""] };
  return { field: leaf.field, op, value: first ?? "" };
}

/** Turn typed text into a number when the field is numeric and the text is one. */
export function typedValue(text: string, type: string | undefined): string | number {
  const t = normaliseType(type);
  if ((t === "number" || t === "any") && text.trim() !== "" && !Number.isNaN(Number(text))) {
    return t === "number" ? Number(text) : text;
  }
  return text;
}

export function kindOf(rule: Rule): "all" | "any" | "not" | "leaf" | "code" {
  if ("all" in rule) return "all";
  if ("any" in rule) return "any";
  if ("not" in rule) return "not";
  if ("code" in rule) return "code";
  return "leaf";
}

export function childrenOf(rule: Rule): Rule[] {
  if ("all" in rule) return rule.all;
  if ("any" in rule) return rule.any;
  if ("not" in rule) return [rule.not];
  return [];
}

function withChildren(rule: Rule, children: Rule[]): Rule {
  if ("all" in rule) return { ...rule, all: children };
  if ("any" in rule) return { ...rule, any: children };
  if ("not" in rule) return { ...rule, not: children[0] ?? newLeaf() };
  return rule;
}

export function newLeaf(field = "event.data.content"): Leaf {
  return { field, op: "icontains", value: "" };
}

/** The rule at `path` (child indexes from the root). */
export function getAt(rule: Rule, path: Path): Rule {
  return path.reduce((r, i) => childrenOf(r)[i], rule);
}

/** A copy of `root` with the rule at `path` replaced by `update(old)`. */
export function updateAt(root: Rule, path: Path, update: (r: Rule) => Rule): Rule {
  if (!path.length) return update(root);
  const [head, ...rest] = path;
  const children = childrenOf(root).map((c, i) => (i === head ? updateAt(c, rest, update) : c));
  return withChildren(root, children);
}

export function addChild(root: Rule, path: Path, child: Rule): Rule {
  return updateAt(root, path, (r) => withChildren(r, [...childrenOf(r), child]));
}

export function removeAt(root: Rule, path: Path): Rule {
  if (!path.length) return { all: [] };
  const parent = path.slice(0, -1);
  const index = path[path.length - 1];
  return updateAt(root, parent, (r) => ("not" in r ? { all: [] } : withChildren(r, childrenOf(r).filter((_, i) => i !== index))));
}

/** Switch a group between all / any, or wrap / unwrap a `not`. */
export function setGroupKind(rule: Rule, kind: "all" | "any"): Rule {
  return kind === "all" ? { all: childrenOf(rule) } : { any: childrenOf(rule) };
}

export function negate(rule: Rule): Rule {
  return "not" in rule ? rule.not : { not: rule };
}

/** Rules as stored: `{}` or missing becomes an empty `all` group for editing. */
export function asRoot(value: unknown): Rule {
  if (value && typeof value === "object" && Object.keys(value).length) return value as Rule;
  return { all: [] };
}
