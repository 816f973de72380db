/** One-line summaries of a node's params for its card: a message's text, a condition's rule... */
import type { GraphNode } from "../store/types";

type Rule = Record<string, unknown>;

const OP_WORDS: Record<string, string> = {
  equals: "=", not_equals: "≠", contains: "contains", not_contains: "doesn't contain",
  icontains: "contains", starts_with: "starts with", ends_with: "ends with", in: "in", not_in: "not in",
  is_null: "is null", is_not_null: "is set", is_empty: "is empty", is_not_empty: "is not empty",
  greater: ">", greater_or_equal: "≥", less: "<", less_or_equal: "≤", between: "between",
  not_between: "not between", matches_regex: "matches",
};

function valueText(value: unknown): string {
  if (Array.isArray(value)) return value.map(valueText).join(", ");
  return typeof value === "string" ? `“${value}”` : JSON.stringify(value ?? "");
}

/** A rule tree as short text: `user.tags contains “interested” and …`. */
export function ruleText(rule: unknown): string {
  if (!rule || typeof rule !== "object") return "";
  const r = rule as Rule;
  if (Array.isArray(r.all)) return r.all.map(ruleText).filter(Boolean).join(" and ");
  if (Array.isArray(r.any)) return r.any.map(ruleText).filter(Boolean).join(" or ");
  if (r.not) return `not (${ruleText(r.not)})`;
  if (typeof r.code === "string") return "custom code";
  if (typeof r.field === "string") {
    const op = OP_WORDS[String(r.op)] ?? String(r.op ?? "");
    return "value" in r ? `${r.field} ${op} ${valueText(r.value)}` : `${r.field} ${op}`;
  }
  return "";
}

function clip(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The card's one-line summary for `node` ("" when there is nothing to say). */
export function summarize(node: GraphNode): string {
  const p = (node.params ?? {}) as Record<string, unknown>;
  const kind = node.type.split(".").pop() ?? "";
  if (p.rules) return clip(ruleText(p.rules)) || "no rule yet";
  if (p.filter && node.type.startsWith("trigger.")) return clip(ruleText(p.filter)) || "any";
  if (Array.isArray(p.cases)) return clip(p.cases.map((c) => (c as Rule).name).join(" · "));
  if (Array.isArray(p.variants)) {
    return clip(p.variants.map((v) => `${(v as Rule).name} ${(v as Rule).weight ?? 1}`).join(" / "));
  }
  if (kind === "wait") {
    const parts = ["days", "hours", "minutes", "seconds"].filter((k) => p[k]).map((k) => `${p[k]} ${k}`);
    return parts.length ? `wait ${parts.join(" ")}` : p.until ? `until ${p.until}` : "";
  }
  for (const key of ["text", "subject", "tag", "url", "status", "event_type", "tag_name"]) {
    if (typeof p[key] === "string" && p[key]) return clip(String(p[key]));
  }
  if (typeof p.code === "string") return clip(p.code.split("\n")[0] ?? "");
  return "";
}
