/** CodeMirror 6 with Python highlighting; the server's compile errors shown in place (loaded on demand). */
import { python } from "@codemirror/lang-python";
import { type Diagnostic, linter, lintGutter } from "@codemirror/lint";
import { EditorView, basicSetup } from "codemirror";
import { EditorState } from "@codemirror/state";
import { useEffect, useRef, useState } from "react";
import { api } from "../api";

type CodeError = { line: number; column: number; message: string };

async function check(view: EditorView): Promise<Diagnostic[]> {
  const code = view.state.doc.toString();
  if (!code.trim()) return [];
  try {
    const result = await api.checkCode(code);
    return result.errors.map((e) => {
      const line = view.state.doc.line(Math.min(Math.max(e.line, 1), view.state.doc.lines));
      const from = Math.min(line.from + Math.max(e.column - 1, 0), line.to);
      return { from, to: Math.max(from, line.to), severity: "error", message: e.message };
    });
  } catch {
    return [];
  }
}

export default function CodeEditor({ value, onChange, readOnly }: { value: string; onChange: (v: string) => void; readOnly?: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const changed = useRef(onChange);
  const [errors, setErrors] = useState<CodeError[]>([]);
  changed.current = onChange;
  useEffect(() => {
    const lint = linter(async (v) => {
      const found = await check(v);
      setErrors(found.map((d) => ({ line: v.state.doc.lineAt(d.from).number, column: d.from - v.state.doc.lineAt(d.from).from + 1, message: d.message })));
      return found;
    }, { delay: 400 });
    view.current = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup, python(), lint, lintGutter(), EditorState.readOnly.of(!!readOnly),
          EditorView.updateListener.of((u) => u.docChanged && changed.current(u.state.doc.toString())),
        ],
      }),
    });
    return () => view.current?.destroy();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return (
    <div className="code-editor">
      <div ref={host} className="code-host" dir="ltr" />
      {errors.length > 0 && (
        <ul className="field-errors code-errors">
          {errors.map((e, i) => (
            <li key={i}>
              line {e.line}, col {e.column}: {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
