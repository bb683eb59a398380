// The duty list (/console/alerts): the open alerts (pending and firing, closed-while-firing ones
// included and marked) worst first, filtered by grade, domain and subdistrict, kept live: each
// alert event of the stream asks the list again (bursts are gathered into one request), so the
// list always shows what the API says rather than a state pieced together in the browser.
import { api, apiAll } from "../api.js";
import { GRADES_WORST_FIRST, GRADE_COLOURS, rank } from "../grades.js";
import { applyLabels, named, t } from "../i18n.js";
import { LiveStream } from "../sse.js";
import { Vocabulary, dateTimeText, opsText, phaseText, sinceText, thresholdText } from "./vocabulary.js";

const TEMPLATE = `
<section class="duty">
  <header class="duty-head">
    <h2 data-i18n="duty.list_title"></h2>
    <span class="duty-count" id="duty-count"></span>
    <form class="duty-filters" id="duty-filters">
      <label><span data-i18n="duty.filter_grade"></span><select name="grade"></select></label>
      <label><span data-i18n="duty.filter_domain"></span><select name="domain"></select></label>
      <label><span data-i18n="duty.filter_subdistrict"></span><select name="subdistrict"></select></label>
    </form>
  </header>
  <p class="problem" id="duty-problem" hidden></p>
  <table class="duty-table">
    <thead><tr>
      <th data-i18n="duty.col_grade"></th><th data-i18n="duty.col_place"></th>
      <th data-i18n="duty.col_subject"></th><th data-i18n="duty.col_value"></th>
      <th data-i18n="duty.col_since"></th><th data-i18n="duty.col_ops"></th>
    </tr></thead>
    <tbody id="duty-rows"></tbody>
  </table>
</section>`;
const GATHER_MS = 300; // stream events this close together ask the list once
const RETRY_MS = 10000;

