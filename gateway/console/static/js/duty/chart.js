// One alert's history chart: the readings around the alert (from two hours before it began to
// half an hour after it ended, or now) from /v1/readings, the alert's grade thresholds on its
// side as dashed lines in the grade colours, and the moments it fired and resolved.
import * as echarts from "/console/assets/vendor/echarts.esm.min.mjs";
import { api } from "../api.js";
import { GRADES_WORST_FIRST, GRADE_COLOURS } from "../grades.js";
import { t } from "../i18n.js";
import { format, sideOf } from "./vocabulary.js";

const BEFORE_MS = 2 * 3600 * 1000;
const AFTER_MS = 30 * 60 * 1000;

export class AlertChart {
  constructor(container) {
    this.container = container;
    this.chart = echarts.init(container, null, { renderer: "canvas" });
    this.observer = new ResizeObserver(() => this.chart.resize());
    this.observer.observe(container);
  }

  dispose() {
    this.observer.disconnect();
    this.chart.dispose();
  }

  // Draws the alert's readings; resolves to the number of points drawn (0: nothing stored).
  async draw(alert, vocabulary) {
    const query = readingsQuery(alert);
    if (!query) return 0;
    const [series, limits] = await Promise.all([
      api(`/v1/readings?${query}`),
      vocabulary.thresholds(alert),
    ]);
    const points = series.points.map((p) => [p.start, p.last ?? p.avg]);
    const side = sideOf(alert);
    const lines = side
      ? GRADES_WORST_FIRST.filter((g) => limits?.[side]?.[g] != null).map((grade) => ({
          yAxis: limits[side][grade],
          name: t(`grade.${grade}`),
          lineStyle: { color: GRADE_COLOURS[grade], type: "dashed", width: 2 },
          label: {
            color: GRADE_COLOURS[grade],
            formatter: `${t(`grade.${grade}`)} ${format(limits[side][grade])}`,
          },
        }))
      : [];
    const moments = [
      [alert.firing_since ?? alert.pending_since, "duty.chart_began"],
      [alert.resolved_at, "duty.chart_resolved"],
    ]
      .filter(([at]) => at)
      .map(([at, key]) => ({
        xAxis: at,
        lineStyle: { color: "#cfe2f7", type: "solid", width: 1 },
        label: { formatter: t(key), color: "#cfe2f7", position: "insideEndTop" },
      }));
    const values = [...points.map((p) => p[1]), ...lines.map((l) => l.yAxis)];
    const low = Math.min(...values);
    const high = Math.max(...values);
    const pad = (high - low) * 0.08 || Math.abs(high) * 0.1 || 1;
    this.chart.setOption(
      {
        animation: false,
        grid: { left: 70, right: 110, top: 30, bottom: 40 },
        tooltip: { trigger: "axis", valueFormatter: (v) => `${format(v)} ${series.unit}` },
        xAxis: { type: "time", axisLabel: { color: "#8fa9c4", fontSize: 14 } },
        yAxis: {
          type: "value",
          name: series.unit,
          nameTextStyle: { color: "#8fa9c4", fontSize: 14 },
          min: low - pad,
          max: high + pad,
          // The padded ends are not round numbers: only the axis's own steps are labelled.
          axisLabel: {
            color: "#8fa9c4",
            fontSize: 14,
            formatter: (v) => format(v),
            showMinLabel: false,
            showMaxLabel: false,
          },
          splitLine: { lineStyle: { color: "#1c3550" } },
        },
        series: [
          {
            type: "line",
            name: vocabulary.metric(alert)?.name ?? alert.labels.metric,
            data: points,
            showSymbol: false,
            lineStyle: { width: 3, color: "#37c3ff" },
            areaStyle: { color: "#37c3ff", opacity: 0.12, origin: "start" },
            markLine: { silent: true, symbol: "none", data: [...lines, ...moments] },
          },
        ],
      },
      true,
    );
    return points.length;
  }
}

// The readings query of the alert's subject: one sensor, or its type's sensors in the
// subdistrict (or the whole district); null for a rule without a metric.
function readingsQuery(alert) {
  const metric = alert.labels.metric;
  if (!metric) return null;
  const began = new Date(alert.pending_since ?? alert.firing_since ?? alert.updated_at).getTime();
  const query = new URLSearchParams({ metric, start: new Date(began - BEFORE_MS).toISOString() });
  // Up to now (the API's default end) while it lasts; past its end by a little once resolved.
  const ended = alert.resolved_at ? new Date(alert.resolved_at).getTime() + AFTER_MS : null;
  if (ended !== null && ended < Date.now()) query.set("end", new Date(ended).toISOString());
  if (alert.labels.sensor) query.set("sensor", alert.labels.sensor);
  else {
    query.set("type", alert.labels.type);
    if (alert.subject.subdistrict) query.set("subdistrict", alert.subject.subdistrict);
  }
  return query;
}
