// Fields for a JSON Schema object whose properties are strings, numbers, integers, booleans or
// enums (what most step and run inputs are); anything else is edited as JSON. The API checks
// the value against the full schema and says where it does not fit.
import { useId, useState } from "react";

type Schema = Record<string, unknown>;

function props(schema: Schema): [string, Schema][] | null {
  if (schema.type !== "object" || typeof schema.properties !== "object" || schema.properties === null) return null;
  const entries = Object.entries(schema.properties as Record<string, Schema>);
  const simple = entries.every(([, p]) => Array.isArray(p.enum) || ["string", "number", "integer", "boolean"].includes(String(p.type)));
  return simple ? entries : null;
}

/** Whether `schema` is one `SchemaFields` draws as fields (rather than a JSON box). */
export function hasFields(schema: unknown): boolean {
  return typeof schema === "object" && schema !== null && props(schema as Schema) !== null;
}

interface Props {
  schema: Schema;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  legend?: string;
}

export function SchemaFields({ schema, value, onChange, legend }: Props) {
  const id = useId();
  const entries = props(schema) ?? [];
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const set = (name: string, v: unknown) => {
    const next = { ...value };
    if (v === undefined) delete next[name];
    else next[name] = v;
    onChange(next);
  };
  return (
    <fieldset>
      {legend && <legend>{legend}</legend>}
      {entries.map(([name, p]) => {
        const fieldId = `${id}-${name}`;
        const title = typeof p.title === "string" ? p.title : name;
        const hint = typeof p.description === "string" ? p.description : null;
        const current = value[name];
        const input = (
          <FieldInput id={fieldId} schema={p} required={required.has(name)} value={current} onChange={(v) => set(name, v)} />
        );
        return (
          <div key={name} className={p.type === "boolean" ? "field inline" : "field"}>
            <label htmlFor={fieldId}>
              {title}
              {required.has(name) && <span aria-hidden="true"> *</span>}
            </label>
            {input}
            {hint && <small>{hint}</small>}
          </div>
        );
      })}
    </fieldset>
  );
}

/** A JSON value typed in a box; `onChange` hears the parsed value, or an error. */
export function JsonField({
  label,
  initial,
  onChange,
}: {
  label: string;
  initial: unknown;
  onChange: (value: unknown, error: string | null) => void;
}) {
  const [text, setText] = useState(() => JSON.stringify(initial ?? null, null, 2));
  return (
    <label>
      {label}
      <textarea
        className="code"
        rows={8}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          try {
            onChange(JSON.parse(e.target.value), null);
          } catch {
            onChange(undefined, "not valid JSON yet");
          }
        }}
      />
    </label>
  );
}

interface FieldProps {
  id?: string;
  schema: Schema;
  required: boolean;
  value: unknown;
  onChange: (value: unknown) => void;
  /** The control's name where no <label> names it (a table cell). */
  label?: string;
}

/** The control for one property: a select for an enum, a checkbox, a number or a text box. */
export function FieldInput({ id, schema: p, required, value: current, onChange: change, label }: FieldProps) {
  if (Array.isArray(p.enum)) {
    return (
      <select
        id={id}
        aria-label={label}
        required={required}
        value={current === undefined ? "" : JSON.stringify(current)}
        onChange={(e) => change(e.target.value === "" ? undefined : JSON.parse(e.target.value))}
      >
        <option value="">—</option>
        {p.enum.map((option) => (
          <option key={JSON.stringify(option)} value={JSON.stringify(option)}>
            {String(option)}
          </option>
        ))}
      </select>
    );
  }
  if (p.type === "boolean") {
    return <input id={id} aria-label={label} type="checkbox" checked={current === true} onChange={(e) => change(e.target.checked)} />;
  }
  if (p.type === "number" || p.type === "integer") {
    return (
      <input
        id={id}
        aria-label={label}
        type="number"
        step={p.type === "integer" ? 1 : "any"}
        required={required}
        value={typeof current === "number" ? current : ""}
        onChange={(e) => change(e.target.value === "" ? undefined : Number(e.target.value))}
      />
    );
  }
  return (
    <input
      id={id}
      aria-label={label}
      required={required}
      pattern={typeof p.pattern === "string" ? p.pattern : undefined}
      value={typeof current === "string" ? current : ""}
      onChange={(e) => change(e.target.value === "" && !required ? undefined : e.target.value)}
    />
  );
}

/** The properties `SchemaFields` draws, with their titles (null: not a flat object schema). */
export function columns(schema: Schema): { name: string; title: string; schema: Schema; required: boolean }[] | null {
  const entries = props(schema);
  if (entries === null) return null;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return entries.map(([name, p]) => ({
    name,
    title: typeof p.title === "string" ? p.title : name,
    schema: p,
    required: required.has(name),
  }));
}
