// Labels in Chinese (the default) and English, from i18n/<lang>.json. Every text a person reads
// comes from a label key; tests/console/test_labels.py checks that both files have every key.
const LANGS = ["zh", "en"];
const STORE = "cityvitals.lang";
let lang = "zh";
let labels = {};

export async function loadLabels() {
  const stored = localStorage.getItem(STORE);
  lang = LANGS.includes(stored) ? stored : "zh";
  const answer = await fetch(`/console/assets/i18n/${lang}.json`, { cache: "no-cache" });
  if (!answer.ok) throw new Error(`labels ${lang}: HTTP ${answer.status}`);
  labels = await answer.json();
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export function currentLang() {
  return lang;
}

export async function switchLang() {
  localStorage.setItem(STORE, lang === "zh" ? "en" : "zh");
  await loadLabels();
}

// The label `key` with {name} placeholders filled; a missing key shows itself, plainly.
export function t(key, values = {}) {
  const text = labels[key];
  if (text === undefined) return `[${key}]`;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

// A place or type in the current language (objects with name_zh / name_en).
export function named(thing) {
  if (!thing) return "";
  return (lang === "zh" ? thing.name_zh : thing.name_en) || thing.name_zh || thing.code || "";
}

// Fills every [data-i18n] element's text (and [data-i18n-placeholder], [data-i18n-title]).
export function applyLabels(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

export function clockText(date) {
  return date.toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB", { hour12: false });
}
