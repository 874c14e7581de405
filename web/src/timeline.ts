// What the run page shows of a run's events: the history events in order, the live text of
// streaming steps (`module_progress`, which has no id and is not in history), and each step's
// status as the events tell it.
import type { Schemas } from "./api/client";

export type RunEvent = Schemas["RunEvent"];

export interface ProgressEvent {
  type: "module_progress";
  at: string;
  run: string;
  step: string;
  path: [string, number][];
  module: string;
  data: { text: string; offset: number; attempt: number; call: number };
}

export type StepState = "pending" | "running" | "waiting" | "done" | "skipped" | "failed";

export interface LiveText {
  attempt: number;
  call: number;
  text: string;
}

export interface Timeline {
  events: RunEvent[];
  /** Live text by `stepKey`, while the step runs. */
  live: Record<string, LiveText>;
  steps: Record<string, StepState>;
  ended: boolean;
}

export const emptyTimeline: Timeline = { events: [], live: {}, steps: {}, ended: false };

/** A step instance: its run, its id and where it is inside for_each items and loops. */
export function stepKey(event: { run: string; step?: string | null; path?: [string, number][] }): string {
  const path = (event.path ?? []).map(([block, index]) => `${block}[${index}]`).join("/");
  return `${event.run}|${path}|${event.step ?? ""}`;
}

/** The timeline with one more message of the stream (already JSON-parsed). */
export function addEvent(timeline: Timeline, event: RunEvent | ProgressEvent): Timeline {
  if (event.type === "module_progress") return addProgress(timeline, event);
  const next: Timeline = { ...timeline, events: [...timeline.events, event] };
  const key = stepKey(event);
  const state = stateAfter(event);
  if (event.step && state !== null && !event.run.includes(".")) {
    next.steps = { ...timeline.steps, [event.step]: state };
  }
  if (event.type === "module_output" || event.type === "step_complete" || event.type === "error") {
    if (key in timeline.live) {
      const { [key]: _done, ...rest } = timeline.live;
      next.live = rest;
    }
  }
  if (event.type === "workflow_complete" && !event.run.includes(".")) next.ended = true;
  return next;
}

function stateAfter(event: RunEvent): StepState | null {
  switch (event.type) {
    case "step_start":
    case "module_start":
      return "running";
    case "interaction_request":
      return "waiting";
    case "interaction_response":
      return event.data?.decided === false ? "waiting" : "running";
    case "step_complete":
      return event.data?.skipped ? "skipped" : "done";
    case "error":
      return "failed";
    default:
      return null;
  }
}

function addProgress(timeline: Timeline, event: ProgressEvent): Timeline {
  const key = stepKey(event);
  const { text, offset, attempt, call } = event.data;
  const before = timeline.live[key];
  // A new attempt or a new provider call (a repaired reply) starts its text again.
  let current = before && before.attempt === attempt && before.call === call ? before.text : "";
  if (offset < current.length) current = current.slice(0, offset); // a chunk heard again
  return {
    ...timeline,
    live: { ...timeline.live, [key]: { attempt, call, text: current + text } },
  };
}

/** One line that says what an event is about. */
export function describe(event: RunEvent): string {
  const data = event.data ?? {};
  switch (event.type) {
    case "workflow_start":
      return `${String(data.definition ?? "")} started${data.owner ? ` by ${String(data.owner)}` : ""}`;
    case "interaction_request": {
      const interaction = (data.interaction ?? {}) as { id?: string; prompt?: string };
      return `${interaction.id ?? ""}: ${interaction.prompt ?? "waits for an answer"}`;
    }
    case "interaction_response": {
      const interaction = (data.interaction ?? {}) as { id?: string } | string;
      const id = typeof interaction === "string" ? interaction : (interaction.id ?? "");
      return `${id} answered by ${String(data.by ?? "someone")}`;
    }
    case "error":
      return `${String(data.type ?? "error")}: ${String(data.message ?? "")}`;
    case "retry":
      return `attempt ${String(data.attempt ?? "")} after ${String(data.failed_attempts ?? "")} failed`;
    case "workflow_complete":
      return String(data.status ?? "ended");
    case "step_complete":
      return data.skipped ? "skipped" : "done";
    case "timer_started":
      return `${String(data.summary ?? "timer")} (${String(data.seconds ?? "")} s)`;
    default:
      return "";
  }
}
