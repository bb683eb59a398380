// One sensor (/console/sensors/:sensor/), reached by links (the wall's ticker, the duty
// console, the Grafana walls' data links): who it is (type, place, status, last seen), each of
// its metrics over 1 h / 24 h / 7 d / 30 d with its type's thresholds as lines, and its
// online/offline history.
import { api } from "../api.js";
import { applyLabels, clockText, currentLang, named, t } from "../i18n.js";
import { MetricChart, RANGES } from "./metric_chart.js";

const TEMPLATE = `
<section class="sensor-page">
  <section class="panel sensor-identity">
    <h2 data-i18n="sensor.title"></h2>
    <p class="problem" id="sensor-problem" hidden></p>
    <dl id="sensor-identity"></dl>
    <ul class="latest" id="sensor-latest"></ul>
  </section>
  <section class="panel sensor-history">
    <h2 data-i18n="sensor.status_history"></h2>
    <ol class="status-history" id="sensor-status"></ol>
  </section>
  <section class="sensor-charts">
    <div class="ranges" id="sensor-ranges" role="group"></div>
    <div class="metrics" id="sensor-metrics"></div>
  </section>
</section>`;
const HISTORY = 50; // status changes shown

export function sensorPage({ params }) {
  const sensorId = params.sensor;
  let detail = null;
  let type = null; // its /v1/sensor-types summary
  let places = new Map();
  let charts = [];
  let range = "24h";
  let asking = null; // the current range's requests, cut short when another range is chosen

  function when(iso) {
    if (!iso) return t("sensor.never");
    const date = new Date(iso);
    const day = date.toLocaleDateString(currentLang() === "zh" ? "zh-CN" : "en-GB");
    return `${day} ${clockText(date)}`;
  }

  function statusWord(online) {
    return t(online === true ? "sensor.online" : online === false ? "sensor.offline" : "sensor.unknown");
  }

  function drawIdentity() {
    const lastSeen = detail.latest.map((v) => v.ts).sort().at(-1) ?? null;
    const rows = [
      ["sensor.id", detail.id],
      ["sensor.name", detail.name || "—"],
      ["sensor.type", type ? `${named(type)} (${detail.type})` : detail.type],
      ["sensor.place", named(places.get(detail.subdistrict)) || detail.subdistrict],
      ["sensor.status", statusWord(detail.online)],
      ["sensor.status_changed", when(detail.status_changed_at)],
      ["sensor.last_seen", when(lastSeen)],
    ];
    const list = document.getElementById("sensor-identity");
    list.replaceChildren(
      ...rows.flatMap(([key, value]) => {
        const dt = document.createElement("dt");
        dt.textContent = t(key);
        const dd = document.createElement("dd");
        dd.textContent = value;
        dd.dataset.field = key.slice("sensor.".length);
        return [dt, dd];
      }),
    );
    list.querySelector('[data-field="status"]').dataset.online = String(detail.online);
    document.getElementById("sensor-latest").replaceChildren(
      ...detail.latest.map((v) => {
        const metric = type?.metrics.find((m) => m.name === v.metric);
        const li = document.createElement("li");
        li.dataset.metric = v.metric;
        // Six significant digits: a stored 0.339 reads 0.339, not 0.33899999999999997.
        const value = v.state ?? `${Number(v.value.toPrecision(6))} ${v.unit === "1" ? "" : v.unit}`;
        li.textContent = `${metric ? named(metric) : v.metric}: ${value}`;
        return li;
      }),
    );
  }

  function drawHistory() {
    const list = document.getElementById("sensor-status");
    if (detail.status_history.length === 0) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = t("sensor.no_status_history");
      list.replaceChildren(empty);
      return;
    }
    list.replaceChildren(
      ...detail.status_history.map((change) => {
        const li = document.createElement("li");
        li.dataset.online = String(change.online);
        li.dataset.ts = change.ts;
        const time = document.createElement("span");
        time.className = "time";
        time.textContent = when(change.ts);
        const word = document.createElement("span");
        word.className = "word";
        word.textContent = statusWord(change.online);
        li.append(time, word);
        return li;
      }),
    );
  }

  function drawRanges() {
    document.getElementById("sensor-ranges").replaceChildren(
      ...Object.keys(RANGES).map((name) => {
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.range = name;
        button.textContent = t(RANGES[name].label);
        button.setAttribute("aria-pressed", String(name === range));
        button.addEventListener("click", () => choose(name));
        return button;
      }),
    );
  }

  async function choose(name) {
    range = name;
    drawRanges();
    asking?.abort();
    asking = new AbortController();
    const box = document.getElementById("sensor-metrics");
    delete box.dataset.loaded;
    const signal = asking.signal;
    await Promise.all(charts.map((chart) => chart.load(name, signal)));
    if (!signal.aborted) box.dataset.loaded = name; // every chart drawn for this range
  }

  function problem(message) {
    const line = document.getElementById("sensor-problem");
    line.hidden = false;
    line.textContent = message;
  }

  return {
    async mount(root) {
      root.innerHTML = TEMPLATE;
      applyLabels(root);
      drawRanges();
      let types, geography;
      try {
        const path = `/v1/sensors/${encodeURIComponent(sensorId)}?history=${HISTORY}`;
        [detail, types, geography] = await Promise.all([
          api(path),
          api("/v1/sensor-types"),
          api("/v1/geography"),
        ]);
      } catch (error) {
        if (error.status === 401) return;
        problem(
          error.status === 404
            ? t("sensor.not_found", { id: sensorId })
            : t("sensor.load_failed", { detail: error.message }),
        );
        return;
      }
      type = types.find((x) => x.name === detail.type) ?? null;
      places = new Map(geography.subdistricts.features.map((f) => [f.id, f.properties]));
      document.title = `${detail.id} · CityVitals`;
      drawIdentity();
      drawHistory();
      let spec = {};
      try {
        spec = (await api(`/v1/sensor-types/${encodeURIComponent(detail.type)}`)).spec.metrics;
      } catch (error) {
        problem(t("sensor.load_failed", { detail: error.message })); // charts without lines
      }
      const box = document.getElementById("sensor-metrics");
      charts = (type?.metrics ?? []).map(
        (metric) => new MetricChart(box, detail.id, metric, spec[metric.name]?.thresholds),
      );
      // A handle for people and tests looking at a running page (each chart's option).
      window.cityvitals = {
        ...(window.cityvitals ?? {}),
        sensorCharts: Object.fromEntries(charts.map((c) => [c.metric.name, c.chart])),
      };
      await choose(range);
    },

    relabel(root) {
      applyLabels(root);
      drawRanges();
      if (!detail) return;
      drawIdentity();
      drawHistory();
      for (const chart of charts) chart.draw();
    },

    unmount() {
      asking?.abort();
      for (const chart of charts) chart.dispose();
    },
  };
}
