"""HTTP API: registry, readings, alerts, HTTP ingest, live stream, access control.

Not built yet (issue 6).
"""
