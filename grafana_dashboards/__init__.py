"""Grafana dashboards and provisioning as code, generated from the sensor-type registry.

`generate.build_dashboards(registry)` is what the walls are (built with the Grafana foundation
SDK; panel SQL in `sql.py`); `zh/` and `en/` hold its output, committed and checked by
`cityvitals grafana export --check`; `push.py` uploads it over the Grafana HTTP API.
"""
