// The demo's first run fills hours of history before it is live: the gateway's /healthz says so
// ("history": "filling", then "done"; absent outside the demo), and the wall says it too, until
// the history has caught up. Asked again every few seconds while filling, or while the gateway
// cannot answer (the wall's own problem line says that); never again once done or absent.
const POLL_MS = 5000;

export class HistoryNotice {
  constructor(element) {
    this.element = element;
    this.timer = null;
    this.stopped = false;
  }

  async check() {
    let state = null;
    let failed = false;
    try {
      const answer = await fetch("/healthz", { headers: { Accept: "application/json" } });
      if (answer.ok) state = (await answer.json()).history ?? null;
      else failed = true;
    } catch {
      failed = true;
    }
    if (this.stopped) return;
    if (!failed) {
      this.element.hidden = state !== "filling";
      this.element.dataset.history = state ?? "none"; // what the gateway said last (for tests)
    }
    if (failed || state === "filling") this.timer = setTimeout(() => this.check(), POLL_MS);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
