// A fake API for component tests: replies by "METHOD /path" (a list is used up one by one,
// its last reply repeating); every request is kept, its JSON body parsed.
import { vi } from "vitest";

export type Reply = { status: number; body?: unknown };
export interface Sent {
  method: string;
  path: string;
  body: unknown;
  authorization: string | null;
}

export function fakeApi(routes: Record<string, Reply | Reply[]>): Sent[] {
  const sent: Sent[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      const url = new URL(request.url);
      const text = await request.text();
      sent.push({
        method: request.method,
        path: url.pathname + url.search,
        body: text ? (JSON.parse(text) as unknown) : undefined,
        authorization: request.headers.get("Authorization"),
      });
      const route = routes[`${request.method} ${url.pathname}`];
      const reply = Array.isArray(route) ? (route.length > 1 ? route.shift() : route[0]) : route;
      if (!reply) return Response.json({ detail: `no fake reply for ${request.method} ${url.pathname}` }, { status: 599 });
      if (reply.status === 204) return new Response(null, { status: 204 });
      return Response.json(reply.body ?? null, { status: reply.status });
    }),
  );
  return sent;
}
