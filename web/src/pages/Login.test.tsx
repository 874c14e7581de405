import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, test, vi } from "vitest";
import { loadSession } from "../api/session";
import { Login } from "./Login";

type Reply = { status: number; body: unknown };

/** A fake API: each POST gets the next reply; the requests are kept. */
function fakeApi(replies: Reply[]) {
  const requests: { path: string; body: unknown }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      requests.push({ path: new URL(request.url).pathname, body: await request.json() });
      const reply = replies.shift() ?? { status: 500, body: { detail: "no reply" } };
      return Response.json(reply.body, { status: reply.status });
    }),
  );
  return requests;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

const pair = { access_token: "access", refresh_token: "refresh", token_type: "bearer", expires_in: 900 };

async function signIn() {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText("Username"), "ada");
  await user.type(screen.getByLabelText("Password"), "ada password 1");
  await user.click(screen.getByRole("button", { name: "Sign in" }));
  return user;
}

test("an account with 2FA is asked for a code, and the code redeems the challenge", async () => {
  const requests = fakeApi([
    { status: 200, body: { two_factor_required: true, challenge: "the-challenge" } },
    { status: 401, body: { detail: "code: this code is wrong or has expired; enter the code your app shows now" } },
    { status: 200, body: pair },
  ]);
  const onSignedIn = vi.fn();
  render(<Login onSignedIn={onSignedIn} />);
  const user = await signIn();

  const code = await screen.findByLabelText("Code");
  expect(loadSession()).toBeNull();
  await user.type(code, "000000");
  await user.click(screen.getByRole("button", { name: "Verify" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("this code is wrong or has expired");
  expect(screen.getByLabelText("Code")).toHaveAccessibleDescription(expect.stringContaining("wrong"));

  await user.clear(screen.getByLabelText("Code"));
  await user.type(screen.getByLabelText("Code"), "492018");
  await user.click(screen.getByLabelText("Trust this browser for 30 days"));
  await user.click(screen.getByRole("button", { name: "Verify" }));

  await vi.waitFor(() => expect(onSignedIn).toHaveBeenCalled());
  expect(loadSession()).toEqual({ access_token: "access", refresh_token: "refresh" });
  expect(requests.map((r) => r.path)).toEqual(["/api/v1/auth/login", "/api/v1/auth/2fa/verify", "/api/v1/auth/2fa/verify"]);
  expect(requests[2]?.body).toMatchObject({ challenge: "the-challenge", code: "492018", remember_device: true });
});

test("an expired challenge goes back to the password, saying why", async () => {
  fakeApi([
    { status: 200, body: { two_factor_required: true, challenge: "old" } },
    { status: 401, body: { detail: "challenge: the 2FA challenge is not valid; sign in again with your password" } },
  ]);
  render(<Login />);
  const user = await signIn();
  await user.type(await screen.findByLabelText("Code"), "123456");
  await user.click(screen.getByRole("button", { name: "Verify" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("sign in again with your password");
  expect(screen.getByLabelText("Password")).toHaveValue("");
  expect(screen.queryByLabelText("Code")).toBeNull();
});

test("without 2FA the password signs in at once; a wrong one says so", async () => {
  fakeApi([
    { status: 401, body: { detail: "wrong username or password" } },
    { status: 200, body: pair },
  ]);
  const onSignedIn = vi.fn();
  render(<Login onSignedIn={onSignedIn} />);
  const user = await signIn();
  expect(await screen.findByRole("alert")).toHaveTextContent("wrong username or password");
  await user.click(screen.getByRole("button", { name: "Sign in" }));
  await vi.waitFor(() => expect(onSignedIn).toHaveBeenCalled());
  expect(loadSession()?.access_token).toBe("access");
});
