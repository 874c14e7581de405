import { fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { fakeApi } from "../test/fakeApi";
import { cronProblem } from "./form";
import { NewSchedule } from "./NewSchedule";

afterEach(() => {
  vi.unstubAllGlobals();
});

function form() {
  const onCreated = vi.fn();
  render(<NewSchedule definitions={["daily-digest"]} onCreated={onCreated} onCancel={() => undefined} />);
  return { onCreated, user: userEvent.setup() };
}

test("what the browser can see is marked at its field before anything is sent", async () => {
  const sent = fakeApi({});
  const { user } = form();
  await user.click(screen.getByRole("button", { name: "Create schedule" }));
  expect(screen.getByLabelText("Definition")).toHaveAttribute("aria-invalid", "true");
  expect(screen.getByLabelText("Definition")).toHaveFocus();
  expect(screen.getByLabelText("Cron expression")).toHaveAccessibleDescription(expect.stringContaining("give a cron expression"));

  await user.type(screen.getByLabelText("Definition"), "daily-digest");
  await user.type(screen.getByLabelText("Cron expression"), "0 9 * *");
  await user.type(screen.getByLabelText("Schedule id (optional)"), "Digest!");
  await user.click(screen.getByRole("button", { name: "Create schedule" }));
  expect(screen.getByLabelText("Cron expression")).toHaveAccessibleDescription(expect.stringContaining("this has 4"));
  expect(screen.getByLabelText("Schedule id (optional)")).toHaveAttribute("aria-invalid", "true");
  expect(screen.getByLabelText("Definition")).not.toHaveAttribute("aria-invalid");

  await user.click(screen.getByLabelText("At a fixed interval"));
  await user.type(screen.getByLabelText("Every"), "an hour");
  await user.click(screen.getByRole("button", { name: "Create schedule" }));
  expect(screen.getByLabelText("Every")).toHaveAccessibleDescription(expect.stringContaining("a number and a unit"));
  expect(sent).toHaveLength(0);
});

test("a valid form sends the schedule; the API's problems come back at their fields", async () => {
  const created = { id: "digest-weekdays" };
  const sent = fakeApi({
    "POST /api/v1/schedules": [
      {
        status: 422,
        body: {
          detail: "the schedule cannot be used as it is",
          problems: [
            { pointer: "/time_zone", message: "'Mars/Olympus' is not a time zone" },
            { pointer: "/input/day", message: "5 is not of type 'string'" },
          ],
        },
      },
      { status: 201, body: created },
    ],
  });
  const { user, onCreated } = form();
  await user.type(screen.getByLabelText("Definition"), "daily-digest");
  await user.type(screen.getByLabelText("Schedule id (optional)"), "digest-weekdays");
  await user.type(screen.getByLabelText("Cron expression"), "0 9 * * MON-FRI");
  await user.clear(screen.getByLabelText("Time zone"));
  await user.type(screen.getByLabelText("Time zone"), "Mars/Olympus");
  await user.selectOptions(screen.getByLabelText("When a run is due while the last one runs"), "buffer_one");
  fireEvent.change(screen.getByLabelText(/^Run input/), { target: { value: '{"day": 5}' } });
  await user.click(screen.getByRole("button", { name: "Create schedule" }));

  expect(await screen.findByText("'Mars/Olympus' is not a time zone")).toBeInTheDocument();
  expect(screen.getByLabelText("Time zone")).toHaveAttribute("aria-invalid", "true");
  expect(screen.getByText("input: 5 is not of type 'string'")).toBeInTheDocument();
  expect(sent[0]?.body).toEqual({
    definition: "daily-digest",
    id: "digest-weekdays",
    cron: "0 9 * * MON-FRI",
    time_zone: "Mars/Olympus",
    overlap: "buffer_one",
    pause_on_failure: false,
    paused: false,
    input: { day: 5 },
  });

  await user.clear(screen.getByLabelText("Time zone"));
  await user.type(screen.getByLabelText("Time zone"), "Europe/Berlin");
  await user.click(screen.getByRole("button", { name: "Create schedule" }));
  await vi.waitFor(() => expect(onCreated).toHaveBeenCalledWith(created));
  expect(sent[1]?.body).toMatchObject({ time_zone: "Europe/Berlin" });
});

test("an interval schedule sends intervals, not cron; JSON that does not parse is held back", async () => {
  const sent = fakeApi({ "POST /api/v1/schedules": { status: 201, body: { id: "x" } } });
  const { user, onCreated } = form();
  await user.type(screen.getByLabelText("Definition"), "daily-digest@3");
  await user.click(screen.getByLabelText("At a fixed interval"));
  await user.type(screen.getByLabelText("Every"), "1h");
  await user.type(screen.getByLabelText("Offset (optional)"), "5m");
  fireEvent.change(screen.getByLabelText(/^Run input/), { target: { value: "{oops" } });
  await user.click(screen.getByRole("button", { name: "Create schedule" }));
  expect(screen.getByText("input: not valid JSON yet")).toBeInTheDocument();
  expect(sent).toHaveLength(0);

  fireEvent.change(screen.getByLabelText(/^Run input/), { target: { value: "null" } });
  await user.click(screen.getByRole("button", { name: "Create schedule" }));
  await vi.waitFor(() => expect(onCreated).toHaveBeenCalled());
  expect(sent[0]?.body).toMatchObject({ definition: "daily-digest@3", intervals: [{ every: "1h", offset: "5m" }], input: null });
  expect(sent[0]?.body).not.toHaveProperty("cron");
});

test("cron macros and field counts", () => {
  expect(cronProblem("@daily")).toBeNull();
  expect(cronProblem("0 0 9 * * MON-FRI")).toBeNull();
  expect(cronProblem("@often")).toMatch("is not one of");
  expect(cronProblem("* * * * * * * *")).toMatch("this has 8");
});