export function dutyListPage({ onLive }) {
  let vocabulary = null;
  let alerts = [];
  let stream = null;
  let stopped = false;
  let asking = null;
  let retry = null;
  let ticking = null;
  const filters = { grade: "", domain: "", subdistrict: "" };

  function problem(message) {
    const line = document.getElementById("duty-problem");
    line.hidden = !message;
    line.textContent = message;
  }

  let asked = 0; // the newest request's number: an older answer arriving late is dropped

  async function refresh() {
    const mine = (asked += 1);
    const query = { phase: ["pending", "firing"], limit: 500 };
    for (const [name, value] of Object.entries(filters)) if (value) query[name] = value;
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      for (const one of [value].flat()) params.append(name, one);
    }
    try {
      const found = await apiAll("/v1/alerts", params);
      if (stopped || mine !== asked) return;
      alerts = worstFirst(found);
      problem("");
      await draw();
    } catch (error) {
      if (stopped || error.status === 401) return;
      problem(t("duty.load_failed", { detail: error.message }));
      retry = setTimeout(refresh, RETRY_MS);
    }
  }

  function soon() {
    clearTimeout(asking);
    asking = setTimeout(refresh, GATHER_MS);
  }

  async function draw() {
    const rows = document.getElementById("duty-rows");
    document.getElementById("duty-count").textContent = t("duty.count", { n: alerts.length });
    if (alerts.length === 0) {
      const empty = document.createElement("tr");
      empty.className = "empty";
      empty.innerHTML = '<td colspan="6"></td>';
      empty.firstChild.textContent = t("duty.list_empty");
      rows.replaceChildren(empty);
      return;
    }
    const shown = alerts; // a newer answer may replace `alerts` while the thresholds load
    const [limits, names] = await Promise.all([
      Promise.all(shown.map((alert) => vocabulary.threshold(alert))),
      Promise.all(shown.map((alert) => vocabulary.sensorName(alert))),
    ]);
    if (stopped || shown !== alerts) return;
    rows.replaceChildren(...shown.map((alert, i) => row(alert, limits[i], names[i])));
  }

  function row(alert, limit, sensorName) {
    const tr = document.createElement("tr");
    tr.dataset.fingerprint = alert.fingerprint;
    tr.dataset.grade = alert.grade ?? "";
    tr.dataset.phase = alert.phase;
    tr.dataset.ops = alert.ops;
    tr.dataset.subject = alert.subject.id;
    if (alert.closed_while_firing) tr.dataset.closedWhileFiring = "true";
    const grade = cell("grade");
    const badge = element("span", "badge", alert.grade ? t(`grade.${alert.grade}_long`) : "");
    if (alert.grade) badge.style.background = GRADE_COLOURS[alert.grade];
    grade.append(badge);
    const place = cell("place");
    const link = element("a", "", vocabulary.placeName(alert.subject.subdistrict ?? alert.subject.id));
    link.href = `/console/alerts/${encodeURIComponent(alert.fingerprint)}/`;
    place.append(link, element("small", "", vocabulary.domainName(alert.subject.domain)));
    const subject = cell("subject");
    const what = `${vocabulary.typeName(alert)} · ${metricName(alert)}`;
    if (alert.subject.kind === "sensor") {
      subject.append(
        element("span", "", sensorName || alert.subject.id),
        element("small", "", `${alert.subject.id} · ${what}`),
      );
    } else subject.append(element("span", "", what));
    const value = cell("value");
    value.append(element("strong", "", vocabulary.valueText(alert)));
    if (limit) value.append(element("small", "", `${t("duty.threshold")} ${thresholdText(limit)}`));
    const since = cell("since");
    const start = alert.firing_since ?? alert.pending_since;
    since.append(
      element("span", "", sinceText(start)),
      element("small", "", `${phaseText(alert.phase)} · ${dateTimeText(start)}`),
    );
    const ops = cell("ops");
    ops.append(element("span", "ops-state", opsText(alert)));
    if (alert.acknowledged_by) ops.append(element("small", "", alert.acknowledged_by));
    tr.append(grade, place, subject, value, since, ops);
    tr.addEventListener("click", (event) => {
      if (event.target.closest("a")) return;
      location.assign(link.href);
    });
    return tr;
  }

  function metricName(alert) {
    return named(vocabulary.metric(alert)) || alert.labels.metric || "";
  }

  function drawFilters() {
    const form = document.getElementById("duty-filters");
    fill(form.elements.grade, GRADES_WORST_FIRST.map((g) => [g, t(`grade.${g}_long`)]));
    fill(form.elements.domain, vocabulary.domains.map((d) => [d.code, named(d)]));
    fill(form.elements.subdistrict, vocabulary.subdistricts.map((s) => [s.code, named(s)]));
    for (const name of Object.keys(filters)) form.elements[name].value = filters[name];
  }

  function onEvent({ event }) {
    if (event === "alert") soon();
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
    drawFilters();
    document.getElementById("duty-filters").addEventListener("change", (event) => {
      filters[event.target.name] = event.target.value;
      refresh();
    });
    // The stream's newest id first, so a change between the list and the stream is not lost.
    const audit = await api("/v1/audit?limit=1").catch(() => ({ items: [] }));
    await refresh();
    const newest = audit.items.length ? String(audit.items[0].id) : null;
    stream = new LiveStream("/v1/stream", { onEvent, onState: onLive, lastEventId: newest });
    stream.run();
    ticking = setInterval(() => draw(), 60000); // "since" moves on
  }

  return {
    async mount(root) {
      root.innerHTML = TEMPLATE;
      applyLabels(root);
      await start();
    },

    relabel(root) {
      applyLabels(root);
      if (!vocabulary) return;
      drawFilters();
      draw();
    },

    unmount() {
      stopped = true;
      clearTimeout(retry);
      clearTimeout(asking);
      clearInterval(ticking);
      stream?.stop();
    },
  };
}

// Worst grade first; then firing before pending, and the longest-standing first.
function worstFirst(alerts) {
  const phaseRank = (a) => (a.phase === "firing" ? 1 : 0);
  const start = (a) => new Date(a.firing_since ?? a.pending_since ?? a.updated_at).getTime();
  return [...alerts].sort(
    (a, b) => rank(b.grade) - rank(a.grade) || phaseRank(b) - phaseRank(a) || start(a) - start(b),
  );
}

function fill(select, options) {
  const all = document.createElement("option");
  all.value = "";
  all.textContent = t("duty.filter_all");
  select.replaceChildren(
    all,
    ...options.map(([value, label]) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label;
      return option;
    }),
  );
}

function cell(className) {
  const td = document.createElement("td");
  td.className = className;
  return td;
}

export function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  el.textContent = text;
  return el;
}
