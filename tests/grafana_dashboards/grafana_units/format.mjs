// Grafana's own unit formatting, for tests/grafana_dashboards/test_units.py.
//
// Reads one JSON object on stdin:
//   {"format": [[unit, value, decimals|null], ...], "known": [unit, ...]}
// and writes one JSON object on stdout:
//   {"version": "11.6.0",
//    "format": [{"text", "prefix", "suffix", "shown"}, ...],   // in the order asked
//    "known": {unit: "builtin" | "custom" | "unknown"}}
// All inputs go through one Node process: loading @grafana/data takes most of the time.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// @grafana/data is built for browsers: its ES module build names files without extensions (which
// Node's loader refuses) and a few modules read browser globals while loading or formatting. The
// CommonJS build loads under Node with these stubbed; nothing in unit formatting uses more.
globalThis.window = globalThis;
Object.defineProperty(globalThis, 'navigator', {
  value: { language: 'en-US', languages: ['en-US'], userAgent: 'node' },
  configurable: true,
});

const grafana = require('@grafana/data');
const { version } = require('@grafana/data/package.json');

// The custom unit kinds getValueFormat() of 11.6.0 reads before the colon ("suffix:m"); any other
// id not in its index is printed literally after the number, as Grafana does with an unknown id.
const CUSTOM_KINDS = new Set(['prefix', 'suffix', 'time', 'si', 'count', 'currency', 'bool']);

function kind(unit, index) {
  if (Object.prototype.hasOwnProperty.call(index, unit)) {
    return 'builtin';
  }
  const colon = unit.indexOf(':');
  return colon > 0 && CUSTOM_KINDS.has(unit.slice(0, colon)) ? 'custom' : 'unknown';
}

function format([unit, value, decimals]) {
  const formatted = grafana.getValueFormat(unit)(value, decimals ?? undefined);
  return {
    text: formatted.text,
    prefix: formatted.prefix ?? '',
    suffix: formatted.suffix ?? '',
    shown: grafana.formattedValueToString(formatted),
  };
}

const request = JSON.parse(readFileSync(0, 'utf8'));
const index = grafana.getValueFormatterIndex();
const known = Object.fromEntries((request.known ?? []).map((unit) => [unit, kind(unit, index)]));
process.stdout.write(JSON.stringify({ version, format: (request.format ?? []).map(format), known }));
