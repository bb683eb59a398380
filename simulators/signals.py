"""Realistic, deterministic signal values for simulated sensors, driven by each metric's hints.

Every value is a pure function of (seed, sensor, metric, time): a restarted simulator, a replay or a
test asking for the same moment gets the same number, with no state to carry. Randomness comes
from blake2b over those inputs (never the global RNG, never `hash()`, which is salted per process).

- Gauges: baseline + daily_amplitude x profile + slow drift + per-sensor offset + noise, then the
  incident effect, then clamped to the physical range and rounded to the metric's precision.
- Counters: a closed-form integral of an hourly rate baseline x (1 + 0.8 x profile), so any moment
  costs the same and later moments never give smaller totals. Effects do not apply: scaling a
  cumulative register would make it run backwards; scenarios act on the matching rate gauge.
- States: Poisson events at event_rate_per_day, each 5-30 minutes long; an effect can force it.

Local time is Asia/Shanghai, a fixed UTC+8 with no daylight saving since 1991, so a fixed offset is
exact and avoids needing the tz database.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from schemas.sensor_type import Metric, MetricKind, MetricSimulation, Profile, SensorType
from simulators.model import NO_EFFECT, Effect, SimSensor

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
_OFFSET_S = 8 * 3600
_DAY_S = 86_400
_WEEK_S = 7 * _DAY_S
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
_TAU = 2.0 * math.pi
_U53 = 2.0**-53

# Slow weather-like drift: (period s, share of the amplitude, phase multiplier). Incommensurate
# periods keep it from looking periodic; the multipliers decorrelate the components of one sensor.
_DRIFT = ((5.3 * 3600, 0.5, 1.0), (27.7 * 3600, 0.3, 7.0), (3.9 * _DAY_S, 0.2, 13.0))

# Counters: how strongly the daily profile modulates the hourly rate, the table resolution, and
# where totals start counting (2024-01-01 00:00 Shanghai); a per-sensor start value is added so
# meters do not all read the same.
_COUNTER_SWING = 0.8
_COUNTER_STEP_S = 900
_COUNTER_ORIGIN_S = 1_704_038_400
_COUNTER_START_HOURS = 24 * 365

# States: event lengths, and the most events one time bucket can hold (buckets are sized so that
# on average at most half an event falls in one, so the cap loses < 0.2 % of events).
_EVENT_MIN_S = 300.0
_EVENT_MAX_S = 1800.0
_EVENTS_PER_BUCKET = 3

# Gauges without hints sit at the range midpoint with this much noise (fraction of the span).
_UNHINTED_NOISE = 0.005

_TWO_U64 = struct.Struct("<2Q")
_EIGHT_U64 = struct.Struct("<8Q")


def profile_shape(profile: Profile, local: datetime) -> float:
    """The daily shape in [-1, 1] (0 = the baseline level) at `local` (naive = Shanghai time)."""
    if local.tzinfo is not None:
        local = local.astimezone(SHANGHAI)
    hour = local.hour + local.minute / 60 + (local.second + local.microsecond / 1e6) / 3600
    return _shape(profile, hour, local.weekday())


def _clip(x: float) -> float:
    return -1.0 if x < -1.0 else 1.0 if x > 1.0 else x


def _smoothstep(x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return x * x * (3.0 - 2.0 * x)


def _bump(hour: float, centre: float, width: float) -> float:
    """A gaussian bump on the 24-hour circle, so a peak near midnight wraps instead of jumping."""
    distance = abs((hour - centre + 12.0) % 24.0 - 12.0)
    return math.exp(-0.5 * (distance / width) ** 2)


def _window(hour: float, rise_at: float, rise_h: float, fall_at: float, fall_h: float) -> float:
    """0 -> 1 over [rise_at, rise_at + rise_h], 1 until fall_at, back to 0 over fall_h hours."""
    since = (hour - rise_at) % 24.0
    on = (fall_at - rise_at) % 24.0
    if since < rise_h:
        return _smoothstep(since / rise_h)
    if since < on:
        return 1.0
    return 1.0 - _smoothstep((since - on) / fall_h)


def _cycle(hour: float, low_at: float, high_at: float) -> float:
    """-1 at low_at, +1 at high_at, half-cosines between: asymmetric rise and fall, no kinks."""
    rise = (high_at - low_at) % 24.0
    since = (hour - low_at) % 24.0
    if since <= rise:
        return -math.cos(math.pi * since / rise)
    return math.cos(math.pi * (since - rise) / (24.0 - rise))


def _water_demand(hour: float) -> float:
    # Day-long use plus the wash-and-cook peaks around 07:30 and 19:30; nearly nothing 01-05.
    level = (
        0.55 * _window(hour, 5.0, 3.0, 22.0, 3.0)
        + 0.45 * _bump(hour, 7.5, 1.2)
        + 0.35 * _bump(hour, 19.5, 1.5)
    )
    return _clip(2.0 * level / 0.95 - 1.0)


def _shape(profile: Profile, hour: float, weekday: int) -> float:
    # Weekday and weekend variants meet at the same night level, so midnight never jumps.
    workday = weekday < 5
    if profile is Profile.FLAT:
        return 0.0
    if profile is Profile.DAYTIME:
        return _cycle(hour, 5.0, 14.0)
    if profile is Profile.EVENING_PEAK:
        # Scaled past 1 and clipped: a plateau about 18-21 and a trough about 03-06, plus the
        # small breakfast bump residential feeders show.
        return _clip(1.1 * _cycle(hour, 4.0, 20.0) + 0.2 * _bump(hour, 7.5, 1.0))
    if profile is Profile.OFFICE_HOURS:
        if workday:
            return 2.0 * _window(hour, 7.0, 2.0, 18.0, 2.0) - 1.0
        return 0.6 * _window(hour, 9.0, 2.0, 17.0, 2.0) - 1.0
    if profile is Profile.COMMUTE:
        if workday:
            level = (
                0.3 * _window(hour, 6.5, 2.0, 20.0, 2.0)
                + 0.7 * _bump(hour, 8.5, 0.7)
                + 0.65 * _bump(hour, 18.25, 0.8)
            )
        else:
            level = 0.3 * _window(hour, 7.5, 2.0, 21.0, 2.0) + 0.25 * (
                _bump(hour, 11.0, 1.5) + _bump(hour, 17.5, 1.5)
            )
        return _clip(2.0 * level - 1.0)
    # Pressure in a main is the mirror of demand: it rises at night when little is drawn.
    demand = _water_demand(hour)
    return demand if profile is Profile.NIGHT_MINIMUM else -demand


def _clock(ts: float) -> tuple[float, int]:
    """(local hour of day, local weekday) for epoch seconds, without building a datetime."""
    days, second_of_day = divmod(ts + _OFFSET_S, _DAY_S)
    return second_of_day / 3600.0, (int(days) + _EPOCH_WEEKDAY) % 7


def _timestamp(at: datetime) -> float:
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()}: pass a time with a UTC offset")
    return at.timestamp()


def _drift(ts: float, phase: float) -> float:
    return sum(
        share * math.sin(_TAU * (ts / period + phase * multiplier))
        for period, share, multiplier in _DRIFT
    )


@dataclass(frozen=True, slots=True)
class _Spec:
    """One metric's hints flattened for the hot path (pydantic attribute access is slower)."""

    name: str
    kind: MetricKind
    hinted: bool
    baseline: float
    amplitude: float
    profile: Profile
    noise: float
    drift: float
    rate_per_day: float
    lo: float
    hi: float
    precision: int

    @classmethod
    def of(cls, name: str, metric: Metric) -> _Spec:
        lo, hi = metric.range.min, metric.range.max
        # Without hints: a state stays at its lowest (off); a gauge hovers mid-range.
        resting = lo if metric.kind is MetricKind.STATE else (lo + hi) / 2
        sim = metric.simulator or MetricSimulation(
            baseline=resting, noise=_UNHINTED_NOISE * (hi - lo)
        )
        return cls(
            name=name,
            kind=metric.kind,
            hinted=metric.simulator is not None,
            baseline=sim.baseline,
            amplitude=sim.daily_amplitude,
            profile=sim.profile,
            noise=sim.noise,
            drift=sim.drift,
            rate_per_day=sim.event_rate_per_day,
            lo=lo,
            hi=hi,
            precision=metric.precision,
        )

    def finish(self, value: float) -> float:
        value = min(max(value, self.lo), self.hi)
        # Rounding can step past a bound that is not on the precision grid; the range wins.
        return min(max(round(value, self.precision), self.lo), self.hi)


