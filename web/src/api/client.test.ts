import { afterEach, expect, test, vi } from "vitest";
import { authFetch } from "./client";
import { loadSession, saveSession } from "./session";

afterEach(() => {
  vi.unstubAllGlobals();
});

test("a refused access token is refreshed once, however many requests it failed, and they are sent again", async () => {
  saveSession({ access_token: "old", refresh_token: "r1" });
  const refreshes: unknown[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname;
      if (path === "/api/v1/auth/refresh") {
        refreshes.push(await request.json());
        return Response.json({ access_token: "new", refresh_token: "r2", token_type: "bearer", expires_in: 900 });
      }
      const token = request.headers.get("Authorization");
      return token === "Bearer new" ? Response.json({ ok: path }) : Response.json({ detail: "expired" }, { status: 401 });
    }),
  );
  const answers = await Promise.all(
    ["/api/v1/runs", "/api/v1/inbox", "/api/v1/users/me"].map((path) =>
      authFetch(new Request(`http://localhost${path}`)).then((r) => r.json()),
    ),
  );
  expect(answers).toEqual([{ ok: "/api/v1/runs" }, { ok: "/api/v1/inbox" }, { ok: "/api/v1/users/me" }]);
  // A refresh token works once: spending it twice would end the session.
  expect(refreshes).toEqual([{ refresh_token: "r1" }]);
  expect(loadSession()).toEqual({ access_token: "new", refresh_token: "r2" });
});

test("a refused refresh ends the session", async () => {
  saveSession({ access_token: "old", refresh_token: "r1" });
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => Response.json({ detail: "the refresh token was used already" }, { status: 401 })),
  );
  const response = await authFetch(new Request("http://localhost/api/v1/runs"));
  expect(response.status).toBe(401);
  expect(loadSession()).toBeNull();
});

test("the access token goes to /auth routes that need it, not to the sign-in ones", async () => {
  saveSession({ access_token: "tok", refresh_token: "r1" });
  const seen: Record<string, string | null> = {};
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      seen[new URL(request.url).pathname] = request.headers.get("Authorization");
      return Response.json({});
    }),
  );
  for (const path of ["/api/v1/auth/2fa/enrol", "/api/v1/auth/devices", "/api/v1/auth/login", "/api/v1/auth/2fa/verify", "/api/v1/auth/oidc/callback"]) {
    await authFetch(new Request(`http://localhost${path}`));
  }
  expect(seen).toEqual({
    "/api/v1/auth/2fa/enrol": "Bearer tok",
    "/api/v1/auth/devices": "Bearer tok",
    "/api/v1/auth/login": null,
    "/api/v1/auth/2fa/verify": null,
    "/api/v1/auth/oidc/callback": null,
  });
});
