/** Goals (exit conditions) as the settings panel edits them: one kind per goal, a readable line. */
import type { Goal } from "../store/types";

export type GoalKind = "tag" | "event_type" | "rules";

export function goalKind(goal: Goal): GoalKind {
  if (goal.tag !== undefined) return "tag";
  if (goal.event_type !== undefined) return "event_type";
  return "rules";
}

/** A goal id from what it watches ("ORDER_PAID" -> "order_paid"), unique among `taken`. */
export function goalId(value: string, taken: string[]): string {
  const base = value.toLowerCase().replace(/[^a-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 56) || "goal";
  let id = base;
  for (let i = 2; taken.includes(id); i += 1) id = `${base}_${i}`;
  return id;
}

/** A new goal of `kind` watching `value` (a tag name, an EVENT_TYPE, or rules as JSON text). */
export function makeGoal(kind: GoalKind, value: string, taken: string[]): Goal | { error: string } {
  const text = value.trim();
  if (!text) return { error: "Say what the goal watches." };
  if (kind === "tag") return { id: goalId(`tag_${text}`, taken), tag: text };
  if (kind === "event_type") {
    const type = text.toUpperCase();
    if (!/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/.test(type)) return { error: "An event type looks like ORDER_PAID." };
    return { id: goalId(type, taken), event_type: type };
  }
  try {
    const rules = JSON.parse(text);
    if (!rules || typeof rules !== "object" || Array.isArray(rules)) return { error: "Rules are a JSON object such as {\"all\": [...]}" };
    return { id: goalId("rule", taken), rules };
  } catch {
    return { error: "Rules must be valid JSON." };
  }
}

/** One line per goal: "the contact gets the tag “vip”". */
export function goalText(goal: Goal): string {
  const parts: string[] = [];
  if (goal.event_type) parts.push(`an event ${goal.event_type} arrives`);
  if (goal.tag) parts.push(`the contact gets the tag “${goal.tag}”`);
  if (goal.rules) parts.push("a rule holds");
  return parts.join(" and ") || "—";
}
