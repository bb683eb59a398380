// One metric of one sensor over a range: the API's buckets (the API chooses the bucket width
// and whether raw data or a rollup answers: /v1/readings), the average as a line with the
// bucket's min..max as a band, and the type's thresholds as dashed lines in grade colours.
import * as echarts from "/console/assets/vendor/echarts.esm.min.mjs";
import { api } from "../api.js";
import { GRADES_WORST_FIRST, GRADE_COLOURS } from "../grades.js";
import { named, t } from "../i18n.js";

// The ranges the page offers: seconds back from now, and the label.
export const RANGES = {
  "1h": { seconds: 3600, label: "sensor.range_hour" },
  "24h": { seconds: 86400, label: "sensor.range_day" },
  "7d": { seconds: 7 * 86400, label: "sensor.range_week" },
  "30d": { seconds: 30 * 86400, label: "sensor.range_month" },
};
// The API's `source` of a series (raw data or a rollup), as a person reads it.
const SOURCES = {
  readings: "sensor.source_raw",
  readings_1m: "sensor.source_minute",
  readings_1h: "sensor.source_hour",
};

export class MetricChart {
  constructor(container, sensorId, metric, limits) {
    this.sensorId = sensorId;
    this.metric = metric; // /v1/sensor-types summary of the metric (name, unit, kind, names)
    this.limits = limits ?? {}; // the type's thresholds: {above: {grade: value}, below: {...}}
    this.series = null; // the API's last answer
    this.element = document.createElement("article");
    this.element.className = "panel metric";
    this.element.dataset.metric = metric.name;
    this.element.innerHTML =
      '<h3><span class="name"></span> <span class="unit"></span></h3>' +
      '<p class="levels"></p><div class="chart"></div><p class="about"></p>';
    container.append(this.element);
    this.chart = echarts.init(this.element.querySelector(".chart"), null, { renderer: "canvas" });
    this.observer = new ResizeObserver(() => this.chart.resize());
    this.observer.observe(this.element.querySelector(".chart"));
  }

  dispose() {
    this.observer.disconnect();
    this.chart.dispose();
  }

  // The lines to draw: every grade the type sets, per direction.
  levels() {
    const lines = [];
    for (const side of ["above", "below"]) {
      for (const grade of GRADES_WORST_FIRST) {
        const value = this.limits[side]?.[grade];
        if (typeof value === "number") lines.push({ side, grade, value });
      }
    }
    return lines;
  }

  extent(points, levels) {
    const values = [
      ...points.flatMap((p) => [p.min, p.max]),
      ...levels.map((l) => l.value),
    ].filter((v) => typeof v === "number");
    if (values.length === 0) return { scale: true };
    const low = Math.min(...values);
    const high = Math.max(...values);
    const pad = (high - low) * 0.08 || Math.abs(high) * 0.1 || 1;
    const digits = 10 ** Math.max(0, 2 - Math.floor(Math.log10(pad)));
    return {
      min: Math.floor((low - pad) * digits) / digits,
      max: Math.ceil((high + pad) * digits) / digits,
    };
  }

  async load(range, signal) {
    const start = new Date(Date.now() - RANGES[range].seconds * 1000).toISOString();
    const query = new URLSearchParams({ sensor: this.sensorId, metric: this.metric.name, start });
    this.element.dataset.state = "loading";
    try {
      this.series = await api(`/v1/readings?${query}`, { signal });
      this.element.dataset.state = "drawn";
    } catch (error) {
      if (error.name === "AbortError") return;
      this.series = null;
      this.element.dataset.state = "failed";
      this.element.querySelector(".about").textContent = t("sensor.load_failed", {
        detail: error.message,
      });
      this.chart.clear();
      return;
    }
    this.element.dataset.range = range;
    this.draw();
  }

  draw() {
    this.element.querySelector(".name").textContent = named(this.metric) || this.metric.name;
    this.element.querySelector(".unit").textContent =
      this.metric.unit === "1" ? "" : `(${this.metric.unit})`;
    const levels = this.levels();
    this.element.querySelector(".levels").textContent = levels.length
      ? `${t("sensor.alert_lines")} ${levels
          .map((l) => `${t(`grade.${l.grade}`)} ${l.side === "above" ? "≥" : "≤"} ${l.value}`)
          .join("  ")}`
      : "";
    if (!this.series) return;
    const { points, bucket, source } = this.series;
    this.element.querySelector(".about").textContent = points.length
      ? t("sensor.series_about", {
          points: points.length,
          bucket,
          source: SOURCES[source] ? t(SOURCES[source]) : source,
        })
      : t("sensor.no_readings");
    this.element.dataset.points = String(points.length);
    const colour = "#37c3ff";
    this.chart.setOption(
      {
        animation: false,
        grid: { left: 64, right: 96, top: 16, bottom: 36 },
        tooltip: { trigger: "axis" },
        xAxis: {
          type: "time",
          axisLabel: { color: "#8fa9c4" },
          axisLine: { lineStyle: { color: "#1c3550" } },
        },
        // The axis spans the data and every alert line, so a person sees how far the readings
        // are from each grade (ECharts leaves out a line outside the axis).
        yAxis: {
          type: "value",
          ...this.extent(points, levels),
          // The padded ends are not round numbers: only the axis's own ticks are labelled; a
          // state's stored index reads as its label (0 -> "normal").
          axisLabel: {
            color: "#8fa9c4",
            showMinLabel: false,
            showMaxLabel: false,
            formatter: this.metric.states
              ? (value) => this.metric.states[value] ?? ""
              : undefined,
          },
          splitLine: { lineStyle: { color: "#1c3550" } },
        },
        series: [
          {
            name: "avg",
            type: "line",
            data: points.map((p) => [p.start, p.avg]),
            showSymbol: points.length < 2,
            step: this.metric.kind === "state" ? "end" : false,
            lineStyle: { width: 2, color: colour },
            itemStyle: { color: colour },
            markLine: {
              silent: true,
              symbol: "none",
              label: { position: "end", color: "#cfe2f7", formatter: "{c}" },
              data: levels.map((l) => ({
                yAxis: l.value,
                lineStyle: { color: GRADE_COLOURS[l.grade], type: "dashed", width: 2 },
              })),
            },
          },
          // The bucket's spread: min as an invisible base, max - min stacked on it.
          {
            name: "min",
            type: "line",
            data: points.map((p) => [p.start, p.min]),
            stack: "spread",
            showSymbol: false,
            lineStyle: { opacity: 0 },
            tooltip: { show: false },
          },
          {
            name: "spread",
            type: "line",
            data: points.map((p) => [p.start, p.max - p.min]),
            stack: "spread",
            showSymbol: false,
            lineStyle: { opacity: 0 },
            tooltip: { show: false },
            areaStyle: { color: colour, opacity: 0.15 },
          },
        ],
      },
      true,
    );
  }
}
