// The answer form of an interaction, by its module; modules without a form of their own take
// an answer typed as JSON, checked by the run against the interaction's answer_schema.
import { type FormEvent, useId, useState } from "react";
import { ErrorText, Json } from "../components";
import { JsonField } from "../SchemaFields";
import { ApproveAnswer } from "./ApproveAnswer";
import { FormAnswer } from "./FormAnswer";
import { SelectAnswer } from "./SelectAnswer";
import { TextAnswer } from "./TextAnswer";
import type { AnswerProps } from "./types";

export function Answer(props: AnswerProps) {
  switch (props.interaction.type) {
    case "user.select":
      return <SelectAnswer {...props} />;
    case "user.text_input":
      return <TextAnswer {...props} />;
    case "user.approve":
      return <ApproveAnswer {...props} />;
    case "user.form":
      return <FormAnswer {...props} />;
    case "user.pause":
      return <PauseAnswer {...props} />;
    case "user.file_input":
      return <FileAnswer {...props} />;
    default:
      return <JsonAnswer {...props} />;
  }
}

function useSend(submit: AnswerProps["submit"]) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const send = async (answer: Record<string, unknown>) => {
    setBusy(true);
    setError(await submit(answer));
    setBusy(false);
  };
  return { error, setError, busy, send };
}

function PauseAnswer({ interaction, submit }: AnswerProps) {
  const { error, busy, send } = useSend(submit);
  const id = useId();
  return (
    <form className="answer" onSubmit={(e) => (e.preventDefault(), void send({}))}>
      <p className="prompt">{interaction.prompt ?? "Continue when ready"}</p>
      <ErrorText id={`${id}-error`}>{error}</ErrorText>
      <button type="submit" disabled={busy} aria-describedby={`${id}-error`}>
        Continue
      </button>
    </form>
  );
}

function FileAnswer({ interaction, submit }: AnswerProps) {
  const { error, busy, send } = useSend(submit);
  const [value, setValue] = useState("");
  const [filename, setFilename] = useState("");
  const id = useId();
  const extensions = Array.isArray(interaction.constraints?.extensions)
    ? (interaction.constraints.extensions as string[])
    : [];
  return (
    <form className="answer" onSubmit={(e: FormEvent) => (e.preventDefault(), void send({ value, filename }))}>
      <p className="prompt">{interaction.prompt ?? "A stored file"}</p>
      <label>
        Stored file reference
        <input required value={value} onChange={(e) => setValue(e.target.value)} />
      </label>
      <label>
        File name{extensions.length > 0 && ` (${extensions.join(", ")})`}
        <input required value={filename} aria-describedby={`${id}-error`} onChange={(e) => setFilename(e.target.value)} />
      </label>
      <ErrorText id={`${id}-error`}>{error}</ErrorText>
      <button type="submit" disabled={busy}>
        Submit
      </button>
    </form>
  );
}

function JsonAnswer({ interaction, submit }: AnswerProps) {
  const { error, setError, busy, send } = useSend(submit);
  const [value, setValue] = useState<{ v: unknown; e: string | null }>({ v: {}, e: null });
  const id = useId();
  const answer = (event: FormEvent) => {
    event.preventDefault();
    if (value.e || typeof value.v !== "object" || value.v === null || Array.isArray(value.v)) {
      return setError("The answer must be a JSON object.");
    }
    void send(value.v as Record<string, unknown>);
  };
  return (
    <form className="answer" onSubmit={answer}>
      <p className="prompt">{interaction.prompt ?? interaction.type}</p>
      {interaction.data != null && <Json value={interaction.data} />}
      <details>
        <summary>The answer's schema</summary>
        <Json value={interaction.answer_schema} />
      </details>
      <JsonField label="Answer (JSON)" initial={{}} onChange={(v, e) => setValue({ v, e })} />
      <ErrorText id={`${id}-error`}>{error}</ErrorText>
      <button type="submit" disabled={busy} aria-describedby={`${id}-error`}>
        Submit
      </button>
    </form>
  );
}
