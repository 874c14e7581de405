// Definitions: the list, one definition's source to edit (the compiler's problems shown on
// their lines) and save as a new version, and a run started with a form made from its input
// schema. Loaded only when opened.
import { type FormEvent, useId, useRef, useState } from "react";
import { api, authFetch, errorMessage, type Schemas } from "../api/client";
import { ErrorText, when } from "../components";
import { pointerLine } from "../pointerLine";
import { Link, navigate } from "../router";
import { hasFields, JsonField, SchemaFields } from "../SchemaFields";
import { usePoll } from "../usePoll";

type Problem = Schemas["ProblemPublic"];
const TEMPLATE = `stepwise: 1
name: my-definition
description: What it does
input:
  type: object
  properties:
    topic: {type: string}
  required: [topic]
steps:
  - id: ask
    module: user.text_input
    inputs:
      prompt: Anything to add about {{ input.topic }}?
output: "{{ steps.ask.value }}"
`;

export function Definitions() {
  const list = usePoll(
    async () => {
      const { data, error, response } = await api.GET("/api/v1/definitions");
      if (!data) throw new Error(errorMessage(error, response.status));
      return data;
    },
    null,
    "definitions",
  );
  return (
    <section aria-labelledby="definitions-title">
      <h1 id="definitions-title">Definitions</h1>
      <p>
        <Link href="/definitions/new">New definition</Link>
      </p>
      <ErrorText>{list.error}</ErrorText>
      {list.value && list.value.length === 0 && <p>No definitions yet.</p>}
      <ul className="definitions">
        {(list.value ?? []).map((d) => (
          <li key={d.name}>
            <Link href={`/definitions/${encodeURIComponent(d.name)}`}>{d.name}</Link> v{d.version}
            {d.description && <span className="note"> — {d.description}</span>}
            <span className="note"> ({when(d.created_at)})</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function DefinitionPage({ name }: { name: string | null }) {
  const detail = usePoll(
    async () => {
      if (name === null) return null;
      const { data, error, response } = await api.GET("/api/v1/definitions/{name}", {
        params: { path: { name } },
      });
      if (!data) throw new Error(errorMessage(error, response.status));
      return data;
    },
    null,
    name ?? "",
  );
  const loaded = detail.value;
  return (
    <section aria-labelledby="definition-title">
      <p>
        <Link href="/definitions">← Definitions</Link>
      </p>
      <h1 id="definition-title">{name ?? "New definition"}</h1>
      <ErrorText>{detail.error}</ErrorText>
      {loaded && (
        <>
          <p className="note">
            Version {loaded.version}, {when(loaded.created_at)}
            {loaded.description && ` — ${loaded.description}`}
          </p>
          <StartRun name={loaded.name} schema={loaded.plan?.input_schema as Record<string, unknown> | undefined} />
        </>
      )}
      {(name === null || loaded) && (
        <Editor key={loaded?.content_hash ?? "new"} initial={loaded?.source ?? TEMPLATE} format={loaded?.format ?? "yaml"} onSaved={detail.reload} />
      )}
    </section>
  );
}

function Editor({ initial, format, onSaved }: { initial: string; format: string; onSaved: () => void }) {
  const [source, setSource] = useState(initial);
  const [problems, setProblems] = useState<(Problem & { at: number | null })[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const id = useId();

  const send = async (path: string) => {
    setError(null);
    setMessage(null);
    const type = format === "json" ? "application/json" : "application/yaml";
    const response = await authFetch(
      new Request(new URL(`/api/v1/definitions${path}`, location.origin), {
        method: "POST",
        headers: { "content-type": type },
        body: source,
      }),
    );
    const body = (await response.json().catch(() => null)) as
      | (Schemas["ProblemsPublic"] & Schemas["DefinitionUploaded"] & Schemas["ValidationPublic"])
      | null;
    if (response.ok && body) {
      setProblems([]);
      return body;
    }
    const found = body?.problems ?? [];
    setProblems(found.map((p) => ({ ...p, at: p.line ?? pointerLine(source, p.pointer) })));
    // The problems are listed one by one below; the message says only how many.
    setError(found.length > 0 && body ? body.detail : errorMessage(body, response.status));
    return null;
  };

  const goTo = (line: number) => {
    const text = area.current;
    if (!text) return;
    const lines = source.split("\n");
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    text.focus();
    text.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await send("");
    if (!saved) return;
    setMessage(saved.created ? `Saved as version ${saved.version}.` : `No change: version ${saved.version} has this plan.`);
    if (location.pathname !== `/definitions/${encodeURIComponent(saved.name)}`) {
      navigate(`/definitions/${encodeURIComponent(saved.name)}`);
    } else onSaved();
  };

  const lineCount = source.split("\n").length;
  return (
    <form onSubmit={save}>
      <h2>Source</h2>
      <div className="editor">
        <ol className="gutter" aria-hidden="true">
          {Array.from({ length: lineCount }, (_, i) => (
            <li key={i} className={problems.some((p) => p.at === i + 1) ? "bad" : undefined}>
              {i + 1}
            </li>
          ))}
        </ol>
        <textarea
          ref={area}
          className="code"
          spellCheck={false}
          wrap="off"
          rows={Math.max(lineCount + 1, 10)}
          aria-label="Definition source"
          aria-invalid={problems.length > 0 ? true : undefined}
          aria-describedby={`${id}-problems`}
          value={source}
          onChange={(e) => setSource(e.target.value)}
        />
      </div>
      <div id={`${id}-problems`}>
        <ErrorText>{error}</ErrorText>
        {problems.length > 0 && (
          <ul className="problems">
            {problems.map((p, i) => (
              <li key={i}>
                {p.at !== null ? (
                  <button type="button" className="secondary" onClick={() => goTo(p.at ?? 1)}>
                    Line {p.at}
                  </button>
                ) : null}{" "}
                <code>{p.pointer}</code> {p.message}
              </li>
            ))}
          </ul>
        )}
      </div>
      {message && <p role="status">{message}</p>}
      <div className="actions">
        <button type="button" className="secondary" onClick={() => void send("/validate").then((ok) => ok && setMessage("It compiles."))}>
          Check
        </button>
        <button type="submit">Save as a new version</button>
      </div>
    </form>
  );
}

function StartRun({ name, schema }: { name: string; schema: Record<string, unknown> | undefined }) {
  const fields = schema !== undefined && hasFields(schema);
  const [value, setValue] = useState<Record<string, unknown>>({});
  const [json, setJson] = useState<{ v: unknown; e: string | null }>({ v: null, e: null });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const start = async (event: FormEvent) => {
    event.preventDefault();
    if (!fields && json.e) return setError(`The input is ${json.e}.`);
    setBusy(true);
    setError(null);
    const { data, error, response } = await api.POST("/api/v1/runs", {
      body: { definition: name, input: fields ? value : json.v, format: "yaml" },
    });
    setBusy(false);
    if (data) navigate(`/runs/${encodeURIComponent(data.id)}`);
    else setError(errorMessage(error, response.status));
  };

  return (
    <form onSubmit={start} className="start">
      <h2>Start a run</h2>
      {fields && schema ? (
        <SchemaFields schema={schema} value={value} onChange={setValue} legend="Input" />
      ) : (
        <JsonField label="Input (JSON)" initial={null} onChange={(v, e) => setJson({ v, e })} />
      )}
      <ErrorText>{error}</ErrorText>
      <button type="submit" disabled={busy}>
        Start
      </button>
    </form>
  );
}
