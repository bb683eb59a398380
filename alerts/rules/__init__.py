"""Rules: what to watch, when it is bad enough, and how it calms down again.

    rule.py      the rule model: conditions, grade levels with hysteresis, timing, scope
    defaults.py  the rules derived from the sensor types (no rule file needed for a new type)
    specs.py     the shape of a rule file (pydantic)
    checks.py    the cross-field checks, each problem naming its file and key
    files.py     loading a folder of rule files onto the defaults (the format, with an example)
    schedules.py other levels by night or at weekends, in rule files
    states.py    state_in: rules on the labels of an enumerated state
    rule_set.py  the rules in effect, and which one applies to a subject

The YAML files next to these modules are the shipped rule files (`alerts.rules_dir`'s default).
Rules are data: frozen and comparable, so a reload can tell what changed. Nothing here imports
the engine, the store or notify.
"""
