import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { saveSession } from "../api/session";
import { fakeApi } from "../test/fakeApi";
import { ApiKeys } from "./ApiKeys";

afterEach(() => {
  vi.unstubAllGlobals();
});

const listed = {
  id: "k1",
  user_id: "u1",
  name: "deploy bot",
  prefix: "sw_abcd1234",
  scopes: ["runs:read", "runs:start"],
  created_at: "2026-12-01T10:00:00Z",
  last_used_at: null,
  expires_at: null,
  revoked_at: null,
};

test("a new key's secret is shown once: gone when dismissed, and never in the list", async () => {
  saveSession({ access_token: "access", refresh_token: "refresh" });
  const sent = fakeApi({
    "GET /api/v1/api-keys": [{ status: 200, body: [] }, { status: 200, body: [listed] }],
    "POST /api/v1/api-keys": { status: 201, body: { ...listed, key: "sw_abcd1234_the-whole-secret" } },
  });
  const user = userEvent.setup();
  render(<ApiKeys role="member" />);
  expect(await screen.findByText("No API keys yet.")).toBeInTheDocument();
  // A member cannot grant admin, so it is not offered.
  expect(screen.queryByRole("checkbox", { name: /^admin/ })).toBeNull();

  await user.type(screen.getByLabelText("Key name"), "deploy bot");
  await user.click(screen.getByRole("checkbox", { name: /^runs:start/ }));
  await user.click(screen.getByRole("button", { name: "Create key" }));

  expect(await screen.findByLabelText("Key", { exact: true })).toHaveValue("sw_abcd1234_the-whole-secret");
  expect(screen.getByText("Copy it now: it is not shown again.")).toBeInTheDocument();
  const post = sent.find((r) => r.method === "POST");
  expect(post?.body).toEqual({ name: "deploy bot", scopes: ["runs:read", "runs:start"], expires_at: null });
  expect(post?.authorization).toBe("Bearer access");

  const list = await screen.findByRole("list", { name: "Your API keys" });
  expect(await within(list).findByText("deploy bot")).toBeInTheDocument();
  expect(list).not.toHaveTextContent("the-whole-secret");

  await user.click(screen.getByRole("button", { name: "I have stored the key" }));
  expect(screen.queryByLabelText("Key", { exact: true })).toBeNull();
  expect(document.body).not.toHaveTextContent("the-whole-secret");
});

test("revoking asks first, then revokes the key named", async () => {
  const sent = fakeApi({
    "GET /api/v1/api-keys": [{ status: 200, body: [listed] }, { status: 200, body: [{ ...listed, revoked_at: "2026-12-02T10:00:00Z" }] }],
    "DELETE /api/v1/api-keys/k1": { status: 204 },
  });
  const asked = vi.fn(() => true);
  vi.stubGlobal("confirm", asked);
  const user = userEvent.setup();
  render(<ApiKeys role="admin" />);
  await user.click(await screen.findByRole("button", { name: "Revoke deploy bot" }));
  expect(asked).toHaveBeenCalled();
  expect(await screen.findByText(/^revoked/)).toBeInTheDocument();
  expect(sent.map((r) => `${r.method} ${r.path}`)).toContain("DELETE /api/v1/api-keys/k1");
  expect(screen.queryByRole("button", { name: "Revoke deploy bot" })).toBeNull();
});
