import { render, screen } from "@testing-library/react";
import { afterEach, expect, test, vi } from "vitest";
import { loadSession } from "../api/session";
import { fakeApi } from "../test/fakeApi";
import { Login } from "./Login";
import { OidcCallback } from "./OidcCallback";

afterEach(() => {
  vi.unstubAllGlobals();
  history.replaceState(null, "", "/");
});

test("the sign-in page offers single sign-on only when the API has it on", async () => {
  fakeApi({ "GET /api/v1/auth/oidc": { status: 200, body: { enabled: true, login_url: "/api/v1/auth/oidc/login" } } });
  render(<Login />);
  const link = await screen.findByRole("link", { name: "Continue with single sign-on" });
  expect(link).toHaveAttribute("href", "/api/v1/auth/oidc/login");
});

test("without OIDC there is no such link", async () => {
  const sent = fakeApi({ "GET /api/v1/auth/oidc": { status: 200, body: { enabled: false, login_url: null } } });
  render(<Login />);
  await vi.waitFor(() => expect(sent).toHaveLength(1));
  expect(screen.queryByRole("link", { name: "Continue with single sign-on" })).toBeNull();
});

test("the callback page redeems the code once, keeps the pair and goes to the runs", async () => {
  history.replaceState(null, "", "/oidc/callback?code=the-code&state=the-state");
  const sent = fakeApi({
    "GET /api/v1/auth/oidc/callback": {
      status: 200,
      body: { access_token: "a", refresh_token: "r", token_type: "bearer", expires_in: 900 },
    },
  });
  const { unmount } = render(<OidcCallback />);
  await vi.waitFor(() => expect(location.pathname).toBe("/runs"));
  expect(loadSession()).toEqual({ access_token: "a", refresh_token: "r" });
  expect(sent.map((r) => r.path)).toEqual(["/api/v1/auth/oidc/callback?code=the-code&state=the-state"]);
  unmount();
});

test("a refused callback says why and links back to the sign-in", async () => {
  history.replaceState(null, "", "/oidc/callback?code=spent&state=s");
  fakeApi({ "GET /api/v1/auth/oidc/callback": { status: 400, body: { detail: "state does not match: start the login again" } } });
  render(<OidcCallback />);
  expect(await screen.findByRole("alert")).toHaveTextContent("state does not match");
  expect(screen.getByRole("link", { name: "Back to sign-in" })).toHaveAttribute("href", "/");
  expect(loadSession()).toBeNull();
});
