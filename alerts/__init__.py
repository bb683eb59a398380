"""Alert engine: rules, the pure alert state machine, evaluation loop, outbox and webhooks.

Not built yet (issue 5). Imports schemas and storage, never gateway or ingest.
"""
