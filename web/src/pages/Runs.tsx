// The runs list: GET /runs with its filters, refreshed every few seconds.
import { useState } from "react";
import { api, errorMessage, type Schemas } from "../api/client";
import { ErrorText, Status, when } from "../components";
import { Link, navigate } from "../router";
import { usePoll } from "../usePoll";

const STATES = ["running", "waiting", "completed", "failed", "cancelled", "terminated", "timed_out"] as const;
type State = (typeof STATES)[number];
const REFRESH_MS = 3000;

export function Runs({ query }: { query: URLSearchParams }) {
  const status = (query.get("status") ?? "") as State | "";
  const definition = query.get("definition") ?? "";
  const awaitingMe = query.get("awaiting") === "me";
  const [more, setMore] = useState<Schemas["RunPublic"][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<string | null>(null);

  const page = (after?: string) =>
    api
      .GET("/api/v1/runs", {
        params: {
          query: {
            status: status || undefined,
            definition: definition || undefined,
            awaiting: awaitingMe ? "me" : undefined,
            limit: 50,
            cursor: after,
          },
        },
      })
      .then(({ data, error, response }) => {
        if (!data) throw new Error(errorMessage(error, response.status));
        return data;
      });

  const key = query.toString();
  const first = usePoll(
    () =>
      page().then((data) => {
        if (more.length === 0) setCursor(data.next_cursor);
        return data;
      }),
    REFRESH_MS,
    key,
  );

  const filter = (name: string, value: string) => {
    const next = new URLSearchParams(query);
    if (value) next.set(name, value);
    else next.delete(name);
    setMore([]);
    navigate(`/runs${next.size ? `?${next}` : ""}`, true);
  };

  const loadMore = async () => {
    if (!cursor) return;
    try {
      const data = await page(cursor);
      setMore((rows) => [...rows, ...data.items]);
      setCursor(data.next_cursor);
    } catch (caught) {
      setMoreError(errorMessage(caught));
    }
  };

  const rows = [...(first.value?.items ?? []), ...more];
  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          State
          <select value={status} onChange={(e) => filter("status", e.target.value)}>
            <option value="">any</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s.replace("_", " ")}
              </option>
            ))}
          </select>
        </label>
        <label>
          Definition
          <input
            defaultValue={definition}
            placeholder="name"
            onKeyDown={(e) => {
              if (e.key === "Enter") filter("definition", e.currentTarget.value.trim());
            }}
            onBlur={(e) => filter("definition", e.currentTarget.value.trim())}
          />
        </label>
        <label className="inline">
          <input type="checkbox" checked={awaitingMe} onChange={(e) => filter("awaiting", e.target.checked ? "me" : "")} />
          Waiting for me
        </label>
      </form>
      <ErrorText>{first.error}</ErrorText>
      {first.value && rows.length === 0 && <p>No runs match.</p>}
      {rows.length > 0 && (
        <table className="runs">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">State</th>
              <th scope="col">Definition</th>
              <th scope="col">Owner</th>
              <th scope="col">Started</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((run) => (
              <tr key={run.id}>
                <td data-label="Run">
                  <Link href={`/runs/${encodeURIComponent(run.id)}`}>{run.id}</Link>
                </td>
                <td data-label="State">
                  <Status state={run.state} />
                </td>
                <td data-label="Definition">
                  {run.definition}
                  {run.version != null && `@${run.version}`}
                </td>
                <td data-label="Owner">{run.owner}</td>
                <td data-label="Started">{when(run.started_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorText>{moreError}</ErrorText>
      {cursor && (
        <button type="button" className="secondary" onClick={loadMore}>
          More runs
        </button>
      )}
    </section>
  );
}
