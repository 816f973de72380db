/** Wake-ups: every pending wait, by workflow and hour (GET /wake-ups/), and their display helpers. */
import { request } from "../api";

export interface HourCount {
  hour: string;
  count: number;
  overdue: number;
}

export interface WorkflowWakeups {
  workflow_id: number;
  workflow_name: string;
  pending: number;
  overdue: number;
  hours: HourCount[];
}

export interface SoonWait {
  execution_id: number;
  workflow_id: number;
  contact_id: number | null;
  node_id: string | null;
  resume_at: string;
  overdue: boolean;
}

export interface Wakeups {
  now: string;
  overdue_after_seconds?: number;
  pending: number;
  overdue: number;
  workflows: WorkflowWakeups[];
  soonest: SoonWait[];
}

export const wakeupsApi = {
  get: () => request<Wakeups>("GET", "/wake-ups/?limit=100"),
};

/** Bar height (px) per hour, the busiest hour `max` tall, a non-empty one at least 3 px. */
export function barHeights(hours: HourCount[], max = 48): number[] {
  const top = Math.max(0, ...hours.map((h) => h.count));
  return hours.map((h) => (top && h.count ? Math.max(3, Math.round((h.count / top) * max)) : 0));
}

/** "Sat 14:00" in the viewer's zone for an hour bucket; "overdue" buckets keep their hour. */
export function hourLabel(iso: string, locale?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const day = d.toLocaleDateString(locale, { weekday: "short" });
  const time = d.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", hour12: false });
  return `${day} ${time}`;
}
