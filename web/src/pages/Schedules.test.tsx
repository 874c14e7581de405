import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { fakeApi } from "../test/fakeApi";
import { Schedules } from "./Schedules";

afterEach(() => {
  vi.unstubAllGlobals();
});

const schedule = {
  id: "digest-weekdays",
  definition: "daily-digest",
  version: null,
  trigger_id: null,
  owner: "ada",
  input: {},
  spec: { cron: "0 9 * * MON-FRI", time_zone: "Europe/Berlin", overlap: "skip" },
  paused: false,
  note: null,
  next_times: ["2026-12-03T08:00:00Z"],
  running: [],
  recent: [],
  runs_started: 0,
  skipped_overlap: 0,
  missed_catchup: 0,
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
};
const me = { id: "u", username: "ada", email: null, email_verified: false, role: "member", groups: [], is_active: true, totp_enabled: false, created_at: "2026-12-01T10:00:00Z" };

test("pausing sends the note; the card then says paused, with it", async () => {
  const sent = fakeApi({
    "GET /api/v1/schedules": [{ status: 200, body: [schedule] }, { status: 200, body: [{ ...schedule, paused: true, note: "holidays" }] }],
    "GET /api/v1/definitions": { status: 200, body: [] },
    "POST /api/v1/schedules/digest-weekdays/pause": { status: 200, body: { ...schedule, paused: true, note: "holidays" } },
  });
  const user = userEvent.setup();
  render(<Schedules me={me} />);
  expect(await screen.findByText("cron 0 9 * * MON-FRI, Europe/Berlin")).toBeInTheDocument();
  // A member sees only their own: no filter to offer.
  expect(screen.queryByLabelText("Only mine")).toBeNull();

  await user.click(screen.getByRole("button", { name: "Pause digest-weekdays…" }));
  const note = screen.getByLabelText("Note (optional)");
  expect(note).toHaveFocus();
  await user.type(note, "holidays{Enter}");
  expect(await screen.findByText("“holidays”")).toBeInTheDocument();
  expect(screen.getByText("paused")).toBeInTheDocument();
  expect(screen.getByRole("status")).toHaveTextContent("Schedule digest-weekdays paused.");
  expect(sent.find((r) => r.method === "POST")?.body).toEqual({ note: "holidays" });
  expect(screen.getByRole("button", { name: "Unpause digest-weekdays…" })).toBeInTheDocument();
});

test("a declared schedule cannot be deleted here; triggering one says a run is coming", async () => {
  const sent = fakeApi({
    "GET /api/v1/schedules": { status: 200, body: [{ ...schedule, trigger_id: "nightly" }] },
    "GET /api/v1/definitions": { status: 200, body: [] },
    "POST /api/v1/schedules/digest-weekdays/trigger": { status: 202, body: { id: "digest-weekdays", requested: "trigger" } },
  });
  const user = userEvent.setup();
  render(<Schedules me={{ ...me, role: "operator" }} />);
  await user.click(await screen.findByRole("button", { name: "Trigger digest-weekdays now" }));
  expect(await screen.findByRole("status")).toHaveTextContent("A run of digest-weekdays was asked for");
  expect(screen.queryByRole("button", { name: "Delete digest-weekdays" })).toBeNull();
  expect(screen.getByLabelText("Only mine")).toBeInTheDocument();
  expect(sent.some((r) => r.path === "/api/v1/schedules/digest-weekdays/trigger")).toBe(true);
});
