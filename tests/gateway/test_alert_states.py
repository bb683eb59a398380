"""The gateway's alert output names an enumerated state's value (label, zh, en) and leaves
every other alert's `state` empty."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.routes.alerts import alert_out
from schemas.type_validator import TypeValidator
from tests.alerts.timed_types import DARK, FAULT, timed_registry

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _row(value: float, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "fingerprint": "f" * 16,
        "rule_id": "default:streetlight:lamp:state_in",
        "subject_kind": "sensor",
        "subject_id": "yp-sl-0001",
        "domain": "power",
        "subdistrict": "wujiaochang",
        "phase": "firing",
        "grade": "orange",
        "value": value,
        "pending_since": T0,
        "firing_since": T0,
        "resolved_at": None,
        "grade_changed_at": T0,
        "ops": "open",
        "acknowledged_by": None,
        "acknowledged_at": None,
        "assignee": None,
        "note": None,
        "closed_at": None,
        "labels": labels,
        "updated_at": T0,
    }


def test_a_state_alert_shows_its_state_and_others_do_not(tmp_path: Path) -> None:
    types = {t.name: TypeValidator(t) for t in timed_registry(tmp_path)}
    lamp = {"type": "streetlight", "metric": "lamp", "sensor": "yp-sl-0001"}
    out = alert_out(_row(FAULT, lamp), types)
    assert out.state is not None
    assert (out.state.label, out.state.zh, out.state.en) == ("fault", "故障", "Fault")
    dark = alert_out(_row(DARK, lamp), types).state
    assert dark is not None
    assert (dark.label, dark.zh, dark.en) == ("dark", "dark", "dark")
    noise = {"type": "noise_monitor", "metric": "laeq", "sensor": "yp-nm-0001"}
    assert alert_out(_row(2.0, noise), types).state is None
    unknown_type = {"type": "gone", "metric": "lamp", "sensor": "yp-sl-0001"}
    assert alert_out(_row(FAULT, unknown_type), types).state is None
