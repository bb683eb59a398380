// The vital-sign tiles, one per domain: sensors online, alerts firing by grade, the main
// figures (city-wide, from the stream's vital_signs events) and a sparkline of the last hours
// of the first figure (from /v1/readings, the API's buckets across the type's sensors).
import * as echarts from "/console/assets/vendor/echarts.esm.min.mjs";
import { api } from "../api.js";
import { GRADES_WORST_FIRST, GRADE_COLOURS } from "../grades.js";
import { named, t } from "../i18n.js";

const FIGURES = 2;
export const SPARK_HOURS = 6;
const SPARK_BUCKET = "10m";

export class Tiles {
  constructor(container, types, firing) {
    this.container = container;
    this.firing = firing; // the alerts firing now (the stream's, fresher than the figures')
    this.types = types; // type name -> /v1/sensor-types summary (metric names)
    this.tiles = new Map(); // domain -> {element, chart, signs, spark}
    this.specs = new Map(); // type name -> Promise of its spec (thresholds), asked once
  }

  dispose() {
    for (const tile of this.tiles.values()) {
      tile.observer?.disconnect();
      tile.chart?.dispose();
    }
  }

  update(signs) {
    let tile = this.tiles.get(signs.domain);
    if (!tile) {
      tile = this.create(signs.domain);
      this.tiles.set(signs.domain, tile);
    }
    tile.signs = signs;
    this.draw(tile);
  }

  redraw() {
    for (const tile of this.tiles.values()) this.draw(tile);
  }

  create(domain) {
    const element = document.createElement("article");
    element.className = "tile";
    element.dataset.domain = domain;
    element.innerHTML =
      '<header><h3 class="name"></h3><span class="chips"></span><span class="online"></span></header>' +
      '<div class="figures"></div>' +
      '<div class="spark"><p class="spark-label"><span class="spark-name"></span>' +
      '<span class="spark-levels"></span></p><div class="spark-chart"></div></div>';
    this.container.append(element);
    return { element, chart: null, signs: null, spark: null };
  }

  draw(tile) {
    const { element, signs } = tile;
    const city = signs.city;
    element.style.setProperty("--domain", signs.colour);
    element.querySelector(".name").textContent = named(signs);
    element.querySelector(".online").textContent = city.sensors
      ? t("wall.online", city)
      : t("wall.no_sensors");
    element.querySelector(".chips").replaceChildren(...chips(this.firing.counts(signs.domain)));
    const shown = figures(city.metrics, this.types);
    element.querySelector(".figures").replaceChildren(...shown.map((m) => this.figure(m)));
    const first = shown[0];
    element.querySelector(".spark-name").textContent = first
      ? `${this.metricName(first)} · ${t("wall.last_hours", { hours: SPARK_HOURS })}`
      : "";
    if (first) this.drawSpark(tile, first);
  }

  figure(metric) {
    const box = document.createElement("div");
    box.className = "figure";
    box.dataset.metric = `${metric.type}.${metric.metric}`;
    const value = headline(metric);
    box.innerHTML = '<span class="value"></span><span class="unit"></span><span class="label"></span>';
    box.querySelector(".value").textContent = value === null ? t("wall.no_value") : format(value);
    box.querySelector(".unit").textContent = metric.unit === "1" ? "" : metric.unit;
    box.querySelector(".label").textContent = this.metricName(metric);
    return box;
  }

  metricName(metric) {
    const found = this.types.get(metric.type)?.metrics.find((m) => m.name === metric.metric);
    return found ? named(found) : metric.metric;
  }

