// Grafana's own display of a value (its text and colour), for tests/grafana_dashboards/
// test_grade_colours.py: the field config a panel gives a value (defaults with its overrides
// applied) goes through @grafana/data's getDisplayProcessor, which applies value mappings and
// threshold steps the way a stat, bar gauge or table cell does.
//
// Reads one JSON object on stdin:
//   {"display": [{"config": {...fieldConfig...}, "type": "number"|"string", "value": ...}, ...],
//    "colours": ["red", ...]}
// and writes {"display": [{"text", "color"}, ...], "colours": {"red": "#F2495C", ...}}: the
// colours as the dark theme draws them, so names and hex codes can be compared.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// The same browser globals as format.mjs needs (see there).
globalThis.window = globalThis;
Object.defineProperty(globalThis, 'navigator', {
  value: { language: 'en-US', languages: ['en-US'], userAgent: 'node' },
  configurable: true,
});

const grafana = require('@grafana/data');
const theme = grafana.createTheme();

function display({ config, type, value }) {
  const field = { name: 'value', type, values: [value], config };
  const shown = grafana.getDisplayProcessor({ field, theme })(value);
  return { text: shown.text, color: shown.color };
}

const request = JSON.parse(readFileSync(0, 'utf8'));
const colours = Object.fromEntries(
  (request.colours ?? []).map((name) => [name, theme.visualization.getColorByName(name)]),
);
process.stdout.write(JSON.stringify({ display: (request.display ?? []).map(display), colours }));
