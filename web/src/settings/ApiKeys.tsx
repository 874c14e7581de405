// API keys: the caller's keys (GET /api-keys), a new one whose secret is shown once, revoking.
import { type FormEvent, useState } from "react";
import { api, errorMessage, type Schemas } from "../api/client";
import { ErrorText, when } from "../components";
import { usePoll } from "../usePoll";

type Scope = Schemas["ApiKeyCreate"]["scopes"][number];
const SCOPES: { scope: Scope; what: string }[] = [
  { scope: "runs:read", what: "read runs and schedules" },
  { scope: "runs:start", what: "start and cancel runs, manage schedules" },
  { scope: "interactions:respond", what: "answer the inbox" },
  { scope: "definitions:write", what: "upload definitions" },
  { scope: "admin", what: "everything an admin may do" },
];

function keyState(key: Schemas["ApiKeyPublic"]): string {
  if (key.revoked_at) return `revoked ${when(key.revoked_at)}`;
  if (key.expires_at && new Date(key.expires_at) <= new Date()) return `expired ${when(key.expires_at)}`;
  return key.expires_at ? `active until ${when(key.expires_at)}` : "active, no expiry";
}

export function ApiKeys({ role }: { role: string | null }) {
  const keys = usePoll(
    async () => {
      const { data, error, response } = await api.GET("/api/v1/api-keys");
      if (!data) throw new Error(errorMessage(error, response.status));
      return data;
    },
    null,
    "api-keys",
  );
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Set<Scope>>(new Set(["runs:read"]));
  const [expires, setExpires] = useState("");
  const [created, setCreated] = useState<Schemas["ApiKeyCreated"] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const offered = SCOPES.filter((s) => s.scope !== "admin" || role === "admin");

  const create = async (event: FormEvent) => {
    event.preventDefault();
    if (scopes.size === 0) return setError("scopes: tick at least one");
    setBusy(true);
    setError(null);
    try {
      const { data, error, response } = await api.POST("/api/v1/api-keys", {
        body: {
          name: name.trim(),
          scopes: [...scopes],
          // A date: the key works through that whole day, in this browser's time zone.
          expires_at: expires ? new Date(`${expires}T23:59:59`).toISOString() : null,
        },
      });
      if (!data) return setError(errorMessage(error, response.status));
      setCreated(data);
      setName("");
      setExpires("");
      keys.reload();
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (key: Schemas["ApiKeyPublic"]) => {
    if (!confirm(`Revoke the key ${key.name} (${key.prefix}…)? Requests with it are refused from now on.`)) return;
    setError(null);
    const { error, response } = await api.DELETE("/api/v1/api-keys/{key_id}", {
      params: { path: { key_id: key.id } },
    });
    if (!response.ok) setError(errorMessage(error, response.status));
    keys.reload();
  };

  const tick = (scope: Scope, on: boolean) =>
    setScopes((now) => {
      const next = new Set(now);
      if (on) next.add(scope);
      else next.delete(scope);
      return next;
    });

  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <p className="note">
        For scripts and the command line: send one as <code>Authorization: Bearer …</code>.
      </p>
      {created && (
        <div className="secret" role="status" aria-labelledby="key-secret-title">
          <h3 id="key-secret-title">Your new key {created.name}</h3>
          <p>Copy it now: it is not shown again.</p>
          <label>
            Key
            <input readOnly value={created.key} className="code" onFocus={(e) => e.currentTarget.select()} />
          </label>
          <div className="actions">
            <button
              type="button"
              className="secondary"
              onClick={() => void navigator.clipboard?.writeText(created.key).catch(() => null)}
            >
              Copy key
            </button>
            <button type="button" onClick={() => setCreated(null)}>
              I have stored the key
            </button>
          </div>
        </div>
      )}
      <form className="form-narrow" onSubmit={create} aria-labelledby="new-key-title">
        <h3 id="new-key-title">New API key</h3>
        <label>
          Key name
          <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <fieldset>
          <legend>Scopes</legend>
          {offered.map(({ scope, what }) => (
            <label key={scope} className="inline">
              <input type="checkbox" checked={scopes.has(scope)} onChange={(e) => tick(scope, e.target.checked)} />
              <span>
                <code>{scope}</code> <span className="note">{what}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <label>
          Expires after (optional)
          <input type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </label>
        <ErrorText>{error}</ErrorText>
        <button type="submit" disabled={busy}>
          Create key
        </button>
      </form>
      <ErrorText>{keys.error}</ErrorText>
      {keys.value && keys.value.length === 0 && <p>No API keys yet.</p>}
      <ul className="cards" aria-label="Your API keys">
        {(keys.value ?? []).map((key) => (
          <li key={key.id} className="card">
            <div className="card-head">
              <h3>{key.name}</h3>
              <code>{key.prefix}…</code>
              <span className="note">{keyState(key)}</span>
            </div>
            <p className="note">
              {key.scopes.join(", ")} · created {when(key.created_at)}
              {key.last_used_at ? ` · last used ${when(key.last_used_at)}` : " · never used"}
            </p>
            {!key.revoked_at && (
              <button type="button" className="danger" aria-label={`Revoke ${key.name}`} onClick={() => void revoke(key)}>
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
