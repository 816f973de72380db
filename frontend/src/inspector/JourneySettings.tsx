/**
 * Journey controls in the workflow settings: goals (exit conditions: a waiting run ends as
 * converted), quiet hours (messages due inside them wait, in the contact's time zone) and the
 * priority that decides who gets the last message under a frequency cap.
 */
import { useState } from "react";
import { useEditor } from "../store/editor";
import type { Goal, WorkflowSettings } from "../store/types";
import { goalText, makeGoal, type GoalKind } from "./goals";

type Patch = (patch: Partial<WorkflowSettings>) => void;

export function JourneySettings({ settings, set, readOnly }: { settings: WorkflowSettings; set: Patch; readOnly: boolean }) {
  return (
    <section className="journey" id="journey-settings">
      <h4 className="panel-section">Journey</h4>
      <Goals goals={settings.goals ?? []} set={set} readOnly={readOnly} />
      <QuietHours settings={settings} set={set} readOnly={readOnly} />
      <label className="control-label" htmlFor="set-priority">Priority</label>
      <input id="set-priority" className="form-control" type="number" min={-1000} max={1000} placeholder="0" value={settings.priority ?? ""} readOnly={readOnly}
        onChange={(e) => set({ priority: e.target.value === "" ? undefined : Number(e.target.value) })} />
      <p className="muted small">Under a frequency cap, a contact’s last message of the day goes to the workflow with the higher priority.</p>
    </section>
  );
}

function Goals({ goals, set, readOnly }: { goals: Goal[]; set: Patch; readOnly: boolean }) {
  const [kind, setKind] = useState<GoalKind>("tag");
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const add = () => {
    const goal = makeGoal(kind, value, goals.map((g) => g.id));
    if ("error" in goal) return setError(goal.error);
    setError(null);
    setValue("");
    set({ goals: [...goals, goal] });
  };
  const remove = (id: string) => set({ goals: goals.length > 1 ? goals.filter((g) => g.id !== id) : undefined });
  return (
    <>
      <label className="control-label" htmlFor="goal-value">Goals (exit conditions)</label>
      <p className="muted small">A waiting run ends as a <b>conversion</b> when one holds; nothing after the wait runs.</p>
      <ul className="goal-list" id="goal-list">
        {goals.map((g) => (
          <li key={g.id} data-goal-id={g.id}>
            <span>{goalText(g)}</span>
            {!readOnly && <button type="button" className="icon-btn" aria-label={`Remove goal ${g.id}`} onClick={() => remove(g.id)}>×</button>}
          </li>
        ))}
        {goals.length === 0 && <li className="muted small">No goals: runs go to their end.</li>}
      </ul>
      {!readOnly && (
        <div className="goal-add">
          <select id="goal-kind" className="form-control" value={kind} onChange={(e) => setKind(e.target.value as GoalKind)} aria-label="Goal kind">
            <option value="tag">the contact gets the tag</option>
            <option value="event_type">an event arrives of type</option>
            <option value="rules">a rule holds (JSON)</option>
          </select>
          {kind === "rules" ? (
            <textarea id="goal-value" className="form-control" rows={3} value={value} onChange={(e) => setValue(e.target.value)}
              placeholder='{"all": [{"field": "user.fields.score", "op": "greater", "value": 5}]}' />
          ) : (
            <input id="goal-value" className="form-control" value={value} onChange={(e) => setValue(e.target.value)}
              onKeyDown={(e) => e.key === "Enter" && add()} placeholder={kind === "tag" ? "bought" : "ORDER_PAID"} />
          )}
          <button type="button" className="btn small" id="add-goal" onClick={add}>Add goal</button>
          {error && <p className="error small" id="goal-error">{error}</p>}
        </div>
      )}
    </>
  );
}

function QuietHours({ settings, set, readOnly }: { settings: WorkflowSettings; set: Patch; readOnly: boolean }) {
  const quiet = settings.quiet_hours;
  const zone = useEditor((s) => s.graph.settings?.timezone) || "UTC";
  const patch = (p: Partial<{ start: string; end: string }>) => set({ quiet_hours: { ...(quiet ?? { start: "21:00", end: "08:00" }), ...p } });
  return (
    <>
      <label className="control-label checkbox">
        <input type="checkbox" id="set-quiet" checked={!!quiet} disabled={readOnly}
          onChange={(e) => set({ quiet_hours: e.target.checked ? { start: "21:00", end: "08:00" } : undefined })} />
        Quiet hours
      </label>
      {quiet && (
        <div className="quiet-hours">
          <input id="set-quiet-start" type="time" className="form-control" value={quiet.start} readOnly={readOnly} aria-label="Quiet from"
            onChange={(e) => e.target.value && patch({ start: e.target.value })} />
          <span>to</span>
          <input id="set-quiet-end" type="time" className="form-control" value={quiet.end} readOnly={readOnly} aria-label="Quiet until"
            onChange={(e) => e.target.value && patch({ end: e.target.value })} />
        </div>
      )}
      <p className="muted small">
        Messages due inside the quiet hours wait until they end — in the contact’s time zone (the contact field <code>timezone</code>), else {zone}.
      </p>
    </>
  );
}
