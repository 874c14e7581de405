// user.form: one row per item of the step's data (or one object), each valid against its schema.
import { type FormEvent, useId, useState } from "react";
import { ErrorText } from "../components";
import { columns, FieldInput, hasFields, JsonField, SchemaFields } from "../SchemaFields";
import type { AnswerProps } from "./types";

export function FormAnswer({ interaction, submit }: AnswerProps) {
  const rowsSchema = (interaction.answer_schema?.properties as Record<string, unknown> | undefined)?.form_data as
    | Record<string, unknown>
    | undefined;
  const many = Array.isArray(interaction.data);
  const rowSchema = (many ? rowsSchema?.items : rowsSchema) as Record<string, unknown> | undefined;
  const initialRows = (many ? (interaction.data as unknown[]) : [interaction.data ?? {}]).map((row) =>
    row && typeof row === "object" && !Array.isArray(row) ? (row as Record<string, unknown>) : {},
  );
  const [rows, setRows] = useState(initialRows);
  const [json, setJson] = useState<{ value: unknown; error: string | null }>({ value: interaction.data, error: null });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const fields = rowSchema !== undefined && hasFields(rowSchema);

  const send = async (event: FormEvent) => {
    event.preventDefault();
    let formData: unknown;
    if (fields) formData = many ? rows : rows[0];
    else if (json.error) return setError(`The form data is ${json.error}.`);
    else formData = json.value;
    setBusy(true);
    setError(await submit({ form_data: formData }));
    setBusy(false);
  };

  return (
    <form onSubmit={send} className="answer" aria-describedby={`${id}-error`}>
      <p className="prompt">{interaction.prompt ?? "Fill in the form"}</p>
      {fields && rowSchema && many ? (
        <FormTable schema={rowSchema} rows={rows} onChange={setRows} caption={interaction.prompt ?? "Rows"} />
      ) : fields && rowSchema
        ? rows.map((row, index) => (
            <SchemaFields
              key={index}
              schema={rowSchema}
              value={row}
              legend={many ? `Row ${index + 1}` : undefined}
              onChange={(value) => setRows((all) => all.map((r, i) => (i === index ? value : r)))}
            />
          ))
        : <JsonField label="Form data (JSON)" initial={interaction.data} onChange={(value, e) => setJson({ value, error: e })} />}
      <ErrorText id={`${id}-error`}>{error}</ErrorText>
      <div className="actions">
        <button type="submit" disabled={busy}>
          Submit
        </button>
      </div>
    </form>
  );
}

interface TableProps {
  schema: Record<string, unknown>;
  rows: Record<string, unknown>[];
  onChange: (rows: Record<string, unknown>[]) => void;
  caption: string;
}

/** Rows to check or correct, as an editable table: a column per property, a control per cell
 * (named by its column and row for screen readers). */
function FormTable({ schema, rows, onChange, caption }: TableProps) {
  const cols = columns(schema) ?? [];
  const set = (index: number, name: string, value: unknown) =>
    onChange(
      rows.map((row, i) => {
        if (i !== index) return row;
        const next = { ...row };
        if (value === undefined) delete next[name];
        else next[name] = value;
        return next;
      }),
    );
  return (
    <div className="table-scroll">
      <table className="form-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            {cols.map((c) => (
              <th key={c.name} scope="col">
                {c.title}
                {c.required && <span aria-hidden="true"> *</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={index}>
              <th scope="row">{index + 1}</th>
              {cols.map((c) => (
                <td key={c.name}>
                  <FieldInput
                    schema={c.schema}
                    required={c.required}
                    value={row[c.name]}
                    label={`${c.title}, row ${index + 1}`}
                    onChange={(value) => set(index, c.name, value)}
                  />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
