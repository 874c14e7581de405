// user.select: choose items of the step's data (between min_selections and max_selections,
// checked before the answer goes out), or ask for another try with feedback.
import { type FormEvent, useId, useState } from "react";
import { ErrorText } from "../components";
import { type AnswerProps, label, num } from "./types";

/** The fewest and most items an answer may choose, as the run's validator counts them. */
export function selectionLimits(constraints: Record<string, unknown>, count: number): [number, number] {
  const multi = Boolean(constraints.multi_select);
  const least = num(constraints.min_selections) ?? 1;
  const most = num(constraints.max_selections) ?? (multi ? count : 1);
  return multi ? [least, most] : [1, 1];
}

/** The step's display hints (its `schema`): a grid or a list, and which keys of an item hold its
 * title, subtitle, image and children. */
export interface Display {
  grid: boolean;
  title?: string;
  subtitle?: string;
  image?: string;
  children: string;
}

export function displayOf(hints: Record<string, unknown> | null | undefined): Display {
  const key = (name: string) => (typeof hints?.[name] === "string" ? (hints[name] as string) : undefined);
  return {
    grid: hints?.display === "grid",
    title: key("title"),
    subtitle: key("subtitle"),
    image: key("image"),
    children: key("children") ?? "children",
  };
}

function field(item: unknown, name: string | undefined): unknown {
  return name && item && typeof item === "object" ? (item as Record<string, unknown>)[name] : undefined;
}

function titleOf(item: unknown, display: Display): string {
  const own = field(item, display.title);
  return typeof own === "string" || typeof own === "number" ? String(own) : label(item);
}

/** One item to choose: its title (the checkbox's name), subtitle, image and, for a parent, its
 * children (shown with it: an answer chooses whole items). */
function Choice({ item, display, subtitleId }: { item: unknown; display: Display; subtitleId: string }) {
  const subtitle = field(item, display.subtitle);
  const image = field(item, display.image);
  const children = field(item, display.children);
  return (
    <span className="choice-body">
      {typeof image === "string" && <img src={image} alt="" className="choice-image" />}
      <span className="choice-title">{titleOf(item, display)}</span>
      {typeof subtitle === "string" && <span id={subtitleId} className="note choice-subtitle">
          {subtitle}
        </span>}
      {Array.isArray(children) && children.length > 0 && (
        <ul className="choice-children">
          {children.map((child, i) => (
            <li key={i}>{titleOf(child, display)}</li>
          ))}
        </ul>
      )}
    </span>
  );
}

export function SelectAnswer({ interaction, submit }: AnswerProps) {
  const items = Array.isArray(interaction.data) ? (interaction.data as unknown[]) : [];
  const constraints = interaction.constraints ?? {};
  const multi = Boolean(constraints.multi_select);
  const [least, most] = selectionLimits(constraints, items.length);
  const [chosen, setChosen] = useState<number[]>([]);
  const [feedback, setFeedback] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const display = displayOf(interaction.display);
  const fits = chosen.length >= least && chosen.length <= most;
  const rule =
    least === most
      ? `Choose ${least} ${least === 1 ? "item" : "items"}`
      : `Choose between ${least} and ${most} items`;

  const toggle = (index: number, on: boolean) => {
    setChosen((current) => {
      if (!multi) return on ? [index] : [];
      return on ? [...current.filter((i) => i !== index), index] : current.filter((i) => i !== index);
    });
  };

  const send = async (answer: Record<string, unknown>) => {
    setBusy(true);
    setError(await submit(answer));
    setBusy(false);
  };

  const choose = (event: FormEvent) => {
    event.preventDefault();
    if (!fits) return setError(`${rule}; ${chosen.length} chosen.`);
    void send({ selected_indices: chosen });
  };

  return (
    <form onSubmit={choose} className="answer">
      <fieldset aria-describedby={`${id}-rule ${id}-error`}>
        <legend>{interaction.prompt ?? "Choose"}</legend>
        <p id={`${id}-rule`} className="note">
          {rule} ({chosen.length} chosen).
        </p>
        <div className={display.grid ? "choices grid" : "choices"}>
          {items.map((item, index) => (
            <label key={index} className="inline choice">
              <input
                type={multi ? "checkbox" : "radio"}
                name={`${id}-choice`}
                checked={chosen.includes(index)}
                aria-label={titleOf(item, display)}
                aria-describedby={typeof field(item, display.subtitle) === "string" ? `${id}-sub-${index}` : undefined}
                // Past the maximum, the unchosen boxes wait until one is unticked.
                disabled={multi && !chosen.includes(index) && chosen.length >= most}
                onChange={(e) => toggle(index, e.target.checked)}
              />
              <Choice item={item} display={display} subtitleId={`${id}-sub-${index}`} />
            </label>
          ))}
        </div>
      </fieldset>
      <ErrorText id={`${id}-error`}>{error}</ErrorText>
      <div className="actions">
        <button type="submit" disabled={busy || !fits}>
          Submit choice
        </button>
      </div>
      <details>
        <summary>None of these: ask for another try</summary>
        <label>
          Feedback for the next try
          <textarea value={feedback} onChange={(e) => setFeedback(e.target.value)} />
        </label>
        <button
          type="button"
          className="secondary"
          disabled={busy}
          onClick={() => void send({ retry: true, feedback: feedback || null })}
        >
          Ask for another try
        </button>
      </details>
    </form>
  );
}
