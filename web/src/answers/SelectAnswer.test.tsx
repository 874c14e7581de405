import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { expect, test, vi } from "vitest";
import { SelectAnswer, selectionLimits } from "./SelectAnswer";
import type { Interaction } from "./types";

const pick: Interaction = {
  id: "pick-1",
  step_id: "pick",
  type: "user.select",
  prompt: "Pick two scenes",
  constraints: { multi_select: true, min_selections: 2, max_selections: 2 },
  assignees: [],
  created_at: "2026-12-03T10:00:00Z",
  data: ["harbour at dawn", "harbour at noon", "harbour at dusk"],
  answer_schema: {},
};

test("the answer goes out only with between min and max items chosen", async () => {
  const user = userEvent.setup();
  const submit = vi.fn(async () => null);
  render(<SelectAnswer interaction={pick} submit={submit} />);
  const send = screen.getByRole("button", { name: "Submit choice" });
  expect(screen.getByText(/Choose 2 items \(0 chosen\)/)).toBeInTheDocument();

  await user.click(screen.getByLabelText("harbour at dawn"));
  expect(send).toBeDisabled();
  await user.click(screen.getByLabelText("harbour at dusk"));
  expect(send).toBeEnabled();
  // At the maximum, the item left cannot be ticked as well.
  expect(screen.getByLabelText("harbour at noon")).toBeDisabled();

  await user.click(send);
  expect(submit).toHaveBeenCalledExactlyOnceWith({ selected_indices: [0, 2] });
});

test("a refused answer shows the server's reason beside the choices", async () => {
  const user = userEvent.setup();
  const submit = vi.fn(async () => "the run refused the answer: pick-1 was answered already");
  render(<SelectAnswer interaction={pick} submit={submit} />);
  await user.click(screen.getByLabelText("harbour at dawn"));
  await user.click(screen.getByLabelText("harbour at noon"));
  await user.click(screen.getByRole("button", { name: "Submit choice" }));
  const alert = await screen.findByRole("alert");
  expect(alert).toHaveTextContent("pick-1 was answered already");
  expect(screen.getByRole("group", { name: "Pick two scenes" })).toHaveAccessibleDescription(
    expect.stringContaining("pick-1 was answered already"),
  );
});

test("a single choice is one radio button, and asking for another try sends the feedback", async () => {
  const user = userEvent.setup();
  const submit = vi.fn(async () => null);
  render(<SelectAnswer interaction={{ ...pick, constraints: {} }} submit={submit} />);
  await user.click(screen.getByLabelText("harbour at noon"));
  await user.click(screen.getByLabelText("harbour at dusk"));
  await user.click(screen.getByRole("button", { name: "Submit choice" }));
  expect(submit).toHaveBeenLastCalledWith({ selected_indices: [2] });

  await user.click(screen.getByText("None of these: ask for another try"));
  await user.type(screen.getByLabelText("Feedback for the next try"), "shorter");
  await user.click(screen.getByRole("button", { name: "Ask for another try" }));
  expect(submit).toHaveBeenLastCalledWith({ retry: true, feedback: "shorter" });
});

test("the limits are the run validator's", () => {
  expect(selectionLimits({}, 5)).toEqual([1, 1]);
  expect(selectionLimits({ multi_select: true }, 5)).toEqual([1, 5]);
  expect(selectionLimits({ multi_select: true, min_selections: 0, max_selections: 3 }, 5)).toEqual([0, 3]);
});

test("a grid shows each item's title, subtitle and children as the step's schema says", async () => {
  const user = userEvent.setup();
  const submit = vi.fn(async () => null);
  const scenes: Interaction = {
    ...pick,
    constraints: { multi_select: true, min_selections: 1 },
    display: { display: "grid", title: "name", subtitle: "blurb" },
    data: [
      { name: "Harbour", blurb: "Boats at dawn", children: [{ name: "Gulls" }, { name: "Nets" }] },
      { name: "Market", blurb: "Noon crowds" },
    ],
  };
  const { container } = render(<SelectAnswer interaction={scenes} submit={submit} />);
  expect(container.querySelector(".choices.grid")).not.toBeNull();
  const harbour = screen.getByRole("checkbox", { name: "Harbour" });
  expect(harbour).toHaveAccessibleDescription("Boats at dawn");
  expect(screen.getByText("Gulls")).toBeInTheDocument();
  expect(screen.getByText("Nets")).toBeInTheDocument();
  await user.click(screen.getByRole("checkbox", { name: "Market" }));
  await user.click(screen.getByRole("button", { name: "Submit choice" }));
  expect(submit).toHaveBeenCalledExactlyOnceWith({ selected_indices: [1] });
});
