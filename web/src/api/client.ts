// The typed client: openapi-fetch over the types generated from the API's OpenAPI document
// (src/api/schema.d.ts, from src/api/openapi.json: `make web-api` regenerates both).
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { loadSession, refreshSession } from "./session";

export type Schemas = components["schemas"];

// The sign-in routes take no access token (their 401 means a wrong password or code, not a
// stale token); the rest of /auth (2FA enrolment, trusted devices) needs one like any route.
const SIGN_IN = ["/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1/auth/2fa/verify", "/api/v1/auth/oidc"];

function signingIn(path: string): boolean {
  return SIGN_IN.some((route) => path === route || path.startsWith(`${route}/`));
}

/** fetch with the session's access token; a refused token is refreshed once and the request
 * sent again. The sign-in routes go out as they are. */
export async function authFetch(input: Request): Promise<Response> {
  const session = loadSession();
  if (session === null || signingIn(new URL(input.url, location.href).pathname)) return fetch(input);
  const retry = input.clone();
  input.headers.set("Authorization", `Bearer ${session.access_token}`);
  const response = await fetch(input);
  if (response.status !== 401) return response;
  const fresh = await refreshSession(session.access_token);
  if (fresh === null) return response;
  retry.headers.set("Authorization", `Bearer ${fresh.access_token}`);
  return fetch(retry);
}

export const api = createClient<paths>({
  baseUrl: location.origin,
  fetch: (request) => authFetch(request),
});

/** What to show for a refused request: the API's `detail` (and its problems), or the status. */
export function errorMessage(error: unknown, status?: number): string {
  if (error && typeof error === "object" && "detail" in error) {
    const { detail, problems } = error as { detail: unknown; problems?: unknown };
    let text = typeof detail === "string" ? detail : "";
    if (Array.isArray(detail)) {
      text = detail
        .map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).slice(1).join(".")}: ${d.msg ?? ""}`)
        .join("; ");
    }
    if (Array.isArray(problems) && problems.length > 0) {
      text += `: ${problems.map((p: { pointer?: string; message?: string }) => `${p.pointer ?? ""} ${p.message ?? ""}`).join("; ")}`;
    }
    if (text) return text;
  }
  if (error instanceof Error) return error.message;
  return status ? `the request failed (HTTP ${status})` : "the request failed";
}
