/** Workflow settings: re-entry, runs per contact per day, time zone and the journey controls (the graph's `settings`). */
import { useMemo } from "react";
import { useEditor } from "../store/editor";
import type { WorkflowSettings } from "../store/types";
import { PanelHeader } from "../ui/PanelHeader";
import { IssueList } from "../workflows/IssueList";
import { JourneySettings } from "./JourneySettings";

function zones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  return intl.supportedValuesOf?.("timeZone") ?? ["UTC", "Asia/Tehran", "Europe/London"];
}

export function SettingsPanel({ onClose }: { onClose: () => void }) {
  const stored = useEditor((s) => s.graph.settings);
  const settings = stored ?? {};
  const readOnly = useEditor((s) => s.readOnly);
  const report = useEditor((s) => s.report);
  const issues = useMemo(() => (report?.errors ?? []).filter((i) => (i.field ?? i.path ?? "").startsWith("settings")), [report]);
  const tzList = useMemo(zones, []);
  const set = (patch: Partial<WorkflowSettings>) =>
    useEditor.getState().edit((g) => {
      const next: Record<string, unknown> = { ...g.settings, ...patch };
      for (const key of Object.keys(next)) if (next[key] === undefined || next[key] === "") delete next[key];
      return { ...g, settings: next as WorkflowSettings };
    }, `settings:${Object.keys(patch).join()}`);
  const reentry = settings.reentry ?? "always";
  return (
    <aside className="inspector settings-panel" aria-label="Workflow settings" id="settings-panel">
      <PanelHeader title="Workflow settings" subtitle="How and when runs may start" onClose={onClose} />
      <div className="panel-body">
        <IssueList issues={issues} />
        <label className="control-label" htmlFor="set-reentry">Re-entry</label>
        <select id="set-reentry" className="form-control" value={reentry} disabled={readOnly}
          onChange={(e) => set({ reentry: e.target.value as WorkflowSettings["reentry"], reentry_hours: e.target.value === "once_per_hours" ? settings.reentry_hours ?? 24 : undefined })}>
          <option value="always">Every time the trigger fires</option>
          <option value="once">Only once per contact, ever</option>
          <option value="once_per_hours">At most once per contact every N hours</option>
        </select>
        {reentry === "once_per_hours" && (
          <>
            <label className="control-label" htmlFor="set-reentry-hours">Hours between runs for one contact</label>
            <input id="set-reentry-hours" className="form-control" type="number" min={1} value={settings.reentry_hours ?? ""} readOnly={readOnly}
              onChange={(e) => set({ reentry_hours: e.target.value ? Number(e.target.value) : undefined })} />
          </>
        )}
        <label className="control-label" htmlFor="set-max-runs">Max runs per contact per day</label>
        <input id="set-max-runs" className="form-control" type="number" min={1} placeholder="no limit" value={settings.max_runs_per_contact_per_day ?? ""} readOnly={readOnly}
          onChange={(e) => set({ max_runs_per_contact_per_day: e.target.value ? Number(e.target.value) : undefined })} />
        <label className="control-label" htmlFor="set-timezone">Time zone</label>
        <input id="set-timezone" className="form-control" list="tz-list" placeholder="UTC" value={settings.timezone ?? ""} readOnly={readOnly}
          onChange={(e) => set({ timezone: e.target.value || undefined })} />
        <datalist id="tz-list">
          {tzList.map((z) => <option key={z} value={z} />)}
        </datalist>
        <p className="muted small">Waits like “until 09:00” and daily limits use this time zone.</p>
        <JourneySettings settings={settings} set={set} readOnly={readOnly} />
      </div>
    </aside>
  );
}