  // The sparkline's points: fetched when the figure changes and every few minutes after.
  async drawSpark(tile, metric) {
    const key = `${metric.type}.${metric.metric}`;
    const due = !tile.spark || tile.spark.key !== key || Date.now() - tile.spark.at > 300000;
    if (!tile.chart) {
      const element = tile.element.querySelector(".spark-chart");
      tile.chart = echarts.init(element, null, { renderer: "canvas" });
      tile.observer = new ResizeObserver(() => tile.chart.resize());
      tile.observer.observe(element);
    }
    if (due) {
      tile.spark = { key, at: Date.now(), points: tile.spark?.key === key ? tile.spark.points : [] };
      const start = new Date(Date.now() - SPARK_HOURS * 3600 * 1000).toISOString();
      const query = new URLSearchParams({
        type: metric.type,
        metric: metric.metric,
        start,
        bucket: SPARK_BUCKET,
      });
      try {
        const [series, levels] = await Promise.all([
          api(`/v1/readings?${query}`),
          this.thresholds(metric),
        ]);
        tile.spark.points = series.points.map((p) => [p.start, p.avg]);
        tile.spark.levels = levels;
      } catch {
        tile.spark.at = 0; // asked again with the next figures
      }
    }
    const colour = tile.signs.colour;
    const levels = tile.spark.levels ?? [];
    this.drawLevels(tile, levels);
    // The line keeps its shape: the axis spans the data; an alert line shows once the data
    // comes within half its span of it (the label above names the lines either way).
    const values = tile.spark.points.map((p) => p[1]);
    const low = Math.min(...values);
    const high = Math.max(...values);
    const near = Math.max(high - low, Math.abs(high) * 0.02, 1e-9) / 2;
    const shown = levels.filter((l) => l.value >= low - near && l.value <= high + near);
    const extent = [low, high, ...shown.map((l) => l.value)];
    const pad = (Math.max(...extent) - Math.min(...extent)) * 0.1 || near;
    tile.chart.setOption({
      animation: false,
      grid: { left: 4, right: 56, top: 8, bottom: 8 },
      xAxis: { type: "time", show: false },
      yAxis: {
        type: "value",
        show: false,
        min: Math.min(...extent) - pad,
        max: Math.max(...extent) + pad,
      },
      series: [
        {
          type: "line",
          data: tile.spark.points,
          showSymbol: false,
          smooth: true,
          lineStyle: { width: 3, color: colour },
          areaStyle: { color: colour, opacity: 0.18, origin: "start" },
          markLine: {
            silent: true,
            symbol: "none",
            label: { position: "end", color: "#cfe2f7", fontSize: 13, formatter: "{c}" },
            data: shown.map((l) => ({
              yAxis: l.value,
              lineStyle: { color: GRADE_COLOURS[l.grade], type: "dashed", width: 2 },
            })),
          },
        },
      ],
    });
  }

  drawLevels(tile, levels) {
    const text = levels
      .map((l) => `${l.side === "above" ? "≥" : "≤"} ${format(l.value)}`)
      .join("  ");
    const label = tile.element.querySelector(".spark-levels");
    label.textContent = text ? `${t("wall.alert_lines")} ${text}` : "";
  }

  // Where alerts of the metric start, per direction: the least severe level of its type's
  // thresholds above and below (rule files may override them: these are the type's own).
  async thresholds(metric) {
    if (!this.specs.has(metric.type)) {
      const asked = api(`/v1/sensor-types/${encodeURIComponent(metric.type)}`);
      asked.catch(() => this.specs.delete(metric.type)); // asked again next time
      this.specs.set(metric.type, asked);
    }
    const detail = await this.specs.get(metric.type);
    const limits = detail.spec.metrics[metric.metric]?.thresholds ?? {};
    const levels = [];
    for (const side of ["above", "below"]) {
      const grade = [...GRADES_WORST_FIRST].reverse().find((g) => limits[side]?.[g] != null);
      if (grade) levels.push({ side, grade, value: limits[side][grade] });
    }
    return levels;
  }
}

function chips(firing) {
  return GRADES_WORST_FIRST.filter((g) => firing[g] > 0).map((grade) => {
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.dataset.grade = grade;
    chip.style.background = GRADE_COLOURS[grade];
    chip.textContent = `${t(`grade.${grade}`)} ${firing[grade]}`;
    return chip;
  });
}

// Device health (a battery's charge) describes the devices, not the city: not a tile's figure.
const DEVICE_HEALTH = new Set(["battery"]);

// The figures worth a tile: gauges (a level reads at a glance; a counter's cumulative total
// does not: counters only for a domain without gauges) with sensors reporting, never a state;
// first one per type (types with more sensors first), then the others.
function figures(metrics, types) {
  const usable = metrics.filter(
    (m) => m.reporting > 0 && m.kind !== "state" && !DEVICE_HEALTH.has(m.metric),
  );
  const gauges = usable.filter((m) => m.kind === "gauge");
  const candidates = gauges.length ? gauges : usable;
  const place = (m) => types.get(m.type)?.metrics.findIndex((x) => x.name === m.metric) ?? 0;
  const perType = new Map();
  for (const m of candidates) {
    const best = perType.get(m.type);
    if (!best || place(m) < place(best)) perType.set(m.type, m);
  }
  const heads = [...perType.values()].sort((a, b) => b.sensors - a.sensors);
  const rest = candidates.filter((m) => !heads.includes(m));
  return [...heads, ...rest].slice(0, FIGURES);
}

function headline(metric) {
  return metric.kind === "gauge" ? metric.avg : (metric.sum ?? metric.avg);
}

function format(value) {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString(undefined, { maximumFractionDigits: digits });
}
