/** The workflow graph contract (workflow-graph/v1) and the API shapes the editor reads. */

export interface XY {
  x: number;
  y: number;
}

export interface GraphNode {
  id: string;
  type: string;
  position?: XY;
  params?: Record<string, unknown>;
  title?: string;
  retry?: Record<string, number>;
  disabled?: boolean;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  source_port?: string;
}

/** A sticky note: stored under the graph's `ui.notes`, ignored by the engine. */
export interface StickyNote {
  id: string;
  text: string;
  position: XY;
  width?: number;
  height?: number;
}

export interface WorkflowSettings {
  reentry?: "always" | "once" | "once_per_hours";
  reentry_hours?: number;
  max_runs_per_contact_per_day?: number | null;
  timezone?: string;
  max_steps?: number;
  /** Who gets a contact's last message of the day under a frequency cap: the higher. */
  priority?: number;
  /** Messages due inside [start, end) (the contact's fields.timezone, else `timezone`) wait. */
  quiet_hours?: { start: string; end: string; node_types?: string[] };
  /** Exit conditions: a waiting run ends as `converted` when one holds. */
  goals?: Goal[];
  test_recipients_only?: boolean;
}

export interface Goal {
  id: string;
  tag?: string;
  event_type?: string;
  rules?: Record<string, unknown>;
}

export interface WorkflowGraph {
  format: "workflow-graph/v1";
  name?: string;
  description?: string;
  settings?: WorkflowSettings;
  nodes: GraphNode[];
  edges: GraphEdge[];
  ui?: { notes?: StickyNote[] };
}

export type JsonSchema = Record<string, unknown>;

export interface NodeType {
  type: string;
  category: "trigger" | "logic" | "flow" | "action";
  title: string;
  description: string;
  icon: string;
  inputs: string[];
  outputs: string[];
  outputs_from?: string;
  outputs_extra?: string[];
  error_port: boolean;
  params_schema: JsonSchema;
  template_fields: string[];
  rule_fields: string[];
  code_fields: string[];
}

export interface Issue {
  code: string;
  message: string;
  node_id?: string;
  edge_id?: string;
  path?: string;
  field?: string;
  severity?: "error" | "warning";
}

export interface ValidationReport {
  ok: boolean;
  errors: Issue[];
  warnings: Issue[];
}

export interface Workflow {
  id: number;
  name: string;
  description?: string;
  status: "draft" | "active" | "paused" | string;
  version: number;
  graph: WorkflowGraph;
  validation?: ValidationReport;
  updated_at?: string;
  created_at?: string;
  last_run_at?: string | null;
  runs_today?: number;
  success_rate?: number | null;
}

export const EMPTY_GRAPH: WorkflowGraph = { format: "workflow-graph/v1", nodes: [], edges: [] };
