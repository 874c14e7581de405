import type { Schemas } from "../api/client";

export type Interaction = Schemas["InteractionRequest"];

export interface AnswerProps {
  interaction: Interaction;
  /** Send the answer; resolves to the server's refusal (shown beside the field), or null. */
  submit: (answer: Record<string, unknown>) => Promise<string | null>;
}

export function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** How an item of a list to choose from reads. */
export function label(item: unknown): string {
  if (typeof item === "string") return item;
  if (item && typeof item === "object") {
    const named = item as Record<string, unknown>;
    for (const key of ["label", "title", "name", "text"]) {
      if (typeof named[key] === "string") return named[key];
    }
  }
  return JSON.stringify(item);
}
