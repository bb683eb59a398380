// The actions on one alert: acknowledge, assign (to whom), note, close, silence. Only a role that
// may act (operator, admin: /v1/whoami, kept in the session) gets them; a viewer's page has no
// action at all (the API refuses a viewer's request anyway, 403). Each action is the API's:
// the actor recorded is the key's name. Closing an alert whose condition still holds is refused
// by the API (409 still_firing) until the person confirms it and says why in a note: the page
// then asks for exactly that and sends it again with confirm_firing.
import { api } from "../api.js";
import { session } from "../session.js";
import { applyLabels, t } from "../i18n.js";

export const ACTING_ROLES = new Set(["operator", "admin"]);
const SILENCE_HOURS = [1, 4, 12, 24];

const TEMPLATE = `
<h2 data-i18n="duty.actions_title"></h2>
<div class="actions">
  <form data-action="acknowledge">
    <button type="submit" data-i18n="duty.acknowledge"></button>
  </form>
  <form data-action="assign">
    <input name="to" required maxlength="100" data-i18n-placeholder="duty.assign_to" />
    <button type="submit" data-i18n="duty.assign"></button>
  </form>
  <form data-action="note">
    <textarea name="note" required maxlength="2000" rows="2" data-i18n-placeholder="duty.note_placeholder"></textarea>
    <button type="submit" data-i18n="duty.add_note"></button>
  </form>
  <form data-action="close">
    <textarea name="note" maxlength="2000" rows="2" data-i18n-placeholder="duty.close_note"></textarea>
    <button type="submit" class="danger" data-i18n="duty.close"></button>
  </form>
  <section class="confirm" id="duty-confirm" role="alertdialog" aria-labelledby="duty-confirm-title" hidden>
    <h3 id="duty-confirm-title" data-i18n="duty.confirm_title"></h3>
    <p data-i18n="duty.confirm_text"></p>
    <details class="api-says"><summary data-i18n="duty.confirm_api"></summary><p id="duty-confirm-detail"></p></details>
    <textarea name="note" id="duty-confirm-note" maxlength="2000" rows="2" data-i18n-placeholder="duty.confirm_note"></textarea>
    <div class="confirm-buttons">
      <button type="button" class="danger" id="duty-confirm-yes" data-i18n="duty.confirm_yes"></button>
      <button type="button" id="duty-confirm-no" data-i18n="duty.confirm_no"></button>
    </div>
  </section>
  <form data-action="silence">
    <select name="hours"></select>
    <input name="comment" maxlength="2000" data-i18n-placeholder="duty.silence_comment" />
    <button type="submit" data-i18n="duty.silence"></button>
  </form>
</div>
<p class="problem" id="duty-action-problem" role="alert" hidden></p>
<p class="done" id="duty-action-done" role="status" hidden></p>`;

export function mayAct() {
  return ACTING_ROLES.has(session.who?.role);
}

