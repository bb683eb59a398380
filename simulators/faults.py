"""Device faults, decided deterministically from the seed so a run can be replayed exactly.

Rates are probabilities: `per day` ones pick sensors and windows, `per report` ones pick
individual reports. Each fault exercises a different defence of the platform: dropout (offline
detection), stuck value and drift (flatline and trend rules), spikes (range checks and
hysteresis), duplicates and late delivery (idempotent writes, late data in rollups), clock skew
(future timestamps), malformed payloads (dead letters).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DAY_S = 86_400.0


def unit(*parts: object) -> float:
    """A deterministic uniform number in [0, 1) for the given key (stable across processes)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64


@dataclass(frozen=True)
class FaultRates:
    dropout_per_day: float = 0.0  # chance a sensor goes silent for 1-4 h on a given day
    stuck_per_day: float = 0.0  # chance its values freeze for 1-6 h on a given day
    drifting_sensors: float = 0.0  # share of sensors whose calibration drifts (2 %/day)
    skewed_clocks: float = 0.0  # share of sensors whose clock is 2-10 min off
    spike: float = 0.0  # chance a report carries a spike
    duplicate: float = 0.0  # chance a report is sent twice
    late: float = 0.0  # chance a report is delayed 1-10 min (arrives out of order)
    malformed: float = 0.0  # chance a report's payload is corrupted

    @classmethod
    def realistic(cls) -> FaultRates:
        """Rates in the range ops centres report for NB-IoT/LoRa fleets."""
        return cls(
            dropout_per_day=0.02,
            stuck_per_day=0.005,
            drifting_sensors=0.01,
            skewed_clocks=0.005,
            spike=0.0005,
            duplicate=0.002,
            late=0.002,
            malformed=0.0005,
        )


class Faults:
    def __init__(self, rates: FaultRates, seed: int) -> None:
        self.rates = rates
        self._seed = seed

    def _window(
        self, kind: str, rate: float, sensor: str, t: float, hours: tuple[float, float]
    ) -> tuple[float, float] | None:
        day = int(t // DAY_S)
        for d in (day - 1, day):  # a window may start late on the previous day
            if unit(self._seed, kind, sensor, d) < rate:
                start = d * DAY_S + unit(self._seed, kind, "start", sensor, d) * DAY_S
                length = 3600 * (
                    hours[0] + (hours[1] - hours[0]) * unit(self._seed, kind, "len", sensor, d)
                )
                if start <= t < start + length:
                    return start, start + length
        return None

    def silent(self, sensor: str, t: float) -> tuple[float, float] | None:
        """The dropout window holding `t` (epoch seconds), if the sensor is silent then."""
        return self._window("dropout", self.rates.dropout_per_day, sensor, t, (1, 4))

    def stuck_since(self, sensor: str, t: float) -> float | None:
        window = self._window("stuck", self.rates.stuck_per_day, sensor, t, (1, 6))
        return None if window is None else window[0]

    def drift_fraction(self, sensor: str, t: float) -> float:
        """Relative calibration error at `t` for drifting sensors (grows 2 % a day)."""
        if unit(self._seed, "drift", sensor) >= self.rates.drifting_sensors:
            return 0.0
        sign = 1 if unit(self._seed, "drift-sign", sensor) < 0.5 else -1
        return sign * 0.02 * (t % (30 * DAY_S)) / DAY_S

    def clock_skew_s(self, sensor: str) -> float:
        if unit(self._seed, "skew", sensor) >= self.rates.skewed_clocks:
            return 0.0
        size = 120 + 480 * unit(self._seed, "skew-size", sensor)
        return size if unit(self._seed, "skew-sign", sensor) < 0.5 else -size

    def spike_factor(self, sensor: str, t: float) -> float | None:
        if unit(self._seed, "spike", sensor, t) >= self.rates.spike:
            return None
        return 1.5 + 1.5 * unit(self._seed, "spike-size", sensor, t)

    def duplicated(self, sensor: str, t: float) -> bool:
        return unit(self._seed, "dup", sensor, t) < self.rates.duplicate

    def delay_s(self, sensor: str, t: float) -> float:
        if unit(self._seed, "late", sensor, t) >= self.rates.late:
            return 0.0
        return 60 + 540 * unit(self._seed, "late-size", sensor, t)

    def malformed(self, sensor: str, t: float) -> bool:
        return unit(self._seed, "malformed", sensor, t) < self.rates.malformed


def corrupt(payload: bytes, key: float) -> bytes:
    """Plausible ways firmware and radios break a payload."""
    kinds = (
        payload[: max(1, len(payload) // 2)],  # truncated in transit
        payload.replace(b'"metrics"', b'"metircs"'),  # firmware typo
        payload.replace(b"{", b"\xff{", 1),  # a stray byte: not UTF-8
        b"",  # empty publish
    )
    return kinds[int(key * len(kinds)) % len(kinds)]
