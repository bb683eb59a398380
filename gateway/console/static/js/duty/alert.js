// One alert (/console/alerts/:fingerprint/): what it is (grade, place, sensor or type, value
// against its threshold, since when, ops state), its history chart, the actions the role may
// use, its state transitions and its audit trail (who did what, under the key's name). Kept
// live: a stream event about this alert asks for it again.
import { api, apiAll } from "../api.js";
import { GRADE_COLOURS } from "../grades.js";
import { applyLabels, named, t } from "../i18n.js";
import { LiveStream } from "../sse.js";
import { Actions, mayAct } from "./actions.js";
import { AlertChart } from "./chart.js";
import { element } from "./list.js";
import { silencesOver } from "./silences.js";
import {
  Vocabulary,
  dateTimeText,
  format,
  opsText,
  phaseText,
  sinceText,
  thresholdText,
} from "./vocabulary.js";

const TEMPLATE = `
<section class="duty alert-page">
  <header class="alert-head">
    <a class="back" href="/console/alerts" data-i18n="duty.back"></a>
    <span class="badge" id="alert-grade"></span>
    <div class="alert-what">
      <h2 id="alert-title"></h2>
      <p id="alert-subtitle"></p>
    </div>
    <dl class="alert-facts" id="alert-facts"></dl>
  </header>
  <p class="problem" id="alert-problem" hidden></p>
  <p class="notice" id="alert-closed-firing" data-i18n="duty.closed_while_firing_notice" hidden></p>
  <p class="notice" id="alert-silenced" hidden></p>
  <div class="alert-body">
    <section class="panel chart-panel">
      <h2 data-i18n="duty.chart_title"></h2>
      <p class="hint" id="alert-chart-note" hidden></p>
      <div class="alert-chart" id="alert-chart"></div>
    </section>
    <section class="panel actions-panel" id="alert-actions" hidden></section>
    <section class="panel">
      <h2 data-i18n="duty.transitions_title"></h2>
      <ol class="trail" id="alert-transitions"></ol>
    </section>
    <section class="panel">
      <h2 data-i18n="duty.audit_title"></h2>
      <ol class="trail" id="alert-audit"></ol>
    </section>
  </div>
</section>`;
// The transitions of the alert's condition; the others are people's actions (the audit).
const STATE_KINDS = new Set(["pending", "firing", "grade_up", "grade_down", "resolved", "inactive"]);
const KIND_LABELS = {
  pending: "kind.pending",
  firing: "kind.firing",
  grade_up: "kind.grade_up",
  grade_down: "kind.grade_down",
  resolved: "kind.resolved",
  acknowledged: "kind.acknowledged",
  assigned: "kind.assigned",
  note: "kind.note",
  closed: "kind.closed",
  reopened: "kind.reopened",
};
const RETRY_MS = 10000;

