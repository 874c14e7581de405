import { expect, test } from "vitest";
import { addEvent, emptyTimeline, type ProgressEvent, type RunEvent, stepKey } from "./timeline";

const progress = (text: string, offset: number, attempt = 1): ProgressEvent => ({
  type: "module_progress",
  at: "2026-12-03T10:00:00Z",
  run: "r",
  step: "draft",
  path: [],
  module: "api.llm",
  data: { text, offset, attempt, call: 1 },
});

test("streamed text is appended under its step, restarted by a new attempt, dropped with the output", () => {
  const key = stepKey({ run: "r", step: "draft", path: [] });
  let timeline = addEvent(emptyTimeline, progress("Hel", 0));
  timeline = addEvent(timeline, progress("lo", 3));
  timeline = addEvent(timeline, progress("lo", 3)); // heard twice
  expect(timeline.live[key]?.text).toBe("Hello");
  timeline = addEvent(timeline, progress("Bye", 0, 2));
  expect(timeline.live[key]?.text).toBe("Bye");
  const output: RunEvent = { id: "0.9.0", type: "module_output", at: "", run: "r", step: "draft", data: {} };
  timeline = addEvent(timeline, output);
  expect(timeline.live[key]).toBeUndefined();
  expect(timeline.events).toEqual([output]);
  expect(timeline.steps.draft).toBeUndefined();
  timeline = addEvent(timeline, { ...output, id: "0.10.0", type: "step_complete" });
  expect(timeline.steps.draft).toBe("done");
});
