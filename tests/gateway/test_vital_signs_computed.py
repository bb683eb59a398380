"""The gateway counts its vital-signs computations (cityvitals_gateway_vital_signs_computed):
what connected walls cost the database, and what `make bench` reports per minute. Within
gateway.vital_signs_ttl every client shares one computation."""

from __future__ import annotations

from datetime import datetime

from cityvitals.settings import Settings
from tests.gateway.conftest import Gateway, running_gateway
from tests.harness import ScratchDatabase

COUNTER = "cityvitals_gateway_vital_signs_computed_total"


def computed(gateway: Gateway) -> float:
    value = gateway.state.metrics.registry.get_sample_value(COUNTER)
    assert value is not None, f"{COUNTER} is not registered"
    return value


async def test_clients_within_the_ttl_share_one_computation(
    settings: Settings, prepared: ScratchDatabase, now: datetime
) -> None:
    async with running_gateway(settings, prepared.url, now, vital_signs_ttl=3600) as gateway:
        before = computed(gateway)
        for domain in (None, "water", "power"):
            params = {"domain": domain} if domain else {}
            response = await gateway.get("/v1/vital-signs", params=params)
            assert response.status_code == 200, response.text
        assert computed(gateway) - before == 1
        exposed = (await gateway.get("/metrics")).text
        assert COUNTER in exposed


async def test_each_computation_past_the_ttl_is_counted(gateway: Gateway) -> None:
    before = computed(gateway)  # this gateway's ttl is a millisecond
    for _ in range(3):
        assert (await gateway.get("/v1/vital-signs")).status_code == 200
    assert computed(gateway) - before == 3
