// What the duty pages need to describe an alert in words: place names (/v1/geography), sensor
// types with their metrics' names and units (/v1/sensor-types), domain names (/v1/vital-signs)
// and, per type, the thresholds of its metrics (/v1/sensor-types/{name}, asked once per type).
import { api } from "../api.js";
import { currentLang, named, t } from "../i18n.js";

// The ops states and how a person on duty reads them (the API's words are the keys).
const OPS_LABELS = {
  open: "duty.ops_open",
  acknowledged: "duty.ops_acknowledged",
  assigned: "duty.ops_assigned",
  closed: "duty.ops_closed",
};
const PHASE_LABELS = {
  pending: "duty.phase_pending",
  firing: "duty.phase_firing",
  resolved: "duty.phase_resolved",
  inactive: "duty.phase_inactive",
};

export class Vocabulary {
  static async load() {
    const [geography, types, signs] = await Promise.all([
      api("/v1/geography"),
      api("/v1/sensor-types"),
      api("/v1/vital-signs"),
    ]);
    return new Vocabulary(geography, types, signs.domains);
  }

  constructor(geography, types, domains) {
    this.geography = geography;
    this.places = new Map([
      ...geography.subdistricts.features.map((f) => [f.id, f.properties]),
      ...geography.districts.map((d) => [d.code, d]),
      [geography.city.code, geography.city],
    ]);
    this.subdistricts = geography.subdistricts.features.map((f) => ({ code: f.id, ...f.properties }));
    this.types = new Map(types.map((type) => [type.name, type]));
    this.domains = domains.map((d) => ({ code: d.domain, name_zh: d.name_zh, name_en: d.name_en }));
    this.specs = new Map(); // type name -> Promise of its detail
    this.sensorNames = new Map(); // sensor id -> Promise of its name (or "")
  }

  // A sensor's own name ("江浦路辽源西路口 压力"), asked once; "" when it has none or when the
  // gateway cannot say (the id is shown anyway).
  sensorName(alert) {
    const id = alert.labels.sensor;
    if (!id) return Promise.resolve("");
    if (!this.sensorNames.has(id)) {
      const asked = api(`/v1/sensors/${encodeURIComponent(id)}?history=0`).then(
        (sensor) => sensor.name ?? "",
        () => {
          this.sensorNames.delete(id); // asked again next time
          return "";
        },
      );
      this.sensorNames.set(id, asked);
    }
    return this.sensorNames.get(id);
  }

  placeName(code) {
    return named(this.places.get(code)) || code || "";
  }

  domainName(code) {
    return named(this.domains.find((d) => d.code === code)) || code;
  }

  typeName(alert) {
    return named(this.types.get(alert.labels.type)) || alert.labels.type || "";
  }

  // The metric's summary ({name, unit, name_zh, name_en}) or null (a rule without a metric).
  metric(alert) {
    const type = this.types.get(alert.labels.type);
    return type?.metrics.find((m) => m.name === alert.labels.metric) ?? null;
  }

  // The alert's value in words: a state's name, or the number with the metric's unit.
  valueText(alert) {
    if (alert.state) return named({ name_zh: alert.state.zh, name_en: alert.state.en });
    if (alert.value === null || alert.value === undefined) return t("duty.no_value");
    const unit = this.metric(alert)?.unit ?? "";
    return `${format(alert.value)} ${unit}`.trim();
  }

  // Where the alert's grade starts, from its type's thresholds on the rule's side ("below" or
  // "above", the rule id's last part): {side, value, unit} or null when the type says none
  // (state rules, or a rule file with its own levels: then the list shows no threshold).
  async threshold(alert) {
    const side = sideOf(alert);
    const limits = await this.thresholds(alert);
    const value = limits?.[side]?.[alert.grade];
    if (value === undefined || value === null) return null;
    return { side, value, unit: this.metric(alert)?.unit ?? "" };
  }

  // The type's thresholds of the alert's metric ({above: {grade: value}, below: {...}}).
  async thresholds(alert) {
    const name = alert.labels.type;
    if (!name || !alert.labels.metric) return null;
    if (!this.specs.has(name)) {
      const asked = api(`/v1/sensor-types/${encodeURIComponent(name)}`);
      asked.catch(() => this.specs.delete(name)); // asked again next time
      this.specs.set(name, asked);
    }
    try {
      const detail = await this.specs.get(name);
      return detail.spec.metrics[alert.labels.metric]?.thresholds ?? null;
    } catch {
      return null;
    }
  }
}

export function sideOf(alert) {
  const last = alert.rule_id.split(":").pop();
  return last === "above" || last === "below" ? last : null;
}

export function thresholdText(limit) {
  if (!limit) return "";
  const sign = limit.side === "above" ? "≥" : "≤";
  return `${sign} ${format(limit.value)} ${limit.unit}`.trim();
}

// The ops state a person reads, "closed while firing" said as such.
export function opsText(alert) {
  if (alert.closed_while_firing) return t("duty.ops_closed_while_firing");
  const state = t(OPS_LABELS[alert.ops] ?? "duty.ops_open");
  if (alert.ops === "assigned" && alert.assignee) return `${state} · ${alert.assignee}`;
  return state;
}

export function phaseText(phase) {
  return t(PHASE_LABELS[phase] ?? "duty.phase_inactive");
}

export function format(value) {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 3;
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: digits });
}

// How long ago, in minutes / hours / days ("12 分钟前", "3 h ago").
export function sinceText(at, now = Date.now()) {
  if (!at) return "";
  const minutes = Math.max(0, Math.round((now - new Date(at).getTime()) / 60000));
  if (minutes < 60) return t("duty.minutes_ago", { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t("duty.hours_ago", { n: hours, m: minutes % 60 });
  return t("duty.days_ago", { n: Math.floor(hours / 24) });
}

export function dateTimeText(at) {
  if (!at) return "";
  const locale = currentLang() === "zh" ? "zh-CN" : "en-GB";
  return new Date(at).toLocaleString(locale, { hour12: false });
}
