"""MQTT ingest: decode, validate against the registry, batch, write, ack after commit.

Not built yet (issue 3); the package exists so the dependency direction is fixed from the start:
ingest imports schemas and storage, never alerts or gateway.
"""
