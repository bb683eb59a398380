"""HTTP API: registry, sensors, readings, vital signs, alerts, HTTP ingest, live stream, keys.

`gateway.app.create_app(config)` builds the FastAPI application; its lifespan creates the
database pool and everything else once and keeps it on `app.state.gateway` (no globals). Every
endpoint but /healthz and /readyz needs an API key (`gateway.keys`, roles in `gateway.auth`).
"""
