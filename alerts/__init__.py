"""Alert engine: rules, the pure alert state machine, evaluation ticks, the notification outbox and
webhook delivery. Imports schemas and storage, never gateway or ingest.

Where to start: `rules.py` (what a rule is), `state.py` (the state machine), `core.py` (one tick),
`engine.py` (the service: leadership, reloads, delivery), `notifier.py` (which messages a tick
sends) and `receivers.py` (who hears about what).
"""
