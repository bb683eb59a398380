"""MQTT ingest: decode, validate against the registry, batch, write, ack after commit.

Imports schemas and storage, never alerts or gateway.
"""
