"""Bar gauges of a metric's value by subdistrict are drawn on the metric's physical range from
the registry: without min/max Grafana scales the bars to the values shown, and the lowest
subdistrict's bar is drawn empty however healthy it is."""

from __future__ import annotations

from grafana_dashboards.domains import now_panel
from grafana_dashboards.i18n import Lang
from schemas.registry import Registry
from schemas.sensor_type import MetricKind


def test_value_bars_span_the_registrys_range(registry: Registry) -> None:
    checked = 0
    for sensor_type in registry:
        for metric_name, metric in sensor_type.metrics.items():
            field_config = now_panel(sensor_type, metric_name, Lang.ZH).build().field_config
            assert field_config is not None
            defaults = field_config.defaults
            bounds = (defaults.min_val, defaults.max_val)
            if metric.kind is MetricKind.COUNTER or metric.states is not None:
                assert bounds == (None, None), metric_name  # counts: Grafana's own scale
                continue
            expected = (metric.range.min, metric.range.max)
            assert bounds == expected, (sensor_type.name, metric_name)
            checked += 1
    assert checked > 20  # every shipped type has value metrics
