"""The engine: from readings to alert transitions, tick by tick, as a service.

    state.py      the pure state machine: (rule, alert, observation, now) -> (alert, transitions)
    city.py       what the engine knows of the city between ticks, as arrays
    bindings.py   which sensors each rule watches, worked out per rule set and catalogue
    evaluator.py  one evaluation of every bound rule: observations, steps, changes
    describe.py   an alert in words for notify (NotifyAlert), from its rule and the registry
    core.py       the tick: read, evaluate, plan messages, commit in one transaction, then believe
    outbox.py     the leading engine's delivery loop over the stored outbox
    service.py    `Engine` and `EngineConfig`: leadership, aligned ticks, reloads, delivery
    ops.py        the ops centre's actions on stored alerts, and creating silences
    metrics.py    the process's Prometheus metrics

Time is a parameter everywhere below the service; the service reads the clock and aligns ticks.
"""
