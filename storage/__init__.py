"""The database: migrations, TimescaleDB or plain-PostgreSQL storage, the batch writer, queries.

Knows nothing about MQTT or HTTP. Pools are created by the caller and passed in.
"""
