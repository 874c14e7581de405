// Schedules: the caller's (operators and admins: everyone's), a new one, pausing and unpausing
// with a note, a run now, deleting. Loaded only when opened.
import { type FormEvent, useState } from "react";
import { api, errorMessage, type Schemas } from "../api/client";
import { ErrorText, when } from "../components";
import { Link } from "../router";
import { NewSchedule } from "../schedules/NewSchedule";
import { usePoll } from "../usePoll";

type Schedule = Schemas["SchedulePublic"];
const REFRESH_MS = 10000;

/** When a schedule runs, in words, from its spec as written. */
export function describeSpec(spec: Record<string, unknown>): string {
  const parts: string[] = [];
  const cron = spec.cron;
  if (typeof cron === "string") parts.push(`cron ${cron}`);
  else if (Array.isArray(cron)) parts.push(...cron.map((c) => `cron ${String(c)}`));
  if (Array.isArray(spec.intervals)) {
    for (const i of spec.intervals as { every?: string; offset?: string | null }[]) {
      parts.push(`every ${i.every ?? "?"}${i.offset ? ` (offset ${i.offset})` : ""}`);
    }
  }
  if (Array.isArray(spec.calendars) && spec.calendars.length > 0) {
    parts.push(`${spec.calendars.length} calendar${spec.calendars.length > 1 ? "s" : ""}`);
  }
  const zone = typeof spec.time_zone === "string" && spec.time_zone !== "UTC" ? `, ${spec.time_zone}` : "";
  return (parts.join(" and ") || "no times") + zone;
}

export function Schedules({ me }: { me: Schemas["UserPublic"] | null }) {
  const list = usePoll(
    async () => {
      const { data, error, response } = await api.GET("/api/v1/schedules");
      if (!data) throw new Error(errorMessage(error, response.status));
      return data;
    },
    REFRESH_MS,
    "schedules",
  );
  const definitions = usePoll(async () => (await api.GET("/api/v1/definitions")).data ?? [], null, "definitions");
  const [creating, setCreating] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [onlyMine, setOnlyMine] = useState(false);
  const seesAll = me?.role === "admin" || me?.role === "operator";
  const rows = (list.value ?? []).filter((s) => !onlyMine || s.owner === me?.username);

  return (
    <section aria-labelledby="schedules-title">
      <h1 id="schedules-title">Schedules</h1>
      <p className="note">
        Runs started on a timetable; they belong to the schedule's owner. Schedules declared in a definition's{" "}
        <code>triggers:</code> change with the definition.
      </p>
      {creating ? (
        <NewSchedule
          definitions={(definitions.value ?? []).map((d) => d.name)}
          onCancel={() => setCreating(false)}
          onCreated={(schedule) => {
            setCreating(false);
            setMessage(`Schedule ${schedule.id} created.`);
            list.reload();
          }}
        />
      ) : (
        <button type="button" onClick={() => setCreating(true)}>
          New schedule
        </button>
      )}
      {message && (
        <p role="status" className="note">
          {message}
        </p>
      )}
      {seesAll && (
        <label className="inline">
          <input type="checkbox" checked={onlyMine} onChange={(e) => setOnlyMine(e.target.checked)} />
          Only mine
        </label>
      )}
      <ErrorText>{list.error}</ErrorText>
      {list.value && rows.length === 0 && <p>No schedules{onlyMine ? " of yours" : ""}.</p>}
      <ul className="cards" aria-label="Schedules">
        {rows.map((schedule) => (
          <ScheduleCard key={schedule.id} schedule={schedule} onChanged={list.reload} onMessage={setMessage} />
        ))}
      </ul>
    </section>
  );
}

interface CardProps {
  schedule: Schedule;
  onChanged: () => void;
  onMessage: (message: string) => void;
}

