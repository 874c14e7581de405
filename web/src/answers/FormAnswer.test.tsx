import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { expect, test, vi } from "vitest";
import { FormAnswer } from "./FormAnswer";
import type { Interaction } from "./types";

const contacts: Interaction = {
  id: "contacts-1",
  step_id: "contacts",
  type: "user.form",
  prompt: "Check each contact",
  constraints: {},
  assignees: [],
  created_at: "2026-12-03T10:00:00Z",
  data: [
    { email: "ada@example.org", vip: true },
    { email: "bob@exmaple.org", vip: false },
  ],
  answer_schema: {
    type: "object",
    properties: {
      form_data: {
        type: "array",
        items: {
          type: "object",
          properties: { email: { type: "string", title: "Email" }, vip: { type: "boolean", title: "VIP" } },
          required: ["email"],
        },
      },
    },
  },
};

test("rows are an editable table, one control per cell, sent back as rows", async () => {
  const user = userEvent.setup();
  const submit = vi.fn(async () => null);
  render(<FormAnswer interaction={contacts} submit={submit} />);
  expect(screen.getByRole("table", { name: "Check each contact" })).toBeInTheDocument();
  expect(screen.getByRole("columnheader", { name: /Email/ })).toBeInTheDocument();
  const second = screen.getByRole("textbox", { name: "Email, row 2" });
  expect(second).toHaveValue("bob@exmaple.org");
  await user.clear(second);
  await user.type(second, "bob@example.org");
  await user.click(screen.getByRole("checkbox", { name: "VIP, row 2" }));
  await user.click(screen.getByRole("button", { name: "Submit" }));
  expect(submit).toHaveBeenCalledExactlyOnceWith({
    form_data: [
      { email: "ada@example.org", vip: true },
      { email: "bob@example.org", vip: true },
    ],
  });
});
