/** Custom rjsf fields and widgets: the condition builder, template text with `{{` suggestions and preview, custom code. */
import type { FieldProps, WidgetProps } from "@rjsf/utils";
import { lazy, Suspense, useRef, useState } from "react";
import { api, ApiError, type ContextPath } from "../api";
import { ConditionBuilder } from "./ConditionBuilder";
import { useContextPaths } from "./contextPaths";

const CodeEditor = lazy(() => import("./CodeEditor"));

export const SAMPLE_CONTEXT = {
  user: { first_name: "Sara", last_name: "Ahmadi", email: "sara@example.com", phone: "+989120000000", channel: "telegram", tags: ["interested"], fields: {} },
  event: { type: "MESSAGE_RECEIVED", data: { content: "سلام، کد تخفیف دارید؟" }, user_id: "customer123", conversation_id: "conv1" },
};

// The field's own errors (rawErrors) are shown by rjsf's field template around these fields.

export function RulesField(props: FieldProps) {
  const { formData, onChange, fieldPathId, schema, readonly, disabled, name } = props;
  return (
    <div className="form-group field-rules" data-field={name}>
      <label className="control-label">{schema.title ?? name}</label>
      <ConditionBuilder
        value={formData}
        idPrefix={fieldPathId.$id}
        readOnly={readonly || disabled}
        onChange={(rule) => onChange(rule as never, fieldPathId.path)}
      />
    </div>
  );
}

/** The `{{ path` being typed just before the caret, or null. */
export function openTemplateVar(text: string, caret: number): string | null {
  const before = text.slice(0, caret);
  const open = before.lastIndexOf("{{");
  if (open < 0 || before.lastIndexOf("}}") > open) return null;
  const partial = before.slice(open + 2).trimStart();
  return /^[\w.]*$/.test(partial) ? partial : null;
}

function Suggestions({ paths, onPick }: { paths: ContextPath[]; onPick: (path: string) => void }) {
  if (!paths.length) return null;
  return (
    <ul className="suggestions" role="listbox" aria-label="Variables">
      {paths.map((p) => (
        <li key={p.path}>
          <button type="button" role="option" aria-selected={false} onMouseDown={(e) => e.preventDefault()} onClick={() => onPick(p.path)}>
            <code>{p.path}</code> <span className="muted small">{p.type}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

function TemplatePreview({ id, text }: { id: string; text: string }) {
  const [preview, setPreview] = useState<{ ok: boolean; text: string } | null>(null);
  const run = async () => {
    try {
      setPreview(await api.renderTemplate(text, SAMPLE_CONTEXT));
    } catch (e) {
      setPreview({ ok: false, text: e instanceof ApiError ? e.message : String(e) });
    }
  };
  return (
    <>
      <div className="template-tools">
        <button type="button" className="link small" onClick={run} data-preview-for={id}>
          Preview
        </button>
        <span className="muted small">type {"{{"} for variables</span>
      </div>
      {preview && (
        <div className={`template-preview${preview.ok ? "" : " bad"}`} dir="auto" data-preview={id}>
          {preview.text || <span className="muted">(empty)</span>}
        </div>
      )}
    </>
  );
}

export function TemplateWidget(props: WidgetProps) {
  const { id, value, onChange, readonly, disabled, schema, options } = props;
  const text = typeof value === "string" ? value : "";
  const ref = useRef<HTMLTextAreaElement>(null);
  const [partial, setPartial] = useState<string | null>(null);
  const paths = useContextPaths();
  const suggestions = partial === null ? [] : paths.filter((p) => p.path.startsWith(partial) && p.path !== partial).slice(0, 8);
  const multiline = options.multiline !== false && ((schema.maxLength as number | undefined) ?? 10000) > 2000;
  const track = (el: HTMLTextAreaElement) => setPartial(openTemplateVar(el.value, el.selectionStart ?? el.value.length));
  const insert = (path: string) => {
    const caret = ref.current?.selectionStart ?? text.length;
    const open = text.slice(0, caret).lastIndexOf("{{");
    onChange(`${text.slice(0, open)}{{ ${path} }}${text.slice(caret)}`);
    setPartial(null);
    requestAnimationFrame(() => ref.current?.focus());
  };
  return (
    <div className="template-widget">
      <textarea ref={ref} id={id} dir="auto" value={text} readOnly={readonly} disabled={disabled} rows={multiline ? 4 : 1}
        className={`form-control template-input${multiline ? "" : " single-line"}`}
        onChange={(e) => {
          onChange(e.target.value === "" ? undefined : e.target.value);
          track(e.target);
        }}
        onKeyUp={(e) => track(e.currentTarget)}
        onBlur={() => setTimeout(() => setPartial(null), 150)} />
      <Suggestions paths={suggestions} onPick={insert} />
      <TemplatePreview id={id} text={text} />
    </div>
  );
}

export function CodeField(props: FieldProps) {
  const { formData, onChange, fieldPathId, schema, readonly, name } = props;
  return (
    <div className="form-group field-code" data-field={name}>
      <label className="control-label">{schema.title ?? name}</label>
      {schema.description && <p className="field-description">{schema.description}</p>}
      <Suspense fallback={<textarea className="form-control code-fallback" readOnly value={String(formData ?? "")} />}>
        <CodeEditor value={String(formData ?? "")} readOnly={readonly} onChange={(code) => onChange(code as never, fieldPathId.path)} />
      </Suspense>
    </div>
  );
}