export function alertPage({ onLive, params }) {
  const fingerprint = params.fingerprint;
  let vocabulary = null;
  let alert = null;
  let trail = [];
  let silences = [];
  let chart = null;
  let actions = null;
  let stream = null;
  let stopped = false;
  let retry = null;
  let asking = null;

  function problem(message) {
    const line = document.getElementById("alert-problem");
    line.hidden = !message;
    line.textContent = message;
  }

  async function load() {
    try {
      [alert, trail] = await Promise.all([
        api(`/v1/alerts/${encodeURIComponent(fingerprint)}`),
        apiAll("/v1/audit", { fingerprint, limit: 200 }, { maxPages: 5 }),
      ]);
      silences = await silencesOver(alert);
    } catch (error) {
      if (stopped || error.status === 401) return false;
      problem(t(error.status === 404 ? "duty.not_found" : "duty.load_failed", { detail: error.message }));
      if (error.status !== 404) retry = setTimeout(load, RETRY_MS);
      return false;
    }
    if (stopped) return false;
    problem("");
    await draw();
    return true;
  }

  async function draw() {
    const grade = document.getElementById("alert-grade");
    grade.textContent = alert.grade ? t(`grade.${alert.grade}_long`) : phaseText(alert.phase);
    grade.style.background = alert.grade ? GRADE_COLOURS[alert.grade] : "";
    const root = document.querySelector(".alert-page");
    root.dataset.phase = alert.phase;
    root.dataset.ops = alert.ops;
    root.dataset.closedWhileFiring = String(alert.closed_while_firing);
    const place = vocabulary.placeName(alert.subject.subdistrict ?? alert.subject.id);
    document.getElementById("alert-title").textContent = `${place} · ${vocabulary.typeName(alert)}`;
    const metric = named(vocabulary.metric(alert)) || alert.labels.metric || "";
    const sensorName = await vocabulary.sensorName(alert);
    const subject =
      alert.subject.kind === "sensor" ? `${alert.subject.id} ${sensorName}`.trim() : place;
    document.getElementById("alert-subtitle").textContent =
      `${vocabulary.domainName(alert.subject.domain)} · ${subject} · ${metric} · ${alert.rule_id}`;
    const limit = await vocabulary.threshold(alert);
    const start = alert.firing_since ?? alert.pending_since;
    facts([
      ["duty.col_value", vocabulary.valueText(alert)],
      ["duty.threshold", limit ? thresholdText(limit) : "—"],
      ["duty.fact_phase", phaseText(alert.phase)],
      ["duty.col_since", start ? t("duty.since_at", { at: dateTimeText(start), ago: sinceText(start) }) : "—"],
      ["duty.col_ops", opsText(alert)],
      ["duty.fact_acknowledged_by", alert.acknowledged_by ?? "—"],
      ["duty.fact_note", alert.note ?? "—"],
    ]);
    document.getElementById("alert-closed-firing").hidden = !alert.closed_while_firing;
    const silenced = document.getElementById("alert-silenced");
    silenced.hidden = silences.length === 0;
    silenced.textContent = silences
      .map((s) => {
        const until = dateTimeText(s.ends_at);
        return t("duty.silenced", { until, by: s.created_by, comment: s.comment || "—" });
      })
      .join("；");
    actions?.show(alert);
    drawTrail();
    await drawChart();
  }

  function facts(pairs) {
    document.getElementById("alert-facts").replaceChildren(
      ...pairs.flatMap(([key, value]) => {
        const term = element("dt", "", t(key));
        const description = element("dd", "", value);
        description.dataset.fact = key;
        return [term, description];
      }),
    );
  }

  function drawTrail() {
    const states = trail.filter((x) => STATE_KINDS.has(x.kind));
    const people = trail.filter((x) => !STATE_KINDS.has(x.kind));
    fillTrail("alert-transitions", states, (x) => [
      x.grade ? t(`grade.${x.grade}`) : "",
      `${phaseText(x.from_phase)} → ${phaseText(x.to_phase)}`,
      x.value === null ? "" : format(x.value),
    ]);
    fillTrail("alert-audit", people, (x) => [x.actor ?? "", x.note ?? ""]);
  }

  function fillTrail(id, items, details) {
    const list = document.getElementById(id);
    if (items.length === 0) {
      list.replaceChildren(element("li", "empty", t("duty.trail_empty")));
      return;
    }
    list.replaceChildren(
      ...items.map((x) => {
        const li = document.createElement("li");
        li.dataset.kind = x.kind;
        li.dataset.actor = x.actor ?? "";
        li.append(
          element("span", "time", dateTimeText(x.at)),
          element("span", "kind", t(KIND_LABELS[x.kind] ?? "kind.other")),
          ...details(x).map((text) => element("span", "detail", text)),
        );
        return li;
      }),
    );
  }

  async function drawChart() {
    const note = document.getElementById("alert-chart-note");
    try {
      const drawn = await chart.draw(alert, vocabulary);
      note.hidden = drawn > 0;
      note.textContent = t("duty.chart_empty");
    } catch (error) {
      if (error.status === 401) return;
      note.hidden = false;
      note.textContent = t("duty.chart_failed", { detail: error.message });
    }
  }

  function onEvent({ event, data }) {
    if (event !== "alert" || JSON.parse(data).fingerprint !== fingerprint) return;
    clearTimeout(asking);
    asking = setTimeout(load, 300);
  }

  async function start() {
    try {
      vocabulary = await Vocabulary.load();
    } catch (error) {
      if (stopped || error.status === 401) return;
      problem(t("duty.load_failed", { detail: error.message }));
      retry = setTimeout(start, RETRY_MS);
      return;
    }
    if (stopped) return;
    chart = new AlertChart(document.getElementById("alert-chart"));
    window.cityvitals = { ...(window.cityvitals ?? {}), alertChart: chart.chart };
    if (mayAct()) {
      const panel = document.getElementById("alert-actions");
      panel.hidden = false;
      actions = new Actions(panel, { onDone: load });
    }
    const newest = await api("/v1/audit?limit=1").catch(() => ({ items: [] }));
    if (!(await load())) return;
    const lastEventId = newest.items.length ? String(newest.items[0].id) : null;
    stream = new LiveStream("/v1/stream", { onEvent, onState: onLive, lastEventId });
    stream.run();
  }

  return {
    async mount(root) {
      root.innerHTML = TEMPLATE;
      applyLabels(root);
      await start();
    },

    relabel(root) {
      applyLabels(root);
      actions?.relabel();
      if (alert) draw();
    },

    unmount() {
      stopped = true;
      clearTimeout(retry);
      clearTimeout(asking);
      stream?.stop();
      chart?.dispose();
    },
  };
}
