// The inbox: the open interactions the signed-in user (or one of their groups) may answer, in
// every run, each with the answer form of its module.
import { useState } from "react";
import { Answer } from "../answers/Answer";
import type { Interaction } from "../answers/types";
import { api, errorMessage, type Schemas } from "../api/client";
import { ErrorText, Status, when } from "../components";
import { Link } from "../router";
import { usePoll } from "../usePoll";

const REFRESH_MS = 5000;

/** A random idempotency key (crypto.randomUUID needs https, which a plain-http deployment lacks). */
function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
type Item = Schemas["InboxItemPublic"];

export function Inbox() {
  const inbox = usePoll(
    async () => {
      const { data, error, response } = await api.GET("/api/v1/inbox", { params: { query: { limit: 100 } } });
      if (!data) throw new Error(errorMessage(error, response.status));
      return data;
    },
    REFRESH_MS,
    "inbox",
  );
  const [answered, setAnswered] = useState<Set<string>>(new Set());
  // An item being answered stays while its form is open, even once someone else has answered
  // it: the refusal that says so stays readable.
  const [opened, setOpened] = useState<Map<string, Item>>(new Map());
  const listed = inbox.value?.items ?? [];
  const keyOf = (item: Item) => `${item.run_id}/${item.id}`;
  const shown = new Set(listed.map(keyOf));
  const items = [...listed, ...[...opened.values()].filter((item) => !shown.has(keyOf(item)))].filter(
    (item) => !answered.has(keyOf(item)),
  );

  return (
    <section aria-labelledby="inbox-title">
      <h1 id="inbox-title">Inbox</h1>
      <ErrorText>{inbox.error}</ErrorText>
      {inbox.value && items.length === 0 && <p>Nothing waits for you.</p>}
      <ul className="inbox">
        {items.map((item) => (
          <InboxEntry
            key={keyOf(item)}
            item={item}
            onOpen={(open) =>
              setOpened((all) => {
                const next = new Map(all);
                if (open) next.set(keyOf(item), item);
                else next.delete(keyOf(item));
                return next;
              })
            }
            onAnswered={() => {
              setAnswered((done) => new Set(done).add(`${item.run_id}/${item.id}`));
              inbox.reload();
            }}
          />
        ))}
      </ul>
    </section>
  );
}

interface EntryProps {
  item: Item;
  onOpen: (open: boolean) => void;
  onAnswered: () => void;
}

function InboxEntry({ item, onOpen, onAnswered }: EntryProps) {
  const [open, setOpen] = useState(false);
  const [full, setFull] = useState<Interaction | null>(null);
  const [error, setError] = useState<string | null>(null);
  // One key per answer: sending again after a dropped connection is still one answer.
  const [key, setKey] = useState(() => newKey());

  const expand = async () => {
    setOpen(!open);
    onOpen(!open);
    if (open || full) return;
    const { data, error, response } = await api.GET("/api/v1/runs/{run_id}/interactions", {
      params: { path: { run_id: item.run_id } },
    });
    const found = data?.find((i) => i.id === item.id);
    if (found) setFull(found);
    else setError(data ? "This interaction is no longer open." : errorMessage(error, response.status));
  };

  const submit = async (answer: Record<string, unknown>): Promise<string | null> => {
    try {
      const { data, error, response } = await api.POST("/api/v1/runs/{run_id}/interactions/{interaction_id}", {
        params: { path: { run_id: item.run_id, interaction_id: item.id }, header: { "Idempotency-Key": key } },
        body: answer,
      });
      if (data) {
        onAnswered();
        return null;
      }
      // A refused answer wrote nothing; the next try is a new answer.
      setKey(newKey());
      return errorMessage(error, response.status);
    } catch (caught) {
      return errorMessage(caught);
    }
  };

  const panel = `panel-${item.run_id}-${item.id}`;
  return (
    <li className="inbox-item">
      <div className="inbox-head">
        <button type="button" aria-expanded={open} aria-controls={panel} onClick={() => void expand()}>
          {item.prompt ?? item.step_id}
        </button>
        <span className="note">
          {item.type} in <Link href={`/runs/${encodeURIComponent(item.run_id)}`}>{item.run_id}</Link>, since{" "}
          {when(item.created_at)}
          {item.deadline && `, due ${when(item.deadline)}`}
          {item.assignees?.length ? ` for ${item.assignees.join(", ")}` : null}
        </span>
        <Status state="waiting" />
      </div>
      {open && (
        <div id={panel}>
          <ErrorText>{error}</ErrorText>
          {full && <Answer interaction={full} submit={submit} />}
        </div>
      )}
    </li>
  );
}
