"""Enumerated states: labels in place of index numbers wherever people read or write them.

A state metric may declare `states: [free, occupied, reserved, unknown]`; the stored value is the
label's index. `state_names` may give some labels words for people ({fault: {zh: 故障, en:
Fault}}); a label without one is shown as it is. Rules name labels (`state_in: [fault]`), never
index numbers, and alert texts show labels, never a "count" or a bare number.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from schemas.sensor_type import Metric

__all__ = ["check_labels", "check_state_metric", "state_label", "state_names"]

Finding = tuple[str, str]


def state_names(metric: Metric) -> tuple[tuple[str, str], ...]:
    """(zh, en) per state index; () when `metric` is not an enumerated state."""
    if not metric.states:
        return ()
    names = metric.state_names or {}
    return tuple(
        (names[label].zh, names[label].en) if label in names else (label, label)
        for label in metric.states
    )


def state_label(names: Sequence[tuple[str, str]], value: float | None) -> tuple[str, str] | None:
    """The (zh, en) name of a stored state value; None when it is no declared state's index."""
    if value is None or not names or value != int(value) or not 0 <= value < len(names):
        return None
    return names[int(value)]


def check_labels(key: str, labels: Sequence[str], metric: Metric, where: str) -> Iterator[Finding]:
    """Each of `labels` must be one of `metric`'s states; `where` names the metric in messages."""
    if not metric.states:
        yield key, f"{where} declares no states: state_in needs 'states: [...]' on the metric"
        return
    declared = ", ".join(metric.states)
    seen: set[str] = set()
    for index, label in enumerate(labels):
        if label not in metric.states:
            yield f"{key}[{index}]", f"{label!r} is not a state of {where} (declared: {declared})"
        elif label in seen:
            yield f"{key}[{index}]", f"{label!r} is listed twice"
        seen.add(label)


def check_state_metric(key: str, metric: Metric) -> Iterator[Finding]:
    """The names of one metric's states and its state_in thresholds."""
    thresholds = metric.thresholds
    state_in = thresholds.state_in if thresholds is not None else None
    if metric.states is None:
        if metric.state_names is not None:
            yield f"{key}.state_names", "names of states need 'states: [...]' on the metric"
        if state_in is not None:
            yield from check_labels(
                f"{key}.thresholds.state_in.labels", state_in.labels, metric, key
            )
        return
    # The labels themselves (snake_case, unique, at least two, range 0..n-1) are checked with
    # the rest of the metric in schemas/validation.py; here what rules and texts rely on.
    seen = set(metric.states)
    for label in metric.state_names or {}:
        if label not in seen:
            yield (
                f"{key}.state_names.{label}",
                f"{label!r} is not a state of {key} (declared: {', '.join(metric.states)})",
            )
    if thresholds is not None and (thresholds.above is not None or thresholds.below is not None):
        yield (
            f"{key}.thresholds",
            "'above'/'below' would compare state index numbers; name the states with state_in",
        )
    if state_in is not None:
        yield from check_labels(f"{key}.thresholds.state_in.labels", state_in.labels, metric, key)
