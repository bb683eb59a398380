"""Sensor types written only for the schedule and state tests (the shipped environment types
come with another branch): a GB 3096-2008 noise monitor with day/night/weekend limits, and a
streetlight whose lamp is an enumerated state."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schemas.registry import Registry, load_registry

# Class-2 area (mixed residential/commercial): 60 dB(A) by day, 50 at night; yellow is 5 under
# the limit, red 10 over. Weekends are quieter by day. Night (listed first) wins on weekend nights.
NOISE = """
name: noise_monitor
domain: buildings
display_name: {zh: 噪声监测仪, en: Noise monitor}
description: Sound level meter on a lamp post (GB 3096-2008, class-2 area).
reporting_interval: 60s
metrics:
  laeq:
    display_name: {zh: 等效声级, en: Equivalent sound level}
    unit: dB(A)
    range: {min: 20, max: 130}
    precision: 1
    thresholds:
      above: {yellow: 55, orange: 60, red: 70, hold: 5m}
      schedules:
        night: {time: "22:00-06:00", above: {yellow: 45, orange: 50, red: 60}}
        weekend: {days: [sat, sun], above: {yellow: 50, orange: 55, red: 65}}
"""

STREETLIGHT = """
name: streetlight
domain: power
display_name: {zh: 路灯控制器, en: Streetlight controller}
description: Single-lamp controller reporting the lamp's state.
reporting_interval: 60s
metrics:
  lamp:
    display_name: {zh: 灯具状态, en: Lamp}
    unit: bool
    kind: state
    states: [lit, dark, fault]
    state_names: {fault: {zh: 故障, en: Fault}, lit: {zh: 亮灯, en: Lit}}
    range: {min: 0, max: 2}
    precision: 0
    thresholds:
      state_in: {labels: [fault], grade: orange}
"""

LIT, DARK, FAULT = 0.0, 1.0, 2.0
# Local (Asia/Shanghai, UTC+8) wall-clock times of a week in November 2026: Wednesday the 25th to
# Sunday the 29th.
SHANGHAI_OFFSET = timedelta(hours=8)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of `hour:minute` Shanghai time on 2026-11-`day` (25 is a Wednesday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - SHANGHAI_OFFSET


def types_folder(directory: Path, **extra: str) -> Path:
    """A sensor-types folder with the two types (and `extra` files by name)."""
    folder = directory / "sensor_types"
    folder.mkdir(parents=True, exist_ok=True)
    files = {"noise_monitor.yaml": NOISE, "streetlight.yaml": STREETLIGHT, **extra}
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def timed_registry(directory: Path) -> Registry:
    return load_registry(types_folder(directory))
