/**
 * Sample event and contact for a test run, pre-filled from the graph: the first trigger's event
 * type (and a keyword it listens for), tags the conditions ask about, and the custom contact
 * fields the server knows (`user.fields.<name>` context paths).
 */
import type { GraphNode, WorkflowGraph } from "../store/types";

const EVENT_TYPES: Record<string, string> = {
  "trigger.message_received": "MESSAGE_RECEIVED",
  "trigger.user_created": "USER_CREATED",
  "trigger.tag_added": "TAG_ADDED",
  "trigger.conversation_status_changed": "CONVERSATION_STATUS_CHANGED",
  "trigger.webhook": "WEBHOOK_RECEIVED",
  "trigger.schedule": "SCHEDULE",
  "trigger.manual": "MANUAL",
};

function firstTrigger(graph: WorkflowGraph): GraphNode | undefined {
  return graph.nodes.find((n) => n.type.startsWith("trigger.") && !n.disabled);
}

/** String values compared with `field` anywhere in the graph's rules and filters. */
function ruleValues(value: unknown, field: string, out: Set<string>): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => ruleValues(v, field, out));
  else if (value && typeof value === "object") {
    const rec = value as Record<string, unknown>;
    if (rec.field === field && typeof rec.value === "string") out.add(rec.value);
    Object.values(rec).forEach((v) => ruleValues(v, field, out));
  }
  return out;
}

function eventData(trigger: GraphNode | undefined): Record<string, unknown> {
  const params = trigger?.params ?? {};
  if (trigger?.type === "trigger.message_received") {
    const keywords = Array.isArray(params.keywords) ? (params.keywords as string[]) : [];
    const filtered = [...ruleValues(params.filter, "event.data.content", new Set())];
    const word = keywords[0] ?? filtered[0];
    return { content: word ?? "Hello" };
  }
  if (trigger?.type === "trigger.tag_added") return { tag: (params.tag as string) || "vip" };
  if (trigger?.type === "trigger.conversation_status_changed") {
    return { from: (params.from as string) || "open", to: (params.to as string) || "closed" };
  }
  return {};
}

export function sampleEvent(graph: WorkflowGraph): Record<string, unknown> {
  const trigger = firstTrigger(graph);
  const type = trigger?.type === "trigger.event"
    ? String(trigger.params?.event_type || "CUSTOM_EVENT")
    : EVENT_TYPES[trigger?.type ?? ""] ?? "MANUAL";
  return {
    event_type: type,
    user_id: "test-contact",
    conversation_id: "test-conversation",
    data: eventData(trigger),
  };
}

export function sampleContact(graph: WorkflowGraph, fieldPaths: string[] = []): Record<string, unknown> {
  const tags = [...ruleValues(graph.nodes.map((n) => n.params), "user.tags", new Set())];
  const fields: Record<string, string> = {};
  for (const path of fieldPaths) {
    if (path.startsWith("user.fields.")) fields[path.slice("user.fields.".length)] = "";
  }
  return {
    external_id: "test-contact",
    first_name: "Sara",
    last_name: "Ahmadi",
    email: "sara@example.com",
    phone: "+989120000000",
    channel: "telegram",
    tags,
    fields,
  };
}