@dataclass(frozen=True, slots=True)
class _CounterTable:
    """Cumulative rate (in baseline-hours) over one Monday-based local week, per table step."""

    rates: tuple[float, ...]
    cumulative: tuple[float, ...]  # len(rates) + 1 entries; the last is one week's total

    @classmethod
    def of(cls, profile: Profile) -> _CounterTable:
        step_h = _COUNTER_STEP_S / 3600
        rates: list[float] = []
        cumulative = [0.0]
        for k in range(_WEEK_S // _COUNTER_STEP_S):
            # Monday-based steps; the rate is taken at each step's midpoint.
            hours = (k + 0.5) * step_h
            shape = _shape(profile, hours % 24.0, int(hours // 24.0))
            rates.append(max(0.0, 1.0 + _COUNTER_SWING * shape))
            cumulative.append(cumulative[-1] + rates[-1] * step_h)
        return cls(tuple(rates), tuple(cumulative))

    def hours(self, ts: float) -> float:
        """Baseline-hours accumulated since Monday 1970-01-05 00:00 local (the first whole week)."""
        weeks, position = divmod(ts + _OFFSET_S - (7 - _EPOCH_WEEKDAY) * _DAY_S, _WEEK_S)
        k = int(position // _COUNTER_STEP_S)
        within_h = (position - k * _COUNTER_STEP_S) / 3600
        return weeks * self.cumulative[-1] + self.cumulative[k] + self.rates[k] * within_h


class SignalModel:
    """Values of simulated sensors: one per simulator run, shared by all its sensors.

    It holds only caches derived from the sensor types, so concurrent use at worst fills a cache
    entry twice; every value depends on nothing but (seed, sensor, metric, time).
    """

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._specs: dict[int, tuple[SensorType, tuple[_Spec, ...], dict[str, _Spec]]] = {}
        self._tables: dict[Profile, tuple[_CounterTable, float]] = {}

    @property
    def seed(self) -> int:
        return self._seed

    def value(
        self, sensor: SimSensor, metric: str, at: datetime, effect: Effect = NO_EFFECT
    ) -> float:
        """A gauge reading at `at` (a time with a UTC offset)."""
        return self._gauge(
            self._spec(sensor, metric, MetricKind.GAUGE), sensor, _timestamp(at), effect
        )

    def counter(self, sensor: SimSensor, metric: str, at: datetime) -> float:
        """A counter's cumulative total at `at`; never smaller for a later `at`."""
        spec = self._spec(sensor, metric, MetricKind.COUNTER)
        if not spec.hinted:
            raise ValueError(f"{sensor.type_name}.{metric}: a counter needs simulator hints")
        return self._counter(spec, sensor, _timestamp(at))

    def state(
        self, sensor: SimSensor, metric: str, at: datetime, effect: Effect = NO_EFFECT
    ) -> float:
        """A state metric at `at`: 0 or 1."""
        return self._state(
            self._spec(sensor, metric, MetricKind.STATE), sensor, _timestamp(at), effect
        )

    def reading(
        self, sensor: SimSensor, at: datetime, effects: Mapping[str, Effect] | None = None
    ) -> dict[str, float]:
        """Every simulated metric of the sensor at `at`; `effects` by metric name."""
        ts = _timestamp(at)
        effects = effects or {}
        values: dict[str, float] = {}
        for spec in self._type_specs(sensor.sensor_type)[0]:
            effect = effects.get(spec.name, NO_EFFECT)
            if spec.kind is MetricKind.GAUGE:
                values[spec.name] = self._gauge(spec, sensor, ts, effect)
            elif spec.kind is MetricKind.STATE:
                values[spec.name] = self._state(spec, sensor, ts, effect)
            elif spec.hinted:  # a counter without hints has no rate to integrate
                values[spec.name] = self._counter(spec, sensor, ts)
        return values

    # -- internals ---------------------------------------------------------------------------

    def _type_specs(self, sensor_type: SensorType) -> tuple[tuple[_Spec, ...], dict[str, _Spec]]:
        cached = self._specs.get(id(sensor_type))
        if cached is None or cached[0] is not sensor_type:
            specs = tuple(_Spec.of(name, m) for name, m in sensor_type.metrics.items())
            cached = (sensor_type, specs, {s.name: s for s in specs})
            self._specs[id(sensor_type)] = cached
        return cached[1], cached[2]

    def _spec(self, sensor: SimSensor, metric: str, kind: MetricKind) -> _Spec:
        spec = self._type_specs(sensor.sensor_type)[1].get(metric)
        if spec is None:
            raise KeyError(f"sensor type {sensor.type_name!r} has no metric {metric!r}")
        if spec.kind is not kind:
            raise ValueError(
                f"{sensor.type_name}.{metric} is a {spec.kind.value}, not a {kind.value}"
            )
        return spec

    def _digest(self, tag: str, sensor_id: str, metric: str, n: int, size: int) -> bytes:
        text = f"{tag}:{self._seed}:{sensor_id}:{metric}:{n}"
        return hashlib.blake2b(text.encode(), digest_size=size).digest()

    def _gauss(self, sensor_id: str, metric: str, second: int) -> float:
        # Box-Muller from two 53-bit uniforms; u1 is in (0, 1] so the log is finite.
        a, b = _TWO_U64.unpack(self._digest("n", sensor_id, metric, second, 16))
        u1 = ((a >> 11) + 1) * _U53
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TAU * (b >> 11) * _U53)

    def _gauge(self, spec: _Spec, sensor: SimSensor, ts: float, effect: Effect) -> float:
        value = spec.baseline + sensor.offsets.get(spec.name, 0.0)
        if spec.amplitude:
            hour, weekday = _clock(ts)
            value += spec.amplitude * _shape(spec.profile, hour, weekday)
        if spec.drift:
            value += spec.drift * _drift(ts, sensor.phase)
        if spec.noise:
            value += spec.noise * self._gauss(sensor.id, spec.name, math.floor(ts))
        if effect.weight:
            value = effect.apply(value)
        return spec.finish(value)

    def _table(self, profile: Profile) -> tuple[_CounterTable, float]:
        cached = self._tables.get(profile)
        if cached is None:
            table = _CounterTable.of(profile)
            cached = self._tables[profile] = (table, table.hours(_COUNTER_ORIGIN_S))
        return cached

    def _counter(self, spec: _Spec, sensor: SimSensor, ts: float) -> float:
        table, origin_hours = self._table(spec.profile)
        rate = max(0.0, spec.baseline + sensor.offsets.get(spec.name, 0.0))
        a, _ = _TWO_U64.unpack(self._digest("c", sensor.id, spec.name, 0, 16))
        start = (a >> 11) * _U53 * spec.baseline * _COUNTER_START_HOURS
        # max(0, ...) keeps times before the origin at zero rather than negative (still monotone).
        return spec.finish(start + rate * max(0.0, table.hours(ts) - origin_hours))

    def _state(self, spec: _Spec, sensor: SimSensor, ts: float, effect: Effect) -> float:
        normal = 1.0 if spec.baseline >= 0.5 else 0.0
        value = 1.0 - normal if self._in_event(spec, sensor.id, ts) else normal
        if effect.weight:
            value = effect.apply(value)
        # A ramping effect passes through fractions; a state is either on or off.
        return spec.finish(1.0 if value >= 0.5 else 0.0)

    def _in_event(self, spec: _Spec, sensor_id: str, ts: float) -> bool:
        if spec.rate_per_day <= 0.0:
            return False
        # Buckets hold half an event on average (at most an hour); events that started in an
        # earlier bucket can last into this one, so look back far enough to cover the longest.
        bucket_s = max(60.0, min(3600.0, _DAY_S / 2 / spec.rate_per_day))
        mean = spec.rate_per_day * bucket_s / _DAY_S
        current = math.floor(ts / bucket_s)
        for bucket in range(current - math.ceil(_EVENT_MAX_S / bucket_s), current + 1):
            words = _EIGHT_U64.unpack(self._digest("s", sensor_id, spec.name, bucket, 64))
            for k in range(_poisson(words[0] * 2.0**-64, mean)):
                start = (bucket + (words[1 + 2 * k] >> 11) * _U53) * bucket_s
                length = _EVENT_MIN_S + (words[2 + 2 * k] >> 11) * _U53 * (
                    _EVENT_MAX_S - _EVENT_MIN_S
                )
                if start <= ts < start + length:
                    return True
        return False


def _poisson(u: float, mean: float) -> int:
    """Inverse CDF of a Poisson count, capped at what one bucket's digest can describe."""
    probability = math.exp(-mean)
    cumulative = probability
    n = 0
    while u > cumulative and n < _EVENTS_PER_BUCKET:
        n += 1
        probability *= mean / n
        cumulative += probability
    return n
