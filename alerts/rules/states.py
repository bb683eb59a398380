"""Rules on enumerated states: `state_in` names labels, checked against the metric's states.

    rules:
      - id: streetlight_fault
        type: streetlight
        metric: lamp
        state_in: {labels: [fault], grade: orange}   # or `state_in: [fault]`: yellow
        hold: 2m

The condition holds while the stored value (the label's index) is one of the labels' indexes.
"""

from __future__ import annotations

from alerts.file_problems import Report
from alerts.rules.rule import Condition, state_condition
from alerts.rules.specs import StateInForm, StateInSpec, state_in_spec
from schemas.sensor_type import Metric
from schemas.states import check_labels

__all__ = ["state_in_condition"]


def state_in_condition(
    at: Report, form: StateInForm, metric: Metric | None, metric_name: str
) -> Condition | None:
    """The state_in condition, or None with each unknown label reported (naming the metric's
    declared states)."""
    if metric is None:
        return None  # the unknown metric is reported already
    spec = state_in_spec(form)
    key = "state_in.labels" if isinstance(form, StateInSpec) else "state_in"
    found = list(check_labels(key, spec.labels, metric, metric_name))
    for where, message in found:
        at(where, message)
    if found or metric.states is None:
        return None
    return state_condition(metric.states, spec.labels, spec.grade)
