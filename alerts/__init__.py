"""Alert engine: rules, the pure alert state machine, evaluation ticks, the notification outbox and
webhook delivery. Imports schemas and storage, never gateway, ingest or cityvitals.

Three rooms and a store, each one concept:

    rules/    what to watch: the rule model, the defaults from the sensor types, rule files
              (loading, checking), the rule set in effect; the shipped rule files sit there too
    notify/   who hears what and how: planning messages per group, routing to receivers,
              escalation, silences, rendering (webhook, robots, texts), signing, delivery
    store/    the only code that reads or writes the alert tables (SQL)
    engine/   the state machine, the city in memory, binding rules to sensors, evaluation,
              the tick, the service (leadership, reloads, the delivery loop), the ops actions

Dependencies point one way (tests/alerts/test_layers.py checks it):

    engine  ->  store  ->  notify | rules  ->  model, errors, file_problems

rules and notify know nothing of each other, of the database or of the engine; the store knows
their shapes (a Notification, a Silence) but not the engine; the engine drives them all.
`model.py` holds the shapes everyone shares (Alert, Transition, Subject), `errors.py` the error
tree, `file_problems.py` how a YAML file's problems are reported. Grades and their order come from
`schemas.grades`.

Where to start: `rules/rule.py` (what a rule is), `engine/state.py` (the state machine),
`engine/core.py` (one tick), `engine/service.py` (the service), `notify/planning.py` (which
messages a tick sends), `notify/receivers.py` (who hears about what) and `store/__init__.py`.
"""
