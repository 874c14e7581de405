// One run: its state, its steps coloured by status, the live timeline from the SSE stream,
// its output; cancel, rerun from a step, and the run in the Temporal UI.
import { lazy, Suspense, useEffect, useMemo, useReducer, useState } from "react";
import { api, authFetch, errorMessage } from "../api/client";
import { ErrorText, Json, Status, when } from "../components";
import { isGraphPlan, type PlanStep, planSteps, stepIds } from "../plan";
import { Link, navigate } from "../router";
import { followStream } from "../sse";
import { addEvent, describe, emptyTimeline, type ProgressEvent, type RunEvent, type StepState, type Timeline } from "../timeline";
import { usePoll } from "../usePoll";

// The drawing of a graph definition is loaded only for those.
const PlanGraph = lazy(() => import("../graph/PlanGraph"));

const ENDED = new Set(["completed", "failed", "cancelled", "terminated", "timed_out"]);
const REFRESH_MS = 3000;

type Action = { kind: "event"; event: RunEvent | ProgressEvent } | { kind: "reset" };

function reduce(timeline: Timeline, action: Action): Timeline {
  return action.kind === "reset" ? emptyTimeline : addEvent(timeline, action.event);
}

/** The Temporal UI's address for this namespace, as the API wrote it into the page. */
export function temporalUiBase(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="stepwise-temporal-ui"]')?.content ?? "";
}

