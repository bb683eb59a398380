"""The simulation engine: deterministic, time-ordered traffic with faults and incidents."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import orjson

from schemas.registry import Registry
from simulators.engine import ScheduledScenario, Simulation
from simulators.faults import FaultRates
from simulators.fleet import build_fleet
from simulators.scenarios import load_scenarios
from simulators.signals import SignalModel

START = datetime(2026, 7, 20, 0, 0, tzinfo=UTC)


def _simulation(registry: Registry, seed: int, faults: FaultRates | None = None) -> Simulation:
    fleet = build_fleet(registry, size=600, seed=seed)
    scenarios = load_scenarios(registry)
    schedule = [ScheduledScenario(scenarios["water_main_burst"], START + timedelta(hours=2))]
    return Simulation(fleet, SignalModel(seed), seed=seed, faults=faults, scenarios=schedule)


def _stream(simulation: Simulation, hours: float) -> list[tuple[float, str, bytes, bool]]:
    end = START + timedelta(hours=hours)
    return [(m.at, m.topic, m.payload, m.retain) for m in simulation.run(START, end)]


def test_same_seed_same_scenario_gives_identical_payload_stream(registry: Registry) -> None:
    faults = FaultRates.realistic()
    first = _stream(_simulation(registry, 42, faults), 3)
    second = _stream(_simulation(registry, 42, faults), 3)
    assert len(first) > 10_000
    assert first == second
    other = _stream(_simulation(registry, 43, faults), 3)
    assert other != first


def test_messages_come_in_send_order_and_every_sensor_reports(registry: Registry) -> None:
    simulation = _simulation(registry, 1)
    stream = _stream(simulation, 1)
    times = [at for at, *_ in stream]
    assert times == sorted(times)
    assert START.timestamp() <= times[0]
    assert times[-1] < (START + timedelta(hours=1)).timestamp()
    topics = {topic for _, topic, _, _ in stream}
    # Every sensor whose interval fits in the hour has reported at least once.
    expected = {s.id for s in simulation.fleet if s.interval_s <= 3600}
    assert expected <= {topic.split("/")[4] for topic in topics}


def test_reports_follow_the_payload_contract(registry: Registry) -> None:
    simulation = _simulation(registry, 1)
    for _, topic, payload, retain in itertools.islice(_stream(simulation, 1), 500):
        assert topic.startswith("city/v1/")
        assert topic.endswith("/telemetry")
        assert not retain
        body = orjson.loads(payload)
        assert set(body) == {"ts", "seq", "metrics"}
        assert isinstance(body["ts"], int)
        assert body["metrics"]


def test_faults_show_up_at_their_rates(registry: Registry) -> None:
    rates = FaultRates(duplicate=0.05, late=0.05, malformed=0.05, dropout_per_day=0.5)
    stream = _stream(_simulation(registry, 5, rates), 12)
    telemetry = [(t, p) for t, topic, p, _ in stream if topic.endswith("/telemetry")]
    payloads = Counter(p for _, p in telemetry)
    duplicates = sum(n - 1 for n in payloads.values())
    assert 0.02 < duplicates / len(telemetry) < 0.08
    broken = 0
    for _, payload in telemetry:
        try:
            orjson.loads(payload)["metrics"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            broken += 1
    assert 0.02 < broken / len(telemetry) < 0.08
    late = sum(1 for t, p in telemetry if _sent_late(t, p))
    assert late > 0
    statuses = [p for _, topic, p, _ in stream if topic.endswith("/status")]
    assert any(b'"offline"' in s for s in statuses)  # dropouts announce themselves
    assert any(b'"online"' in s for s in statuses)  # and recoveries


def _sent_late(sent_at: float, payload: bytes) -> bool:
    try:
        ts = float(orjson.loads(payload)["ts"]) / 1000
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return False
    return sent_at - ts > 30


def test_births_and_deaths_are_retained_status_for_every_sensor(registry: Registry) -> None:
    simulation = _simulation(registry, 1)
    births = simulation.births(START)
    assert len(births) == len(simulation.fleet)
    assert all(m.retain and m.topic.endswith("/status") for m in births)
    assert all(orjson.loads(m.payload)["state"] == "online" for m in births)
    assert {orjson.loads(m.payload)["state"] for m in simulation.deaths(START)} == {"offline"}


def _mean_pressure(simulation: Simulation, start: datetime, minutes: int) -> dict[str, float]:
    """Mean reported pressure in Yinhang and elsewhere over a window."""
    types = {s.id: s.type_name for s in simulation.fleet}
    sums = {"yinhang": [0.0, 0], "elsewhere": [0.0, 0]}
    for message in simulation.run(start, start + timedelta(minutes=minutes)):
        _, _, _, district, sensor, kind = message.topic.split("/")
        if kind != "telemetry" or types[sensor] != "water_main_pressure":
            continue
        value = orjson.loads(message.payload)["metrics"]["pressure"]
        bucket = sums["yinhang" if district == "yinhang" else "elsewhere"]
        bucket[0] += value
        bucket[1] += 1
    return {name: total / count for name, (total, count) in sums.items()}


def test_burst_lowers_pressure_only_in_its_subdistrict_while_it_lasts(registry: Registry) -> None:
    simulation = _simulation(registry, 9)
    before = _mean_pressure(simulation, START + timedelta(hours=1, minutes=40), 15)
    during = _mean_pressure(simulation, START + timedelta(hours=2, minutes=15), 15)
    # 0.8 on the whole zone, 0.6 on half its gauges: the zone mean falls to about 0.7.
    assert during["yinhang"] / before["yinhang"] < 0.8
    assert 0.9 < during["elsewhere"] / before["elsewhere"] < 1.1


def test_alarm_is_reported_within_minutes_although_detectors_report_hourly(
    registry: Registry,
) -> None:
    fleet = build_fleet(registry, size=2000, seed=4)
    fire = load_scenarios(registry)["building_fire"]
    start = START + timedelta(hours=1)
    simulation = Simulation(
        fleet, SignalModel(4), seed=4, scenarios=[ScheduledScenario(fire, start)]
    )
    types = {s.id: s.type_name for s in fleet}
    alarms = [
        message.at - start.timestamp()
        for message in simulation.run(START, start + timedelta(minutes=6))
        if message.topic.endswith("/telemetry")
        and types[message.topic.split("/")[4]] == "smoke_detector"
        and orjson.loads(message.payload)["metrics"].get("smoke_alarm") == 1
    ]
    assert alarms, "no smoke alarm reported within 6 minutes of the fire"
    assert min(alarms) <= 5 * 60
