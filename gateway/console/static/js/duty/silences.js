// The silences in force over one alert: /v1/silences's matchers (Alertmanager's syntax, as the
// API writes them back: label=value, !=, =~, !~) against the alert's labels and its grade, as
// the alert engine matches them (alerts/notify/silences.py), so the page says "silenced until".
import { api } from "../api.js";

const MATCHER = /^\s*([a-z_]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

export async function silencesOver(alert) {
  const silences = await api("/v1/silences");
  const labels = { ...alert.labels, grade: alert.grade ?? "" };
  return silences.filter((s) => s.active && s.matchers.every((m) => matches(m, labels)));
}

function matches(text, labels) {
  const found = MATCHER.exec(text);
  if (!found) return false;
  const [, name, op, value] = found;
  const actual = labels[name] ?? "";
  if (op === "=") return actual === value;
  if (op === "!=") return actual !== value;
  let pattern;
  try {
    pattern = new RegExp(`^(?:${value})$`);
  } catch {
    return false; // the API refuses bad patterns: none is stored
  }
  return pattern.test(actual) === (op === "=~");
}