function ScheduleCard({ schedule, onChanged, onMessage }: CardProps) {
  const [noting, setNoting] = useState(false);
  const [note, setNote] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const path = { schedule_id: schedule.id };
  const action = schedule.paused ? "Unpause" : "Pause";

  const run = async (work: () => Promise<{ error?: unknown; response: Response }>, done: string) => {
    setBusy(true);
    setError(null);
    try {
      const { error, response } = await work();
      if (!response.ok) return setError(errorMessage(error, response.status));
      onMessage(done);
      onChanged();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  const setPaused = (event: FormEvent) => {
    event.preventDefault();
    const body = { note: note.trim() || null };
    void run(
      () =>
        schedule.paused
          ? api.POST("/api/v1/schedules/{schedule_id}/unpause", { params: { path }, body })
          : api.POST("/api/v1/schedules/{schedule_id}/pause", { params: { path }, body }),
      `Schedule ${schedule.id} ${schedule.paused ? "unpaused" : "paused"}.`,
    ).then(() => {
      setNoting(false);
      setNote("");
    });
  };

  const trigger = () =>
    run(
      () => api.POST("/api/v1/schedules/{schedule_id}/trigger", { params: { path }, body: null }),
      `A run of ${schedule.id} was asked for; it shows under Runs in a moment.`,
    );

  const remove = () => {
    if (!confirm(`Delete the schedule ${schedule.id}? The runs it started go on.`)) return;
    void run(() => api.DELETE("/api/v1/schedules/{schedule_id}", { params: { path } }), `Schedule ${schedule.id} deleted.`);
  };

  const next = schedule.next_times[0];
  return (
    <li className="card">
      <div className="card-head">
        <h3>{schedule.id}</h3>
        <span className={`status status-${schedule.paused ? "waiting" : "running"}`}>{schedule.paused ? "paused" : "active"}</span>
        {schedule.note && <span className="note">“{schedule.note}”</span>}
      </div>
      <dl className="facts">
        <dt>Runs</dt>
        <dd>
          <Link href={`/definitions/${encodeURIComponent(schedule.definition)}`}>{schedule.definition}</Link>
          {schedule.version != null ? `@${schedule.version}` : " (latest)"}
        </dd>
        <dt>When</dt>
        <dd>{describeSpec(schedule.spec)}</dd>
        <dt>Overlap</dt>
        <dd>{String(schedule.spec.overlap ?? "skip").replace(/_/g, " ")}</dd>
        <dt>Next run</dt>
        <dd>{schedule.paused ? "none while paused" : next ? when(next) : "none"}</dd>
        <dt>Owner</dt>
        <dd>{schedule.owner}</dd>
        <dt>Started</dt>
        <dd>
          {schedule.runs_started} runs
          {schedule.skipped_overlap > 0 && `, ${schedule.skipped_overlap} skipped (overlap)`}
          {schedule.missed_catchup > 0 && `, ${schedule.missed_catchup} missed`}
        </dd>
        {(schedule.running.length > 0 || schedule.recent.length > 0) && (
          <>
            <dt>Latest</dt>
            <dd>
              {[...schedule.running, ...schedule.recent.map((r) => r.run_id).filter((id): id is string => !!id)]
                .filter((id, i, all) => all.indexOf(id) === i)
                .slice(0, 3)
                .map((id, i) => (
                  <span key={id}>
                    {i > 0 && ", "}
                    <Link href={`/runs/${encodeURIComponent(id)}`}>{id}</Link>
                  </span>
                ))}
            </dd>
          </>
        )}
      </dl>
      {schedule.trigger_id && (
        <p className="note">Declared in the triggers of {schedule.definition}: edit it there.</p>
      )}
      {noting ? (
        <form className="inline-form" onSubmit={setPaused}>
          <label>
            Note (optional)
            <input autoFocus maxLength={2000} value={note} placeholder="why" onChange={(e) => setNote(e.target.value)} />
          </label>
          <button type="submit" disabled={busy}>
            {action} {schedule.id}
          </button>
          <button type="button" className="secondary" onClick={() => setNoting(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <div className="actions">
          <button type="button" className="secondary" aria-label={`${action} ${schedule.id}…`} onClick={() => setNoting(true)}>
            {action}…
          </button>
          <button type="button" className="secondary" disabled={busy} aria-label={`Trigger ${schedule.id} now`} onClick={() => void trigger()}>
            Trigger now
          </button>
          {!schedule.trigger_id && (
            <button type="button" className="danger" disabled={busy} aria-label={`Delete ${schedule.id}`} onClick={remove}>
              Delete
            </button>
          )}
        </div>
      )}
      <ErrorText>{error}</ErrorText>
    </li>
  );
}
