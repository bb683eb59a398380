"""What the gateway builds once at start and every request uses, kept on `app.state.gateway`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

import asyncpg
from starlette.requests import HTTPConnection

from cityvitals.settings import Settings
from gateway.metrics import GatewayMetrics
from gateway.vital_signs import VitalSignsSource
from ingest.processor import Processor
from schemas.telemetry import TypeValidator
from storage.backend import Backend
from storage.catalog import Catalog

if TYPE_CHECKING:
    from gateway.stream import StreamHub

Clock = Callable[[], datetime]


@dataclass
class GatewayState:
    settings: Settings
    pool: asyncpg.Pool
    backend: Backend
    processor: Processor  # HTTP ingest: the same resolve-and-store path as the MQTT ingest
    metrics: GatewayMetrics
    vital_signs: VitalSignsSource
    hub: StreamHub
    exports: asyncio.Semaphore
    clock: Clock

    def now(self) -> datetime:
        return self.clock()

    async def vocabulary(self) -> tuple[dict[str, TypeValidator], Catalog]:
        """The sensor types and the catalog as of now (re-read when the stored types moved)."""
        await self.processor.check_types_when_due(self.now())
        resolver = self.processor.resolver
        return dict(resolver.validators), resolver.catalog


def get_state(connection: HTTPConnection) -> GatewayState:
    return cast(GatewayState, connection.app.state.gateway)
