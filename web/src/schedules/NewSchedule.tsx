// The form for POST /schedules: what to run (a definition, its input) and when (a cron
// expression or an interval), with the problems the browser can see marked before sending.
import { type FormEvent, type ReactNode, useId, useMemo, useState } from "react";
import { api, errorMessage, type Schemas } from "../api/client";
import { ErrorText } from "../components";
import { JsonField } from "../SchemaFields";
import { EMPTY, type Field, type FieldErrors, formProblems, OVERLAPS, type Overlap, refusalFields, type ScheduleForm, scheduleBody } from "./form";

function zones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
}

interface Props {
  definitions: string[];
  onCreated: (schedule: Schemas["SchedulePublic"]) => void;
  onCancel: () => void;
}

export function NewSchedule({ definitions, onCreated, onCancel }: Props) {
  const [form, setForm] = useState<ScheduleForm>(EMPTY);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [refused, setRefused] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const base = useId();
  const zoneList = useMemo(zones, []);
  const set = <K extends keyof ScheduleForm>(key: K, value: ScheduleForm[K]) => setForm((now) => ({ ...now, [key]: value }));

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const found = formProblems(form);
    setErrors(found);
    setRefused([]);
    const first = Object.keys(found)[0];
    if (first) {
      event.currentTarget.querySelector<HTMLElement>(`[data-field="${first}"]`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const { data, error, response } = await api.POST("/api/v1/schedules", { body: scheduleBody(form) });
      if (data) {
        setForm(EMPTY);
        onCreated(data);
        return;
      }
      const { fields, rest } = refusalFields(error);
      setErrors(fields);
      setRefused(rest.length || Object.keys(fields).length ? rest : [errorMessage(error, response.status)]);
    } catch (caught) {
      setRefused([errorMessage(caught)]);
    } finally {
      setBusy(false);
    }
  };

  /** A labelled field with its error (and hint) tied to the control for screen readers. */
  const field = (name: Field, label: string, control: (a11y: Record<string, unknown>) => ReactNode, hint?: string) => {
    const errorId = `${base}-${name}-error`;
    const hintId = `${base}-${name}-hint`;
    const described = [errors[name] ? errorId : "", hint ? hintId : ""].filter(Boolean).join(" ");
    return (
      <div className="field">
        <label htmlFor={`${base}-${name}`}>{label}</label>
        {control({
          id: `${base}-${name}`,
          "data-field": name,
          "aria-invalid": errors[name] ? true : undefined,
          "aria-describedby": described || undefined,
        })}
        {hint && (
          <small id={hintId} className="note">
            {hint}
          </small>
        )}
        {errors[name] && (
          <p id={errorId} className="error">
            {errors[name]}
          </p>
        )}
      </div>
    );
  };

  return (
    <form className="form-narrow" onSubmit={submit} noValidate aria-labelledby={`${base}-title`}>
      <h2 id={`${base}-title`}>New schedule</h2>
      {field(
        "definition",
        "Definition",
        (a) => (
          <input {...a} list={`${base}-definitions`} value={form.definition} onChange={(e) => set("definition", e.target.value)} />
        ),
        "name (follows the latest version), or name@3 to pin one",
      )}
      <datalist id={`${base}-definitions`}>
        {definitions.map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      {field(
        "id",
        "Schedule id (optional)",
        (a) => <input {...a} value={form.id} onChange={(e) => set("id", e.target.value)} />,
        "default: the definition's name and a random suffix",
      )}
      <fieldset>
        <legend>When it runs</legend>
        <label className="inline">
          <input type="radio" name="when" checked={form.when === "cron"} onChange={() => set("when", "cron")} />
          On a cron schedule
        </label>
        <label className="inline">
          <input type="radio" name="when" checked={form.when === "interval"} onChange={() => set("when", "interval")} />
          At a fixed interval
        </label>
        {form.when === "cron"
          ? field(
              "cron",
              "Cron expression",
              (a) => <input {...a} className="code" placeholder="0 9 * * MON-FRI" value={form.cron} onChange={(e) => set("cron", e.target.value)} />,
              "minute hour day-of-month month day-of-week, or @daily, @hourly, …",
            )
          : (
            <>
              {field(
                "every",
                "Every",
                (a) => <input {...a} placeholder="1h" value={form.every} onChange={(e) => set("every", e.target.value)} />,
                "e.g. 30m, 1h, 2d: counted from the Unix epoch",
              )}
              {field("offset", "Offset (optional)", (a) => (
                <input {...a} placeholder="5m" value={form.offset} onChange={(e) => set("offset", e.target.value)} />
              ))}
            </>
          )}
        {field("timeZone", "Time zone", (a) => (
          <input {...a} list={`${base}-zones`} value={form.timeZone} onChange={(e) => set("timeZone", e.target.value)} />
        ))}
        <datalist id={`${base}-zones`}>
          {zoneList.map((zone) => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
      </fieldset>
      <label>
        When a run is due while the last one runs
        <select value={form.overlap} onChange={(e) => set("overlap", e.target.value as Overlap)}>
          {OVERLAPS.map(({ value, what }) => (
            <option key={value} value={value}>
              {value.replace(/_/g, " ")}: {what}
            </option>
          ))}
        </select>
      </label>
      <JsonField
        label="Run input (JSON; templates may use schedule.id and schedule.scheduled_time)"
        initial={EMPTY.input}
        onChange={(value, error) => setForm((now) => ({ ...now, input: error ? now.input : value, inputError: error }))}
      />
      {errors.input && <p className="error">input: {errors.input}</p>}
      <label className="inline">
        <input type="checkbox" checked={form.pauseOnFailure} onChange={(e) => set("pauseOnFailure", e.target.checked)} />
        Pause the schedule when a run fails
      </label>
      {refused.map((message) => (
        <ErrorText key={message}>{message}</ErrorText>
      ))}
      <div className="actions">
        <button type="submit" disabled={busy}>
          Create schedule
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
