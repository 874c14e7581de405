// user.form: one row per item of the step's data (or one object), each valid against its schema.
import { type FormEvent, useId, useState } from "react";
import { ErrorText } from "../components";
import { hasFields, JsonField, SchemaFields } from "../SchemaFields";
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
      {fields && rowSchema
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
