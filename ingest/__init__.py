"""MQTT ingest, top to bottom: `transport/` (the MQTT codec and client) -> `service.py` (the
inbox, batches, acknowledgements after commit) -> `resolve.py` (messages to readings, dead
letters and status changes) -> `storage.writer` (one transaction per batch). `config.py` is what
the composition root hands in; `retrying.py` the one way in-process work waits out an outage.

Imports schemas and storage, never alerts, gateway or cityvitals (`make lint` checks it).
"""
