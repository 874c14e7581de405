// Server-Sent Events read with fetch(), because EventSource cannot send an Authorization
// header. The parser follows the HTML standard's event-stream rules; `followStream` reconnects
// with Last-Event-ID until the server sends `event: end`.

export interface SseMessage {
  event: string;
  data: string;
  /** The stream's last event id once this message arrived ("" before any). */
  lastEventId: string;
  /** Whether this message carried an `id:` field of its own. */
  hasId: boolean;
}

/** Turns chunks of an event stream into messages; keeps what a chunk leaves unfinished. */
export class SseParser {
  lastEventId = "";
  retryMs: number | null = null;
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private hasId = false;
  private sawCr = false;

  push(chunk: string): SseMessage[] {
    let text = chunk;
    // A CR at the end of the last chunk and an LF at the start of this one are one line end.
    if (this.sawCr && text.startsWith("\n")) text = text.slice(1);
    this.sawCr = text.endsWith("\r");
    this.buffer += text;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? "";
    const messages: SseMessage[] = [];
    for (const line of lines) {
      const message = this.line(line);
      if (message) messages.push(message);
    }
    return messages;
  }

  private line(line: string): SseMessage | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null; // a comment (the server's keep-alive)
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) {
      this.lastEventId = value;
      this.hasId = true;
    } else if (field === "retry" && /^\d+$/.test(value)) this.retryMs = Number(value);
    return null;
  }

  private dispatch(): SseMessage | null {
    const hasId = this.hasId;
    const event = this.event || "message";
    this.hasId = false;
    this.event = "";
    if (this.data.length === 0) return null;
    const data = this.data.join("\n");
    this.data = [];
    return { event, data, lastEventId: this.lastEventId, hasId };
  }
}

export interface FollowOptions {
  /** Resume after this event id (a Last-Event-ID). */
  after?: string;
  signal: AbortSignal;
  onMessage: (message: SseMessage) => void;
  /** The stream ended for good: `event: end` came, or the server refused it (a message). */
  onClose: (refused: string | null) => void;
  /** The connection dropped and will be tried again. */
  onRetry?: (error: unknown) => void;
  fetcher: (request: Request) => Promise<Response>;
  /** The wait before reconnecting when the server named none (`retry:`). */
  reconnectMs?: number;
}

/** Read the event stream at `url` until `event: end`, reconnecting with Last-Event-ID. */
export async function followStream(url: string, options: FollowOptions): Promise<void> {
  const { signal } = options;
  const parser = new SseParser();
  parser.lastEventId = options.after ?? "";
  while (!signal.aborted) {
    let ended = false;
    try {
      const headers = new Headers({ Accept: "text/event-stream" });
      if (parser.lastEventId) headers.set("Last-Event-ID", parser.lastEventId);
      const response = await options.fetcher(new Request(url, { headers, signal }));
      if (response.status >= 400 && response.status < 500) {
        options.onClose(await refusal(response));
        return;
      }
      if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const message of parser.push(value)) {
          if (message.event === "end") ended = true;
          else options.onMessage(message);
        }
        if (ended) {
          await reader.cancel();
          break;
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      options.onRetry?.(error);
    }
    if (ended) {
      options.onClose(null);
      return;
    }
    await sleep(parser.retryMs ?? options.reconnectMs ?? 2000, signal);
  }
}

async function refusal(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { detail?: unknown };
    if (typeof body.detail === "string") return body.detail;
  } catch {
    // not JSON: say the status
  }
  return `the stream was refused (HTTP ${response.status})`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
