// The wall (/console/): the map, the firing counts, the ticker and the vital-sign tiles, kept
// live by the stream. Loading order matters for a consistent start: the audit trail's newest id
// first, then the alerts firing, then the stream from that id (Last-Event-ID), so a transition
// that happens in between is replayed rather than lost.
import { api, apiAll } from "../api.js";
import { GRADES_WORST_FIRST, GRADE_COLOURS } from "../grades.js";
import { applyLabels, named, t } from "../i18n.js";
import { LiveStream } from "../sse.js";
import { FiringAlerts } from "./firing.js";
import { HistoryNotice } from "./history.js";
import { CityMap } from "./map.js";
import { Ticker } from "./ticker.js";
import { Tiles } from "./tiles.js";

const TEMPLATE = `
<section class="wall">
  <section class="panel map-panel">
    <h2 data-i18n="wall.map_title"></h2>
    <p class="problem" id="wall-problem" hidden></p>
    <p class="notice" id="wall-history" data-i18n="wall.history_filling" hidden></p>
    <div id="wall-map" class="map"></div>
    <ul class="legend" id="wall-legend"></ul>
  </section>
  <aside class="side">
    <section class="panel">
      <h2 data-i18n="wall.firing_title"></h2>
      <div class="counts" id="wall-counts"></div>
    </section>
    <section class="panel ticker-panel">
      <h2 data-i18n="wall.ticker_title"></h2>
      <ol class="ticker" id="wall-ticker"></ol>
    </section>
  </aside>
  <section class="panel tiles-panel">
    <h2 data-i18n="wall.tiles_title"></h2>
    <div class="tiles" id="wall-tiles"></div>
  </section>
</section>`;
const RETRY_MS = 10000;

export function wallPage({ onLive }) {
  let map = null;
  let tiles = null;
  let ticker = null;
  let stream = null;
  let stopped = false;
  let retry = null;
  let history = null;
  const firing = new FiringAlerts();
  const sensors = new Map(); // subdistrict -> {sensors, online, offline}
  const signsByDomain = new Map();
  let placeNames = [];

  function drawPlaceNames() {
    document.getElementById("place-name").textContent = placeNames.map(named).join(" · ");
  }

  function drawAlerts() {
    map.draw(firing.worstBySubdistrict(), sensors);
    const counts = firing.counts();
    for (const grade of GRADES_WORST_FIRST) {
      document.querySelector(`#wall-counts [data-grade="${grade}"] .n`).textContent =
        counts[grade];
    }
    ticker.draw();
  }

  function countSensors() {
    sensors.clear();
    for (const signs of signsByDomain.values()) {
      for (const place of signs.subdistricts) {
        const sum = sensors.get(place.code) ?? { sensors: 0, online: 0, offline: 0 };
        sum.sensors += place.sensors;
        sum.online += place.online;
        sum.offline += place.offline;
        sensors.set(place.code, sum);
      }
    }
  }

  function onEvent({ event, data }) {
    const body = JSON.parse(data);
    if (event === "alert") {
      firing.apply(body);
      ticker.add(body);
      drawAlerts();
      tiles.redraw();
    } else if (event === "vital_signs") {
      signsByDomain.set(body.domain, body);
      countSensors();
      tiles.update(body);
      map.draw(firing.worstBySubdistrict(), sensors);
    }
  }

  function drawStatic() {
    document.getElementById("wall-counts").replaceChildren(
      ...GRADES_WORST_FIRST.map((grade) => {
        const box = document.createElement("div");
        box.className = "count";
        box.dataset.grade = grade;
        box.style.setProperty("--grade", GRADE_COLOURS[grade]);
        box.innerHTML = `<span class="n">0</span><span class="label" data-i18n="grade.${grade}_long"></span>`;
        return box;
      }),
    );
    document.getElementById("wall-legend").replaceChildren(
      ...[...GRADES_WORST_FIRST, "none"].map((grade) => {
        const li = document.createElement("li");
        li.dataset.grade = grade;
        li.innerHTML = `<i></i><span data-i18n="grade.${grade === "none" ? "none" : `${grade}_long`}"></span>`;
        return li;
      }),
    );
  }

  // What the wall starts from; a failure (the gateway away) is said on the wall and tried again.
  async function start() {
    let geography, types, audit, firingNow;
    try {
      [geography, types, audit] = await Promise.all([
        api("/v1/geography"),
        api("/v1/sensor-types"),
        api("/v1/audit?limit=40"),
      ]);
      firingNow = await apiAll("/v1/alerts", { phase: "firing", limit: 500 });
    } catch (error) {
      if (stopped || error.status === 401) return; // a refused key: back to sign-in
      const problem = document.getElementById("wall-problem");
      problem.hidden = false;
      problem.textContent = t("wall.load_failed", { detail: error.message });
      retry = setTimeout(start, RETRY_MS); // a wall on a screen recovers by itself
      return;
    }
    if (stopped) return;
    document.getElementById("wall-problem").hidden = true;
    const places = new Map([
      ...geography.subdistricts.features.map((f) => [f.id, f.properties]),
      ...geography.districts.map((d) => [d.code, d]),
      [geography.city.code, geography.city],
    ]);
    placeNames = [geography.city, ...geography.districts];
    drawPlaceNames();
    map = new CityMap(document.getElementById("wall-map"));
    map.setGeography(geography);
    // A handle for people and tests looking at a running wall (the chart's option, the map).
    window.cityvitals = { ...(window.cityvitals ?? {}), map: map.chart, geography };
    tiles = new Tiles(
      document.getElementById("wall-tiles"),
      new Map(types.map((type) => [type.name, type])),
      firing,
    );
    ticker = new Ticker(document.getElementById("wall-ticker"), places);
    ticker.load(audit.items);
    firing.load(firingNow);
    drawAlerts();
    const newest = audit.items.length ? String(audit.items[0].id) : null;
    stream = new LiveStream("/v1/stream", { onEvent, onState: onLive, lastEventId: newest });
    stream.run();
  }

  return {
    async mount(root) {
      root.innerHTML = TEMPLATE;
      drawStatic();
      applyLabels(root);
      history = new HistoryNotice(document.getElementById("wall-history"));
      history.check();
      await start();
    },

    relabel(root) {
      applyLabels(root);
      if (!map) return;
      drawPlaceNames();
      drawAlerts();
      tiles.redraw();
    },

    unmount() {
      stopped = true;
      clearTimeout(retry);
      history?.stop();
      stream?.stop();
      tiles?.dispose();
      map?.dispose();
      document.getElementById("place-name").textContent = "";
    },
  };
}