export class Actions {
  // panel: the element to fill; onDone(): the page reloads the alert after an action.
  constructor(panel, { onDone }) {
    this.panel = panel;
    this.onDone = onDone;
    this.alert = null;
    panel.innerHTML = TEMPLATE;
    this.relabel();
    for (const form of panel.querySelectorAll("form[data-action]")) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.run(form.dataset.action, form);
      });
    }
    panel.querySelector("#duty-confirm-yes").addEventListener("click", () => this.confirmClose());
    panel.querySelector("#duty-confirm-no").addEventListener("click", () => this.confirming(null));
    // A complaint about a missing field goes once the person types.
    panel.addEventListener("input", () => this.say("", ""));
  }

  relabel() {
    applyLabels(this.panel);
    const hours = this.panel.querySelector("select[name=hours]");
    const chosen = hours.value || "4";
    hours.replaceChildren(
      ...SILENCE_HOURS.map((n) => {
        const option = document.createElement("option");
        option.value = String(n);
        option.textContent = t("duty.silence_for", { n });
        return option;
      }),
    );
    hours.value = chosen;
  }

  // Only what the alert's ops state allows is offered (the API would refuse the rest, 409).
  show(alert) {
    this.alert = alert;
    const closed = alert.ops === "closed";
    const offered = {
      acknowledge: alert.ops === "open" && alert.phase !== "inactive",
      assign: !closed && alert.phase !== "inactive",
      note: alert.phase !== "inactive",
      close: !closed && alert.phase !== "inactive",
      silence: Boolean(alert.labels.rule_id ?? alert.rule_id),
    };
    for (const form of this.panel.querySelectorAll("form[data-action]")) {
      form.hidden = !offered[form.dataset.action];
    }
    if (closed) this.confirming(null);
  }

  async run(action, form) {
    const fp = encodeURIComponent(this.alert.fingerprint);
    const value = (name) => form.elements[name]?.value.trim() ?? "";
    const requests = {
      acknowledge: () => api(`/v1/alerts/${fp}/acknowledge`, { method: "POST", body: {} }),
      assign: () => api(`/v1/alerts/${fp}/assign`, { method: "POST", body: { to: value("to") } }),
      note: () => api(`/v1/alerts/${fp}/notes`, { method: "POST", body: { note: value("note") } }),
      close: () =>
        api(`/v1/alerts/${fp}/close`, { method: "POST", body: { note: value("note") || null } }),
      silence: () => api("/v1/silences", { method: "POST", body: this.silence(form) }),
    };
    await this.send(action, requests[action], form);
  }

  async send(action, request, form = null) {
    this.say("", "");
    const buttons = this.panel.querySelectorAll("button");
    for (const button of buttons) button.disabled = true;
    try {
      await request();
      form?.reset();
      this.confirming(null);
      this.say("", t("duty.done", { action: t(ACTION_LABELS[action]) }));
      await this.onDone();
    } catch (error) {
      if (action === "close" && error.body?.error === "still_firing") {
        // The API's rule: the page asks for the confirmation and the note, then sends them.
        this.confirming(error.message, form?.elements.note.value ?? "");
      } else if (error.status !== 401) {
        this.say(t("duty.action_failed", { detail: error.message }), "");
      }
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  }

  confirming(detail, note = "") {
    const box = this.panel.querySelector("#duty-confirm");
    box.hidden = detail === null;
    this.panel.querySelector("form[data-action=close]").classList.toggle("asking", !box.hidden);
    if (box.hidden) return;
    this.panel.querySelector("#duty-confirm-detail").textContent = detail;
    const field = this.panel.querySelector("#duty-confirm-note");
    field.value = note;
    field.focus();
  }

  async confirmClose() {
    const note = this.panel.querySelector("#duty-confirm-note").value.trim();
    if (!note) {
      this.say(t("duty.confirm_needs_note"), "");
      this.panel.querySelector("#duty-confirm-note").focus();
      return;
    }
    const fp = encodeURIComponent(this.alert.fingerprint);
    const body = { confirm_firing: true, note };
    await this.send("close", () => api(`/v1/alerts/${fp}/close`, { method: "POST", body }));
    this.panel.querySelector("form[data-action=close]").reset();
  }

  // A silence of this alert: its rule on its subject (the sensor, or the place), from now.
  silence(form) {
    const alert = this.alert;
    const matchers = [`rule_id=${alert.rule_id}`];
    if (alert.labels.sensor) matchers.push(`sensor=${alert.labels.sensor}`);
    else if (alert.labels.subdistrict) matchers.push(`subdistrict=${alert.labels.subdistrict}`);
    const hours = Number(form.elements.hours.value);
    const ends = new Date(Date.now() + hours * 3600 * 1000).toISOString();
    return { matchers, ends_at: ends, comment: form.elements.comment.value.trim() };
  }

  say(problem, done) {
    const problemLine = this.panel.querySelector("#duty-action-problem");
    problemLine.hidden = !problem;
    problemLine.textContent = problem;
    const doneLine = this.panel.querySelector("#duty-action-done");
    doneLine.hidden = !done;
    doneLine.textContent = done;
  }
}

const ACTION_LABELS = {
  acknowledge: "duty.acknowledge",
  assign: "duty.assign",
  note: "duty.add_note",
  close: "duty.close",
  silence: "duty.silence",
};
