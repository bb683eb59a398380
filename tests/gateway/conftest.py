"""Fixtures for gateway tests: the app on a migrated database, a client, a key per role."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from cityvitals.configs import gateway_config
from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings, load_settings
from gateway.app import create_app
from gateway.keys import create_key
from gateway.state import GatewayState
from storage.writer import ReadingWriter
from tests.harness import POSTGRES_ONLY, ScratchDatabase

INVENTORY = Path(__file__).parents[2] / "schemas" / "inventory" / "example.yaml"
ROLES = ("viewer", "operator", "admin", "ingest")


class Clock:
    """The gateway's 'now', stepped by tests."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Gateway:
    app: FastAPI
    client: httpx.AsyncClient
    keys: dict[str, str]  # role -> secret
    clock: Clock
    url: str  # the database

    @property
    def state(self) -> GatewayState:
        state: GatewayState = self.app.state.gateway
        return state

    def headers(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"X-API-Key": self.keys[role]}

    async def request(self, method: str, path: str, role: str | None, **kw: Any) -> httpx.Response:
        headers = {**self.headers(role), **kw.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kw)

    async def get(self, path: str, role: str | None = "viewer", **kw: Any) -> httpx.Response:
        return await self.request("GET", path, role, **kw)

    async def post(self, path: str, role: str | None = "operator", **kw: Any) -> httpx.Response:
        return await self.request("POST", path, role, **kw)

    async def put(self, path: str, role: str | None = "admin", **kw: Any) -> httpx.Response:
        return await self.request("PUT", path, role, **kw)

    async def delete(self, path: str, role: str | None = "operator", **kw: Any) -> httpx.Response:
        return await self.request("DELETE", path, role, **kw)


def gateway_settings(database_url: str, mqtt_url: str, **gateway: Any) -> Settings:
    return load_settings(
        database_url=database_url,
        mqtt_url=mqtt_url,
        inventory_path=INVENTORY,
        gateway={"vital_signs_ttl": 0.001, "stream_alerts_every": 0.05, **gateway},
    )


@pytest.fixture
def settings(prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto) -> Settings:
    return gateway_settings(prepared.url, mqtt_broker.url)


@pytest.fixture
async def gateway(
    settings: Settings, prepared: ScratchDatabase, now: datetime
) -> AsyncIterator[Gateway]:
    async with running_gateway(settings, prepared.url, now) as gw:
        yield gw


@contextlib.asynccontextmanager
async def running_gateway(
    settings: Settings, url: str, now: datetime, **config: Any
) -> AsyncIterator[Gateway]:
    """The app with its lifespan run, a key per role, and a client on it; `config` replaces
    fields of the GatewayConfig the settings make (those no setting reaches)."""
    clock = Clock(now)
    app = create_app(dataclasses.replace(gateway_config(settings), **config), clock=clock)
    async with app.router.lifespan_context(app):
        state: GatewayState = app.state.gateway
        keys = {}
        async with state.pool.acquire() as conn:
            for role in ROLES:
                _, keys[role] = await create_key(conn, f"test-{role}", role)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield Gateway(app, client, keys, clock, url)


def assert_error(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """A 4xx/5xx in the one error shape, naming `field` when given."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "detail", "field", "problems"}, body
    assert body["detail"]
    if field is not None:
        assert body["field"] == field, body
    return body


async def write_readings(
    gateway: Gateway,
    sensor: str,
    metric: str,
    start: datetime,
    count: int,
    every: timedelta = timedelta(minutes=1),
    value: Any = None,
) -> None:
    """`count` readings of `sensor`'s `metric` from `start`, one per `every`; value i/1000
    unless `value` (a function of i) says otherwise."""
    catalog = gateway.state.resolver.catalog
    ref = catalog.sensors[sensor]
    metric_id = catalog.metric_ids[(ref.type_name, metric)]
    rows = [
        (start + i * every, ref.id, metric_id, float(value(i) if value else i / 1000))
        for i in range(count)
    ]
    await ReadingWriter(gateway.state.pool, gateway.state.backend).write(rows)


GATEWAY_DIR = Path(__file__).parent
# The gateway is the same over both backends; its readings queries are the part that differs
# (raw data against rollups and continuous aggregates), so only those also run on TimescaleDB.
# The rest run once: on TimescaleDB they would add a minute to the suite and test nothing new.
BOTH_BACKENDS = {"test_readings.py"}


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Before the fixtures are parametrized: a backend-agnostic test gets no TimescaleDB variant
    # at all (rather than one that is skipped).
    path = Path(str(metafunc.definition.path))
    agnostic = path.parent == GATEWAY_DIR and path.name not in BOTH_BACKENDS
    if agnostic and "empty_database" in metafunc.fixturenames:
        metafunc.definition.add_marker(POSTGRES_ONLY)
