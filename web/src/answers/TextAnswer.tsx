// user.text_input: one line matching validation_pattern in full, or go back to an earlier step.
import { type FormEvent, useId, useState } from "react";
import { ErrorText } from "../components";
import type { AnswerProps } from "./types";

/** Whether `value` matches the step's pattern in full; true when the browser cannot read the
 * pattern (Python's syntax is not always JavaScript's): the run's validator still checks it. */
export function matchesPattern(pattern: string | undefined, value: string): boolean {
  if (!pattern) return true;
  try {
    return new RegExp(`^(?:${pattern})$`, "u").test(value);
  } catch {
    return true;
  }
}

export function TextAnswer({ interaction, submit }: AnswerProps) {
  const pattern = typeof interaction.constraints?.validation_pattern === "string"
    ? interaction.constraints.validation_pattern
    : undefined;
  const initial = typeof interaction.data === "string" ? interaction.data : "";
  const [value, setValue] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  const send = async (answer: Record<string, unknown>) => {
    setBusy(true);
    setError(await submit(answer));
    setBusy(false);
  };

  const answer = (event: FormEvent) => {
    event.preventDefault();
    if (!matchesPattern(pattern, value)) return setError(`This must match the pattern ${pattern}.`);
    void send({ value });
  };

  return (
    <form onSubmit={answer} className="answer">
      <label htmlFor={`${id}-value`}>{interaction.prompt ?? "Your answer"}</label>
      <input
        id={`${id}-value`}
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-hint ${id}-error`}
        onChange={(e) => setValue(e.target.value)}
      />
      {pattern && (
        <p id={`${id}-hint`} className="note">
          Must match <code>{pattern}</code>.
        </p>
      )}
      <ErrorText id={`${id}-error`}>{error}</ErrorText>
      <div className="actions">
        <button type="submit" disabled={busy}>
          Submit
        </button>
        <button type="button" className="secondary" disabled={busy} onClick={() => void send({ jump_back: true })}>
          Go back a step
        </button>
      </div>
    </form>
  );
}
