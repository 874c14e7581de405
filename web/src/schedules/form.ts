// The new-schedule form's values, what is wrong with them before sending, the body of
// POST /schedules, and the API's refusals put back on their fields.
import type { Schemas } from "../api/client";

export type Overlap = Schemas["ScheduleCreate"]["overlap"];
export const OVERLAPS: { value: Overlap; what: string }[] = [
  { value: "skip", what: "skip a run due while the last one still runs" },
  { value: "buffer_one", what: "start it when the running one ends; skip more due meanwhile" },
  { value: "buffer_all", what: "start every one due, one after another" },
  { value: "cancel_other", what: "cancel the running one, then start" },
  { value: "terminate_other", what: "terminate the running one at once, then start" },
  { value: "allow_all", what: "run side by side" },
];

export interface ScheduleForm {
  definition: string;
  id: string;
  when: "cron" | "interval";
  cron: string;
  every: string;
  offset: string;
  timeZone: string;
  overlap: Overlap;
  /** The run input as parsed from its JSON box; `inputError` while it does not parse. */
  input: unknown;
  inputError: string | null;
  pauseOnFailure: boolean;
}

export type Field = "definition" | "id" | "cron" | "every" | "offset" | "timeZone" | "input";
export type FieldErrors = Partial<Record<Field, string>>;

export const EMPTY: ScheduleForm = {
  definition: "",
  id: "",
  when: "cron",
  cron: "",
  every: "",
  offset: "",
  timeZone: "UTC",
  overlap: "skip",
  input: {},
  inputError: null,
  pauseOnFailure: false,
};

const DURATION = /^[0-9]+(ms|s|m|h|d)$/;
const ID = /^[a-z0-9][a-z0-9_-]{0,99}$/;
const MACROS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);

/** What cannot be right in a cron expression, seen without parsing its fields (the API does). */
export function cronProblem(text: string): string | null {
  const cron = text.trim();
  if (!cron) return "give a cron expression, e.g. 0 9 * * MON-FRI";
  if (cron.startsWith("@")) {
    return MACROS.has(cron) ? null : `${cron} is not one of ${[...MACROS].join(", ")}`;
  }
  const fields = cron.split(/\s+/).length;
  if (fields < 5 || fields > 7) {
    return `a cron expression has 5 fields (minute hour day-of-month month day-of-week), or 6–7 with seconds and year; this has ${fields}`;
  }
  return null;
}

function durationProblem(text: string, example: string): string | null {
  if (!DURATION.test(text)) return `a number and a unit (ms, s, m, h, d), e.g. ${example}`;
  return /^0+[a-z]+$/.test(text) ? "must be longer than nothing" : null;
}

/** The problems the browser can see: fields left empty or written wrong. */
export function formProblems(form: ScheduleForm): FieldErrors {
  const errors: FieldErrors = {};
  if (!form.definition.trim()) errors.definition = "choose the definition to run";
  if (form.id && !ID.test(form.id)) {
    errors.id = "lowercase letters, digits, - and _, starting with a letter or digit (at most 100)";
  }
  if (form.when === "cron") {
    const problem = cronProblem(form.cron);
    if (problem) errors.cron = problem;
  } else {
    const every = durationProblem(form.every.trim(), "1h");
    if (every) errors.every = every;
    const offset = form.offset.trim() ? durationProblem(form.offset.trim(), "5m") : null;
    if (offset) errors.offset = offset;
  }
  if (!form.timeZone.trim()) errors.timeZone = "give an IANA time zone, e.g. UTC or Europe/Berlin";
  if (form.inputError) errors.input = form.inputError;
  return errors;
}

export function scheduleBody(form: ScheduleForm): Schemas["ScheduleCreate"] {
  const offset = form.offset.trim();
  return {
    definition: form.definition.trim(),
    id: form.id || null,
    ...(form.when === "cron"
      ? { cron: form.cron.trim() }
      : { intervals: [{ every: form.every.trim(), offset: offset || null }] }),
    time_zone: form.timeZone.trim(),
    overlap: form.overlap,
    pause_on_failure: form.pauseOnFailure,
    paused: false,
    input: form.input,
  };
}

const POINTER_FIELDS: [RegExp, Field][] = [
  [/^\/cron/, "cron"],
  [/^\/intervals\/\d+\/every/, "every"],
  [/^\/intervals\/\d+\/offset/, "offset"],
  [/^\/intervals/, "every"],
  [/^\/time_zone/, "timeZone"],
  [/^\/input/, "input"],
  [/^\/definition/, "definition"],
  [/^\/id/, "id"],
];

/** A refusal of POST /schedules, its problems put on the fields they name (by JSON pointer or
 * by a `field:` prefix); what names no field comes back as `rest`. */
export function refusalFields(body: unknown): { fields: FieldErrors; rest: string[] } {
  const fields: FieldErrors = {};
  const rest: string[] = [];
  const put = (pointer: string, message: string) => {
    const field = POINTER_FIELDS.find(([pattern]) => pattern.test(pointer))?.[1];
    if (field) fields[field] = fields[field] ? `${fields[field]}; ${message}` : message;
    else rest.push(pointer ? `${pointer}: ${message}` : message);
  };
  if (body && typeof body === "object" && "detail" in body) {
    const { detail, problems } = body as { detail: unknown; problems?: { pointer?: string; message?: string }[] };
    if (Array.isArray(problems) && problems.length > 0) {
      for (const p of problems) put(p.pointer ?? "", p.message ?? "");
    } else if (Array.isArray(detail)) {
      // FastAPI's own validation: loc is ["body", field, ...].
      for (const d of detail as { loc?: (string | number)[]; msg?: string }[]) {
        put(`/${(d.loc ?? []).slice(1).join("/")}`, d.msg ?? "");
      }
    } else if (typeof detail === "string") {
      const named = /^(definition|cron|time_zone|input|id): (.*)$/s.exec(detail);
      if (named) put(`/${named[1]}`, named[2] ?? "");
      else rest.push(detail);
    }
  }
  return { fields, rest };
}
