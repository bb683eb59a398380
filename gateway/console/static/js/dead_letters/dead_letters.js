// Dead letters (/console/dead-letters/): what the ingest set aside, grouped by reason with
// counts, each with its raw payload (shown as text, never as HTML: a payload is whatever a
// device or an attacker sent), and, for an admin, the replay once the cause is fixed (the
// sensor registered, the type corrected). Listing needs an operator key; replaying an admin's
// (gateway/routes/dead_letters.py); the buttons a role may not use are not drawn.
import { api, apiAll } from "../api.js";
import { applyLabels, clockText, currentLang, t } from "../i18n.js";
import { session } from "../session.js";
import { reasonText } from "./reasons.js";

const TEMPLATE = `
<section class="dead-letters">
  <section class="panel reasons-panel">
    <h2 data-i18n="dead_letters.reasons_title"></h2>
    <p class="problem" id="dead-letters-problem" hidden></p>
    <p class="notice" id="dead-letters-outcome" role="status" hidden></p>
    <ul class="reasons" id="dead-letters-reasons"></ul>
    <p class="hint" id="dead-letters-more" data-i18n="dead_letters.more_than_shown" hidden></p>
  </section>
  <section class="panel letters-panel">
    <h2 id="dead-letters-list-title"></h2>
    <div class="letters-actions" id="dead-letters-actions"></div>
    <ol class="letters" id="dead-letters-list"></ol>
  </section>
</section>`;
const PAGE = 500;
const MAX_PAGES = 10; // 5,000 letters at most are grouped; more is said, not hidden

export function deadLettersPage() {
  let letters = [];
  let more = false;
  let reason = null; // the reason shown, null: all
  const mayList = () => ["operator", "admin"].includes(session.who?.role);
  const mayReplay = () => session.who?.role === "admin";

  function problem(message) {
    const line = document.getElementById("dead-letters-problem");
    line.hidden = !message;
    line.textContent = message;
  }

  function when(iso) {
    const date = new Date(iso);
    const day = date.toLocaleDateString(currentLang() === "zh" ? "zh-CN" : "en-GB");
    return `${day} ${clockText(date)}`;
  }

  async function load() {
    const params = { limit: PAGE };
    try {
      letters = await apiAll("/v1/dead-letters", params, { maxPages: MAX_PAGES });
    } catch (error) {
      if (error.status !== 401) problem(t("dead_letters.load_failed", { detail: error.message }));
      return;
    }
    more = letters.length >= PAGE * MAX_PAGES;
    problem("");
    draw();
  }

  function groups() {
    const byReason = new Map();
    for (const letter of letters) {
      const group = byReason.get(letter.reason) ?? { reason: letter.reason, waiting: 0, replayed: 0 };
      if (letter.replayed_at) group.replayed += 1;
      else group.waiting += 1;
      byReason.set(letter.reason, group);
    }
    return [...byReason.values()].sort((a, b) => b.waiting - a.waiting || b.replayed - a.replayed);
  }

  function draw() {
    document.getElementById("dead-letters-more").hidden = !more;
    const all = { reason: null, waiting: 0, replayed: 0 };
    for (const letter of letters) all[letter.replayed_at ? "replayed" : "waiting"] += 1;
    const list = document.getElementById("dead-letters-reasons");
    list.replaceChildren(...[all, ...groups()].map(reasonItem));
    if (letters.length === 0) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = t("dead_letters.none");
      list.append(empty);
    }
    drawLetters();
  }

  function reasonItem(group) {
    const li = document.createElement("li");
    li.dataset.reason = group.reason ?? "";
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("aria-pressed", String(group.reason === reason));
    button.addEventListener("click", () => {
      reason = group.reason;
      draw();
    });
    const words = group.reason ? reasonText(group.reason) : t("dead_letters.all_reasons");
    const name = span("reason", words);
    const waiting = span("waiting", String(group.waiting));
    waiting.title = t("dead_letters.waiting");
    const replayed = span("replayed", t("dead_letters.replayed_count", { n: group.replayed }));
    button.append(name, waiting, replayed);
    li.append(button);
    return li;
  }

  function drawLetters() {
    const shown = letters.filter((x) => reason === null || x.reason === reason);
    document.getElementById("dead-letters-list-title").textContent = reason
      ? t("dead_letters.list_of", { reason: reasonText(reason), n: shown.length })
      : t("dead_letters.list_all", { n: shown.length });
    const actions = document.getElementById("dead-letters-actions");
    actions.replaceChildren();
    const waiting = shown.filter((x) => !x.replayed_at);
    if (mayReplay() && reason && waiting.length) {
      const all = document.createElement("button");
      all.type = "button";
      all.className = "replay-reason";
      all.textContent = t("dead_letters.replay_reason", { n: waiting.length });
      all.addEventListener("click", () => replay({ reason, limit: Math.min(waiting.length, 1000) }));
      actions.append(all);
    }
    document.getElementById("dead-letters-list").replaceChildren(...shown.map(letterItem));
  }

  function letterItem(letter) {
    const li = document.createElement("li");
    li.className = "letter";
    li.dataset.id = letter.id;
    li.dataset.reason = letter.reason;
    li.dataset.replayed = String(Boolean(letter.replayed_at));
    const head = document.createElement("div");
    head.className = "head";
    head.append(
      span("id", `#${letter.id}`),
      span("time", when(letter.received_at)),
      span("source", letter.source),
      span("reason", reasonText(letter.reason)),
      span("topic", letter.topic ?? ""),
    );
    const detail = document.createElement("p");
    detail.className = "detail";
    detail.textContent = letter.detail;
    // The payload as it came: text in a <pre> through textContent, never parsed as HTML.
    const payload = document.createElement("pre");
    payload.className = "payload";
    payload.textContent =
      letter.payload_text ?? t("dead_letters.binary", { size: letter.size, base64: letter.payload_base64 });
    li.append(head, detail, payload);
    if (letter.replayed_at) {
      li.append(span("done", t("dead_letters.replayed_at", { at: when(letter.replayed_at) })));
    } else if (mayReplay()) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "replay";
      button.textContent = t("dead_letters.replay");
      button.addEventListener("click", () => replay({ ids: [letter.id] }));
      li.append(button);
    }
    return li;
  }

  async function replay(body) {
    const outcome = document.getElementById("dead-letters-outcome");
    let result;
    try {
      result = await api("/v1/dead-letters/replay", { method: "POST", body });
    } catch (error) {
      if (error.status !== 401) problem(t("dead_letters.replay_failed", { detail: error.message }));
      return;
    }
    problem("");
    const failed = result.failed.map((f) => `#${f.id} ${f.reason}: ${f.detail}`).join("; ");
    outcome.hidden = false;
    outcome.dataset.replayed = String(result.replayed);
    outcome.dataset.failed = String(result.failed.length);
    outcome.textContent =
      t("dead_letters.replay_outcome", {
        replayed: result.replayed,
        stored: result.stored,
        duplicates: result.duplicates,
        failed: result.failed.length,
      }) + (failed ? ` ${t("dead_letters.still_failing", { failed })}` : "");
    await load();
  }

  return {
    async mount(root) {
      root.innerHTML = TEMPLATE;
      applyLabels(root);
      if (!mayList()) {
        problem(t("dead_letters.forbidden"));
        return;
      }
      await load();
    },

    relabel(root) {
      applyLabels(root);
      if (mayList()) draw();
      else problem(t("dead_letters.forbidden"));
    },

    unmount() {},
  };
}

function span(className, text) {
  const el = document.createElement("span");
  el.className = className;
  el.textContent = text;
  return el;
}
