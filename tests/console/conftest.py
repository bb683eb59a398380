"""The ops console in a real browser: Debian's chromium, headless, driven by Playwright, against
a real city: PostgreSQL, Mosquitto, the MQTT ingest, the alert engine and the gateway on a real
socket, all in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import orjson
import pytest
from playwright.async_api import Browser, Page, Request, async_playwright

from alerts.engine.service import Engine, EngineConfig
from cityvitals.configs import ingest_config
from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings, load_settings
from ingest.service import IngestService
from schemas.geography import Geography
from schemas.inventory import Inventory
from schemas.registry import Registry
from schemas.topics import telemetry_topic
from simulators.engine import Simulation
from simulators.model import SimSensor
from simulators.signals import SignalModel
from storage.backend import Backend
from tests.gateway.conftest import INVENTORY, gateway_settings
from tests.gateway.serving import Served, serving
from tests.harness import POSTGRES_ONLY, ScratchDatabase
from tests.ingest.traffic import count_readings, publish, running
from tests.waiting import wait_until

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parents[2] / "build" / "screenshots"
# The alert the tests raise: a pressure gauge below its orange threshold, firing at once.
BREACH_RULE = "default:water_main_pressure:pressure:below"
ENGINE_TICK_S = 0.5  # the issue asks for the wall to turn within 5 s of a breach
HISTORY = timedelta(minutes=30)


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # The console reads what the gateway reads: one backend is enough.
    if "empty_database" in metafunc.fixturenames:
        metafunc.definition.add_marker(POSTGRES_ONLY)


@dataclass
class City:
    gateway: Served
    mqtt_url: str
    pool: asyncpg.Pool
    geography: Geography
    registry: Registry
    inventory: Inventory
    settings: Settings
    serving: contextlib.AbstractAsyncContextManager[Served]

    @property
    def url(self) -> str:
        return self.gateway.url

    async def restart_gateway(self, meanwhile: Callable[[], Awaitable[None]]) -> None:
        """Stop the gateway (its streams end), run `meanwhile`, start it again on its port."""
        port = int(self.url.rsplit(":", 1)[1])
        await self.serving.__aexit__(None, None, None)
        await meanwhile()
        self.serving = serving(self.settings, port)
        self.gateway = await self.serving.__aenter__()

    async def publish(self, sensor: str, metrics: dict[str, float]) -> None:
        """One reading of `sensor` now, over MQTT as the device would send it."""
        record = self.inventory.sensors[sensor]
        domain = self.registry.types[record.type].domain
        body = {"ts": int(datetime.now(UTC).timestamp() * 1000), "metrics": metrics}
        topic = telemetry_topic(domain, record.subdistrict, sensor)
        await publish(self.mqtt_url, [(topic, orjson.dumps(body))])


@dataclass
class Browsing:
    """One page at 1920x1080 recording every request it makes."""

    page: Page
    requests: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # the page's console and errors


@pytest.fixture
async def city(
    prepared: ScratchDatabase,
    pool: asyncpg.Pool,
    mqtt_broker: EmbeddedMosquitto,
    registry: Registry,
    geography: Geography,
    inventory: Inventory,
    tmp_path: Path,
) -> AsyncIterator[City]:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "at_once.yaml").write_text(
        f"overrides:\n  - rule: {BREACH_RULE}\n    hold: 0s\n    keep_firing_for: 0s\n"
    )
    settings = load_settings(
        database_url=prepared.url,
        mqtt_url=mqtt_broker.url,
        inventory_path=INVENTORY,
        gateway={"stream_alerts_every": 0.2, "vital_signs_ttl": 1, "stream_vital_signs_every": 2},
        ingest={"client_id": f"test-console-{uuid.uuid4().hex[:8]}", "metrics_port": 0},
    )
    ingest = IngestService(ingest_config(settings), pool, Backend(prepared.backend))
    engine = Engine(
        EngineConfig(database_url=prepared.url, rules_dir=rules, tick_s=ENGINE_TICK_S),
        pool,
        registry,
    )
    async with running(ingest), running_engine(engine):
        served = serving(settings)
        stack = City(
            await served.__aenter__(),
            mqtt_broker.url,
            pool,
            geography,
            registry,
            inventory,
            settings,
            served,
        )
        try:
            await publish_history(stack, prepared.url)
            yield stack
        finally:
            await stack.serving.__aexit__(None, None, None)


@contextlib.asynccontextmanager
async def running_engine(engine: Engine) -> AsyncIterator[Engine]:
    task = asyncio.create_task(engine.run())
    try:
        await asyncio.wait_for(engine.leading.wait(), 30)
        yield engine
    finally:
        engine.stop()
        await asyncio.wait_for(task, 30)


async def publish_history(city: City, database_url: str) -> None:
    """The last half hour of every inventory sensor as the simulator plays it, over MQTT, so
    the wall has figures, sparklines and sensors online."""
    fleet = [
        SimSensor(r.id, city.registry.types[r.type], r.subdistrict, r.lat, r.lon)
        for r in city.inventory
    ]
    now = datetime.now(UTC)
    simulated = Simulation(fleet, SignalModel(1)).run(now - HISTORY, now)
    messages = [(m.topic, m.payload) for m in simulated]
    readings = sum(len(orjson.loads(payload).get("metrics", {})) for _, payload in messages)
    await publish(city.mqtt_url, messages)

    async def all_stored() -> bool:
        return await count_readings(database_url) >= readings

    await wait_until(all_stored, timeout_s=120, poll_s=0.5)


@pytest.fixture
async def served(
    prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto
) -> AsyncIterator[Served]:
    """The gateway alone, on a prepared database (no readings, no ingest, no engine)."""
    async with serving(gateway_settings(prepared.url, mqtt_broker.url)) as gateway:
        yield gateway


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system-deps.sh (it installs chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        await launched.close()


@pytest.fixture
async def browsing(browser: Browser) -> AsyncIterator[Browsing]:
    context = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = await context.new_page()
    browsing = Browsing(page)

    def record(request: Request) -> None:
        browsing.requests.append(request.url)
        browsing.log.append(f"request: {request.method} {request.url}")

    page.on("request", record)
    page.on("console", lambda message: browsing.log.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: browsing.log.append(f"page error: {error}"))
    yield browsing
    await context.close()
    # Shown by pytest when the test failed: what the page said.
    print("--- the page's console ---", *browsing.log, sep="\n")


async def sign_in(page: Page, base_url: str, key: str) -> None:
    await page.goto(f"{base_url}/console/")
    await page.fill("#sign-in-key", key)
    await page.click("#sign-in-form button[type=submit]")
    await page.wait_for_selector("#sign-in", state="hidden")
