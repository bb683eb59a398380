"""Grafana dashboards and provisioning as code, generated from the registry.

Not built yet (issue 7).
"""
