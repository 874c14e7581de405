import { describe, expect, test, vi } from "vitest";
import { followStream, SseParser } from "./sse";

describe("SseParser", () => {
  test("messages split across chunks anywhere, comments skipped, ids kept", () => {
    const parser = new SseParser();
    const text =
      'retry: 2000\n\n: still running\n\nid: 0.5.0\ndata: {"type":"step_start"}\n\n' +
      'data: {"type":"module_progress",\ndata: "data":{"text":"Hel"}}\n\nid: 0.6.0\r\ndata: {"type":"step_complete"}\r\n\r\n' +
      'event: end\ndata: {"cursor":"0.6.0"}\n\n';
    const messages = [];
    // One character at a time: every boundary (a CR and its LF too) falls between two chunks.
    for (const char of text) messages.push(...parser.push(char));
    expect(parser.retryMs).toBe(2000);
    expect(messages).toEqual([
      { event: "message", data: '{"type":"step_start"}', lastEventId: "0.5.0", hasId: true },
      // Progress has no id: the stream's last id stays that of the last history event.
      {
        event: "message",
        data: '{"type":"module_progress",\n"data":{"text":"Hel"}}',
        lastEventId: "0.5.0",
        hasId: false,
      },
      { event: "message", data: '{"type":"step_complete"}', lastEventId: "0.6.0", hasId: true },
      { event: "end", data: '{"cursor":"0.6.0"}', lastEventId: "0.6.0", hasId: false },
    ]);
  });

  test("a message is held until its blank line arrives", () => {
    const parser = new SseParser();
    expect(parser.push("id: 1\ndata: a")).toEqual([]);
    expect(parser.push("\n")).toEqual([]);
    expect(parser.push("\n")).toEqual([{ event: "message", data: "a", lastEventId: "1", hasId: true }]);
  });
});

function streamOf(...chunks: string[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

describe("followStream", () => {
  test("a dropped stream is resumed after the last event id, and ends at `event: end`", async () => {
    const seen: Request[] = [];
    const responses = [
      streamOf("retry: 1\n\n", 'id: 0.1.0\ndata: {"n":1}\n\n', 'data: {"progress":true}\n\n'),
      streamOf('id: 0.2.0\ndata: {"n":2}\n\n', 'event: end\ndata: {"cursor":"0.2.0"}\n\n'),
    ];
    const onMessage = vi.fn();
    const onClose = vi.fn();
    await followStream("http://test/api/v1/runs/r/stream", {
      signal: new AbortController().signal,
      fetcher: async (request) => {
        seen.push(request);
        return responses.shift() ?? new Response(null, { status: 500 });
      },
      onMessage,
      onClose,
    });
    expect(seen.map((r) => r.headers.get("Last-Event-ID"))).toEqual([null, "0.1.0"]);
    expect(onMessage.mock.calls.map(([m]) => m.data)).toEqual(['{"n":1}', '{"progress":true}', '{"n":2}']);
    expect(onClose).toHaveBeenCalledWith(null);
  });

  test("a refused stream stops with the server's reason", async () => {
    const onClose = vi.fn();
    await followStream("http://test/api/v1/runs/r/stream", {
      signal: new AbortController().signal,
      fetcher: async () => Response.json({ detail: "no run with id r" }, { status: 404 }),
      onMessage: () => undefined,
      onClose,
    });
    expect(onClose).toHaveBeenCalledWith("no run with id r");
  });
});
