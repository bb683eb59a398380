"""What the gateway builds once at start and every request uses, kept on `app.state.gateway`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

import asyncpg
from starlette.requests import HTTPConnection

from gateway.config import GatewayConfig
from gateway.metrics import GatewayMetrics
from gateway.vital_signs import VitalSignsSource
from ingest.resolve import Resolver
from schemas.geography import Geography
from schemas.type_validator import TypeValidator
from storage.backend import Backend
from storage.catalog import Catalog
from storage.writer import ReadingWriter

if TYPE_CHECKING:
    from gateway.stream import StreamHub

Clock = Callable[[], datetime]


@dataclass
class GatewayState:
    config: GatewayConfig
    pool: asyncpg.Pool
    backend: Backend
    # HTTP ingest: the same resolve-and-commit path as the MQTT ingest
    resolver: Resolver
    writer: ReadingWriter
    metrics: GatewayMetrics
    vital_signs: VitalSignsSource
    hub: StreamHub
    exports: asyncio.Semaphore
    clock: Clock

    def now(self) -> datetime:
        return self.clock()

    @property
    def geography(self) -> Geography:
        return self.config.geography

    async def vocabulary(self) -> tuple[dict[str, TypeValidator], Catalog]:
        """The sensor types and the catalog as of now (re-read when the stored types moved)."""
        await self.resolver.check_types_when_due(self.now())
        return dict(self.resolver.validators), self.resolver.catalog


def get_state(connection: HTTPConnection) -> GatewayState:
    return cast(GatewayState, connection.app.state.gateway)
