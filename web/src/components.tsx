import type { ReactNode } from "react";

const LABELS: Record<string, string> = {
  running: "running",
  waiting: "waiting",
  completed: "completed",
  failed: "failed",
  cancelled: "cancelled",
  terminated: "terminated",
  timed_out: "timed out",
  pending: "pending",
  done: "done",
  skipped: "skipped",
};

export function statusLabel(state: string): string {
  return LABELS[state] ?? state;
}

/** A state as a coloured badge; the word is always there, so colour is never the only cue. */
export function Status({ state }: { state: string }) {
  return <span className={`status status-${state}`}>{statusLabel(state)}</span>;
}

export function ErrorText({ id, children }: { id?: string; children: ReactNode }) {
  if (!children) return null;
  return (
    <p id={id} role="alert" className="error">
      {children}
    </p>
  );
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}
