/** The condition builder: nested all/any/not groups of field tests, each input fitted to its operator. */
import { Plus, Trash2 } from "lucide-react";
import { useContextPaths } from "./contextPaths";
import * as m from "./conditionModel";

interface Props {
  value: unknown;
  onChange: (rule: m.Rule) => void;
  idPrefix: string;
  readOnly?: boolean;
}

export function ConditionBuilder({ value, onChange, idPrefix, readOnly }: Props) {
  const root = m.asRoot(value);
  const rootIsGroup = "all" in root || "any" in root;
  const top: m.Rule = rootIsGroup ? root : { all: [root] };
  return (
    <div className="condition-builder" data-rules-for={idPrefix}>
      <datalist id={`${idPrefix}-paths`}>
        <PathOptions />
      </datalist>
      <RuleView rule={top} path={[]} root={top} onChange={onChange} listId={`${idPrefix}-paths`} readOnly={readOnly} />
    </div>
  );
}

function PathOptions() {
  const paths = useContextPaths();
  return (
    <>
      {paths.map((p) => (
        <option key={p.path} value={p.path}>
          {p.description ? `${p.type} · ${p.description}` : p.type}
        </option>
      ))}
    </>
  );
}

interface RuleProps {
  rule: m.Rule;
  path: m.Path;
  root: m.Rule;
  onChange: (rule: m.Rule) => void;
  listId: string;
  readOnly?: boolean;
}

function RuleView(props: RuleProps) {
  const kind = m.kindOf(props.rule);
  if (kind === "all" || kind === "any") return <GroupView {...props} />;
  if (kind === "not") {
    const inner = (props.rule as { not: m.Rule }).not;
    return (
      <div className="rule-not">
        <span className="rule-tag">NOT</span>
        <RuleView {...props} rule={inner} path={[...props.path, 0]} />
      </div>
    );
  }
  if (kind === "code") return <div className="rule-code muted small">custom code: <code>{(props.rule as { code: string }).code}</code></div>;
  return <LeafView {...props} leaf={props.rule as m.Leaf} />;
}

function GroupView({ rule, path, root, onChange, listId, readOnly }: RuleProps) {
  const kind = m.kindOf(rule) as "all" | "any";
  const children = m.childrenOf(rule);
  const set = (update: (r: m.Rule) => m.Rule) => onChange(m.updateAt(root, path, update));
  return (
    <div className={`rule-group group-${kind}`} data-rule-path={path.join(".")}>
      <div className="group-head">
        <select aria-label="Match" value={kind} disabled={readOnly} onChange={(e) => set((r) => m.setGroupKind(r, e.target.value as "all" | "any"))}>
          <option value="all">All of these hold</option>
          <option value="any">Any of these holds</option>
        </select>
        {path.length > 0 && !readOnly && (
          <button className="icon-btn" aria-label="Remove group" onClick={() => onChange(m.removeAt(root, path))}>
            <Trash2 size={13} />
          </button>
        )}
      </div>
      {children.map((child, i) => (
        <RuleView key={i} rule={child} path={[...path, i]} root={root} onChange={onChange} listId={listId} readOnly={readOnly} />
      ))}
      {!readOnly && (
        <div className="group-actions">
          <button className="btn small" data-add="condition" onClick={() => onChange(m.addChild(root, path, m.newLeaf()))}>
            <Plus size={12} /> Condition
          </button>
          <button className="btn small" data-add="group" onClick={() => onChange(m.addChild(root, path, { any: [m.newLeaf()] }))}>
            <Plus size={12} /> Group
          </button>
          <button className="btn small" data-add="not" onClick={() => onChange(m.addChild(root, path, { not: m.newLeaf() }))}>
            <Plus size={12} /> Not
          </button>
        </div>
      )}
    </div>
  );
}

function LeafView({ leaf, path, root, onChange, listId, readOnly }: RuleProps & { leaf: m.Leaf }) {
  const paths = useContextPaths();
  const fieldType = paths.find((p) => p.path === leaf.field)?.type;
  const ops = m.operatorsFor(fieldType);
  const set = (next: m.Leaf) => onChange(m.updateAt(root, path, () => next));
  const shape = m.valueShape(leaf.op);
  return (
    <div className="rule-leaf" data-rule-path={path.join(".")}>
      <input
        className="rule-field"
        aria-label="Field"
        list={listId}
        value={leaf.field}
        readOnly={readOnly}
        placeholder="event.data.content"
        onChange={(e) => set({ ...leaf, field: e.target.value })}
      />
      <select className="rule-op" aria-label="Operator" value={leaf.op} disabled={readOnly} onChange={(e) => set(m.withOperator(leaf, e.target.value))}>
        {(ops.includes(leaf.op) ? ops : [leaf.op, ...ops]).map((op) => (
          <option key={op} value={op}>
            {m.OPERATOR_LABELS[op] ?? op}
          </option>
        ))}
      </select>
      <ValueInput shape={shape} leaf={leaf} fieldType={fieldType} onChange={(value) => set({ ...leaf, value })} readOnly={readOnly} />
      {!readOnly && (
        <button className="icon-btn" aria-label="Remove condition" onClick={() => onChange(m.removeAt(root, path))}>
          <Trash2 size={13} />
        </button>
      )}
    </div>
  );
}

function ValueInput({ shape, leaf, fieldType, onChange, readOnly }: { shape: m.ValueShape; leaf: m.Leaf; fieldType?: string; onChange: (v: unknown) => void; readOnly?: boolean }) {
  if (shape === "none") return <span className="rule-novalue" />;
  if (shape === "pair") {
    const pair = Array.isArray(leaf.value) ? leaf.value : ["", ""];
    return (
      <span className="rule-pair">
        {[0, 1].map((i) => (
          <input key={i} className="rule-value" aria-label={i ? "To" : "From"} dir="auto" readOnly={readOnly} value={String(pair[i] ?? "")}
            onChange={(e) => onChange(pair.map((v, j) => (j === i ? m.typedValue(e.target.value, fieldType) : v)))} />
        ))}
      </span>
    );
  }
  if (shape === "list") {
    const items = Array.isArray(leaf.value) ? leaf.value : [];
    return (
      <input className="rule-value" aria-label="Values (comma-separated)" dir="auto" readOnly={readOnly} placeholder="a, b, c" value={items.join(", ")}
        onChange={(e) => onChange(e.target.value.split(",").map((s) => s.trim()).filter(Boolean).map((s) => m.typedValue(s, fieldType)))} />
    );
  }
  return (
    <input className="rule-value" aria-label="Value" dir="auto" readOnly={readOnly} value={String(leaf.value ?? "")}
      onChange={(e) => onChange(m.typedValue(e.target.value, fieldType))} />
  );
}
