// The alert ticker: the newest transitions first (firing, escalated, resolved, acknowledged…),
// from the audit trail at start and then from the stream.
import { GRADE_COLOURS } from "../grades.js";
import { clockText, named, t } from "../i18n.js";

const KEEP = 40;
const KINDS = new Set([
  "pending",
  "firing",
  "grade_up",
  "grade_down",
  "resolved",
  "acknowledged",
  "assigned",
  "note",
  "closed",
  "reopened",
]);

export class Ticker {
  constructor(list, places) {
    this.list = list; // an <ol>
    this.places = places; // code -> {name_zh, name_en} for subdistricts and districts
    this.items = [];
  }

  // Audit lines newest first (as /v1/audit lists them).
  load(transitions) {
    this.items = transitions.filter((x) => x.kind !== "pending").slice(0, KEEP);
  }

  // One stream event; a replayed one already shown is skipped.
  add(transition) {
    if (transition.kind === "pending" || this.items.some((x) => x.id === transition.id)) return;
    this.items.unshift(transition);
    this.items.sort((a, b) => b.id - a.id);
    this.items.length = Math.min(this.items.length, KEEP);
  }

  draw() {
    if (this.items.length === 0) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = t("wall.ticker_empty");
      this.list.replaceChildren(empty);
      return;
    }
    this.list.replaceChildren(...this.items.map((x) => this.item(x)));
  }

  item(x) {
    const li = document.createElement("li");
    li.dataset.id = x.id;
    li.dataset.kind = x.kind;
    li.dataset.grade = x.grade ?? "";
    li.dataset.fingerprint = x.fingerprint;
    li.dataset.subject = x.subject_id ?? "";
    const time = span("time", clockText(new Date(x.at)));
    const grade = span("grade", x.grade ? t(`grade.${x.grade}`) : "·");
    if (x.grade) grade.style.background = GRADE_COLOURS[x.grade];
    const kind = span("kind", t(KINDS.has(x.kind) ? `kind.${x.kind}` : "kind.other"));
    const where = span("where", "");
    where.append(span("place", this.where(x)));
    if (x.subject_kind === "sensor") where.append(sensorLink(x.subject_id));
    li.append(time, grade, kind, where);
    return li;
  }

  where(x) {
    const code = x.subdistrict ?? x.subject_id;
    return named(this.places.get(code)) || code || "";
  }
}

function span(className, text) {
  const el = document.createElement("span");
  el.className = className;
  el.textContent = text;
  return el;
}

// The sensor's own page (/console/sensors/:sensor/): its metrics, thresholds and status history.
function sensorLink(sensorId) {
  const link = document.createElement("a");
  link.className = "subject";
  link.href = `/console/sensors/${encodeURIComponent(sensorId)}/`;
  link.textContent = sensorId;
  return link;
}
