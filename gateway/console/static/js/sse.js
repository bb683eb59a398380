// The gateway's live stream (/v1/stream) read with fetch(): EventSource cannot send the key as
// a header, and the key must not go in the URL. A small parser of the text/event-stream format
// (event, data, id, retry; comments ignored), and a loop that reconnects after the gateway
// went away (a restart, a network cut), sending Last-Event-ID so that the alert events missed
// meanwhile are replayed from the audit trail.
import { keyHeaders } from "./api.js";
import { session } from "./session.js";

const MAX_WAIT_MS = 15000;

export class EventStreamParser {
  constructor(onEvent) {
    this.onEvent = onEvent; // ({event, data, id}) for each complete event
    this.buffer = "";
    this.reset();
    this.retryMs = null;
  }

  reset() {
    this.event = "";
    this.data = [];
    this.id = null;
  }

  push(text) {
    this.buffer += text;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop(); // an unfinished line waits for the next chunk
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === "") {
      if (this.data.length > 0) {
        this.onEvent({ event: this.event || "message", data: this.data.join("\n"), id: this.id });
      }
      this.reset();
      return;
    }
    if (line.startsWith(":")) return; // a comment: the keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retryMs = Number(value);
  }
}

export class LiveStream {
  // path: /v1/stream?...; onEvent({event, data, id}); onState("connecting"|"live"|"reconnecting")
  constructor(path, { onEvent, onState, lastEventId = null }) {
    this.path = path;
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastEventId = lastEventId;
    this.retryMs = 3000;
    this.failures = 0;
    this.abort = new AbortController();
  }

  stop() {
    this.abort.abort();
  }

  async run() {
    while (!this.abort.signal.aborted) {
      this.onState(this.failures === 0 ? "connecting" : "reconnecting");
      try {
        await this.once();
      } catch (error) {
        if (this.abort.signal.aborted) return;
        if (error?.refused) return; // the key was refused: the page goes back to sign-in
      }
      if (this.abort.signal.aborted) return;
      this.failures += 1;
      this.onState("reconnecting");
      await this.wait(Math.min(this.retryMs * 2 ** Math.min(this.failures - 1, 3), MAX_WAIT_MS));
    }
  }

  async once() {
    const headers = keyHeaders({ Accept: "text/event-stream" });
    if (this.lastEventId !== null) headers["Last-Event-ID"] = this.lastEventId;
    const answer = await fetch(this.path, {
      headers,
      cache: "no-store",
      signal: this.abort.signal,
    });
    if (answer.status === 401) {
      session.refused();
      throw Object.assign(new Error("refused"), { refused: true });
    }
    if (!answer.ok || !answer.body) throw new Error(`stream: HTTP ${answer.status}`);
    this.failures = 0;
    this.onState("live");
    const parser = new EventStreamParser((event) => {
      if (event.id !== null) this.lastEventId = event.id;
      this.onEvent(event);
    });
    const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break; // the gateway ended the stream (a restart): reconnect
      parser.push(value);
      if (parser.retryMs !== null) this.retryMs = parser.retryMs;
    }
  }

  wait(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.abort.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