export function RunDetail({ runId }: { runId: string }) {
  const [timeline, dispatch] = useReducer(reduce, emptyTimeline);
  const [streamNote, setStreamNote] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [fromStep, setFromStep] = useState("");
  const [asList, setAsList] = useState(false);

  const run = usePoll(
    async () => {
      const { data, error, response } = await api.GET("/api/v1/runs/{run_id}", {
        params: { path: { run_id: runId } },
      });
      if (!data) throw new Error(errorMessage(error, response.status));
      return data;
    },
    timeline.ended ? null : REFRESH_MS,
    runId,
  );
  const detail = run.value;
  const ended = detail ? ENDED.has(detail.state) : false;

  const plan = usePoll(
    async () => {
      if (!detail?.definition || detail.version == null) return { steps: [] as PlanStep[], graph: false };
      const { data } = await api.GET("/api/v1/definitions/{name}", {
        params: { path: { name: detail.definition }, query: { version: detail.version } },
      });
      return { steps: planSteps(data?.plan), graph: isGraphPlan(data?.plan) };
    },
    null,
    `${detail?.definition ?? ""}@${detail?.version ?? ""}`,
  );

  useEffect(() => {
    dispatch({ kind: "reset" });
    const abort = new AbortController();
    void followStream(`/api/v1/runs/${encodeURIComponent(runId)}/stream`, {
      signal: abort.signal,
      fetcher: authFetch,
      onMessage: (message) => {
        try {
          dispatch({ kind: "event", event: JSON.parse(message.data) as RunEvent | ProgressEvent });
          setStreamNote(null);
        } catch {
          // a message that is not an event: nothing to show
        }
      },
      onRetry: () => setStreamNote("The live stream dropped; reconnecting…"),
      onClose: (refused) => setStreamNote(refused),
    });
    return () => abort.abort();
  }, [runId]);

  // The run's state changes with its events: read it again when one ends the run.
  const { reload } = run;
  useEffect(() => {
    if (timeline.ended) reload();
  }, [timeline.ended, reload]);

  const states = useMemo(() => {
    const merged: Record<string, StepState> = {};
    for (const step of detail?.progress?.steps ?? []) merged[step.id] = step.status;
    return { ...merged, ...timeline.steps };
  }, [detail, timeline.steps]);
  const order = useMemo(() => {
    const fromPlan = stepIds(plan.value?.steps ?? []);
    const seen = new Set(fromPlan);
    const extra = [...(detail?.progress?.steps ?? []).map((s) => s.id), ...Object.keys(timeline.steps)];
    return [...fromPlan, ...extra.filter((id) => !seen.has(id) && (seen.add(id), true))];
  }, [plan.value, detail, timeline.steps]);

  const cancel = async () => {
    if (!confirm(`Cancel run ${runId}?`)) return;
    setActionError(null);
    const { error, response } = await api.POST("/api/v1/runs/{run_id}/cancel", {
      params: { path: { run_id: runId } },
    });
    if (!response.ok) setActionError(errorMessage(error, response.status));
    run.reload();
  };

  const rerun = async () => {
    setActionError(null);
    const { data, error, response } = await api.POST("/api/v1/runs/{run_id}/rerun", {
      params: { path: { run_id: runId } },
      body: { from_step: fromStep },
    });
    if (data) navigate(`/runs/${encodeURIComponent(data.id)}`);
    else setActionError(errorMessage(error, response.status));
  };

  // Streamed text (an LLM step's tokens) goes under its step, one block per step instance.
  const live = useMemo(() => {
    const byStep: Record<string, string[]> = {};
    for (const [key, text] of Object.entries(timeline.live)) {
      const id = key.split("|").at(-1) ?? "";
      (byStep[id] ??= []).push(text.text);
    }
    return byStep;
  }, [timeline.live]);

  const ui = temporalUiBase();
  return (
    <section aria-labelledby="run-title">
      <p>
        <Link href="/runs">← Runs</Link>
      </p>
      <h1 id="run-title" className="run-id">
        {runId}
      </h1>
      <ErrorText>{run.error}</ErrorText>
      {detail && (
        <dl className="facts">
          <dt>State</dt>
          <dd>
            <Status state={detail.state} />
            {detail.progress && ` ${detail.progress.done} of ${detail.progress.steps.length} steps done`}
            {detail.progress && !ended && (
              <progress
                className="run-progress"
                max={100}
                value={detail.progress.progress}
                aria-label={`${Math.round(detail.progress.progress)}% of the steps done`}
              />
            )}
          </dd>
          {detail.progress && detail.progress.state_keys.length > 0 && (
            <>
              <dt>State keys</dt>
              <dd>{detail.progress.state_keys.join(", ")}</dd>
            </>
          )}
          {detail.llm_usage && detail.llm_usage.calls > 0 && (
            <>
              <dt>LLM usage</dt>
              <dd>
                {detail.llm_usage.total_tokens.toLocaleString()} tokens in {detail.llm_usage.calls}{" "}
                {detail.llm_usage.calls === 1 ? "call" : "calls"}
                {detail.llm_usage.cost_usd > 0 && `, $${detail.llm_usage.cost_usd.toFixed(4)}`}
              </dd>
            </>
          )}
          <dt>Definition</dt>
          <dd>
            {detail.definition}
            {detail.version != null && `@${detail.version}`}
          </dd>
          <dt>Owner</dt>
          <dd>{detail.owner}</dd>
          <dt>Started</dt>
          <dd>{when(detail.started_at)}</dd>
          {detail.closed_at && (
            <>
              <dt>Ended</dt>
              <dd>{when(detail.closed_at)}</dd>
            </>
          )}
          {detail.rerun_of && (
            <>
              <dt>Rerun of</dt>
              <dd>
                <Link href={`/runs/${encodeURIComponent(detail.rerun_of.run_id)}`}>{detail.rerun_of.run_id}</Link>{" "}
                from {detail.rerun_of.from_step}
              </dd>
            </>
          )}
          {detail.awaiting.length > 0 && (
            <>
              <dt>Waiting for</dt>
              <dd>
                {detail.awaiting.join(", ")} (<Link href="/inbox">inbox</Link>)
              </dd>
            </>
          )}
        </dl>
      )}
      <div className="actions">
        {detail && !ended && (
          <button type="button" className="danger" onClick={cancel}>
            Cancel run
          </button>
        )}
        {detail && ended && order.length > 0 && (
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void rerun();
            }}
          >
            <label>
              Rerun from step
              <select required value={fromStep} onChange={(e) => setFromStep(e.target.value)}>
                <option value="">choose a step</option>
                {order.map((id) => (
                  <option key={id} value={id}>
                    {id}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={!fromStep}>
              Rerun
            </button>
          </form>
        )}
        {ui && (
          <a href={`${ui}/workflows/${encodeURIComponent(runId)}`} target="_blank" rel="noreferrer">
            Open in the Temporal UI
          </a>
        )}
      </div>
      <ErrorText>{actionError}</ErrorText>

      <h2>Steps</h2>
      {plan.value?.graph && plan.value.steps.length > 0 && (
        <button type="button" className="secondary" aria-pressed={asList} onClick={() => setAsList((now) => !now)}>
          Show as a list
        </button>
      )}
      {plan.value?.graph && plan.value.steps.length > 0 && !asList ? (
        <Suspense fallback={<p role="status">Loading the graph…</p>}>
          <PlanGraph steps={plan.value.steps} states={states} live={live} />
        </Suspense>
      ) : plan.value && plan.value.steps.length > 0 ? (
        <StepTree steps={plan.value.steps} states={states} live={live} />
      ) : (
        <ol className="steps">
          {order.map((id) => (
            <li key={id} className={`step step-${states[id] ?? "pending"}`}>
              <span className="step-id">{id}</span> <Status state={states[id] ?? "pending"} />
              <LiveText texts={live[id]} />
            </li>
          ))}
        </ol>
      )}

      {detail && ended && (
        <>
          <h2>{detail.error ? "Error" : "Output"}</h2>
          {detail.error ? (
            <p className="error">
              {String(detail.error.type ?? "")}: {String(detail.error.message ?? "")}
            </p>
          ) : (
            <Json value={detail.output} />
          )}
        </>
      )}

      <h2>Timeline</h2>
      {streamNote && <p className="note" role="status">{streamNote}</p>}
      <ol className="timeline" aria-live="polite">
        {timeline.events.map((event) => (
          <li key={event.id} className={`event event-${event.type}`}>
            <time dateTime={event.at}>{new Date(event.at).toLocaleTimeString()}</time>{" "}
            <span className="event-type">{event.type.replace(/_/g, " ")}</span>{" "}
            {event.step && <span className="step-id">{event.step}</span>} {describe(event)}
          </li>
        ))}
      </ol>
    </section>
  );
}

function LiveText({ texts }: { texts: string[] | undefined }) {
  if (!texts) return null;
  return (
    <>
      {texts.map((text, i) => (
        <pre key={i} className="live" aria-label="streamed output">
          {text}
        </pre>
      ))}
    </>
  );
}

interface TreeProps {
  steps: PlanStep[];
  states: Record<string, StepState>;
  live: Record<string, string[]>;
}

function StepTree({ steps, states, live }: TreeProps) {
  return (
    <ol className="steps">
      {steps.map((step) => {
        const state = states[step.id] ?? "pending";
        return (
          <li key={step.id} className={`step step-${state}`}>
            <span className="step-id">{step.id}</span>{" "}
            <span className="step-kind">{step.module ?? step.kind}</span> <Status state={state} />
            {step.after.length > 0 && <span className="step-after"> after {step.after.join(", ")}</span>}
            <LiveText texts={live[step.id]} />
            {step.bodies.map((body, i) => (
              <div key={`${body.label}-${i}`} className="body">
                {body.label && <span className="body-label">{body.label}</span>}
                <StepTree steps={body.steps} states={states} live={live} />
              </div>
            ))}
          </li>
        );
      })}
    </ol>
  );
}
