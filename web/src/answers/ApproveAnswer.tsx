// user.approve: approve or reject with a comment; an approval may carry edited data.
import { useId, useState } from "react";
import { ErrorText, Json } from "../components";
import type { AnswerProps } from "./types";

export function ApproveAnswer({ interaction, submit }: AnswerProps) {
  const constraints = interaction.constraints ?? {};
  const editable = constraints.allow_edit !== false && interaction.data != null;
  const [comment, setComment] = useState("");
  const [edit, setEdit] = useState(false);
  const [text, setText] = useState(() => JSON.stringify(interaction.data ?? null, null, 2));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  const decide = async (approved: boolean) => {
    const answer: Record<string, unknown> = { approved, comment: comment || null };
    if (approved && edit) {
      try {
        answer.data = JSON.parse(text);
      } catch {
        return setError("The edited data is not valid JSON.");
      }
    }
    setBusy(true);
    setError(await submit(answer));
    setBusy(false);
  };

  return (
    <form className="answer" onSubmit={(e) => e.preventDefault()}>
      <p className="prompt">{interaction.prompt ?? "Approve?"}</p>
      {typeof constraints.quorum === "number" && constraints.quorum > 1 && (
        <p className="note">Needs {constraints.quorum} approvals.</p>
      )}
      {interaction.data != null && !edit && <Json value={interaction.data} />}
      {editable && (
        <label className="inline">
          <input type="checkbox" checked={edit} onChange={(e) => setEdit(e.target.checked)} />
          Edit the data before approving
        </label>
      )}
      {edit && (
        <label>
          Data (JSON)
          <textarea rows={8} value={text} onChange={(e) => setText(e.target.value)} className="code" />
        </label>
      )}
      <label>
        Comment
        <textarea
          value={comment}
          aria-describedby={`${id}-error`}
          onChange={(e) => setComment(e.target.value)}
        />
      </label>
      <ErrorText id={`${id}-error`}>{error}</ErrorText>
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => void decide(true)}>
          Approve
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => void decide(false)}>
          Reject
        </button>
      </div>
    </form>
  );
}
