"""The Host header: no answer repeats it (no redirects), and with gateway.trusted_hosts set, a
request naming another host is refused, except the probes, which orchestrators send by
address."""

from __future__ import annotations

from datetime import datetime

import pytest

from cityvitals.embedded import EmbeddedMosquitto
from gateway.hosts import hostname, trusted
from tests.gateway.conftest import Gateway, assert_error, gateway_settings, running_gateway
from tests.harness import ScratchDatabase

EVIL = {"Host": "evil.example"}


async def test_no_answer_repeats_the_host(gateway: Gateway) -> None:
    # A trailing slash used to redirect to http://<the request's Host>/v1/sensors.
    answer = await gateway.get("/v1/sensors/", headers=EVIL)
    assert_error(answer, 404)
    assert "location" not in answer.headers
    assert "evil.example" not in answer.text
    assert (await gateway.get("/v1/sensors", headers=EVIL)).status_code == 200  # "*": any Host


async def test_only_trusted_hosts_are_answered(
    prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto, now: datetime
) -> None:
    trusted_hosts = ["api.yangpu.example", "*.ops.yangpu.example"]
    settings = gateway_settings(prepared.url, mqtt_broker.url, trusted_hosts=trusted_hosts)
    async with running_gateway(settings, prepared.url, now) as gateway:
        for host in ("api.yangpu.example:8443", "wall.ops.yangpu.example"):
            answer = await gateway.get("/v1/sensors", headers={"Host": host})
            assert answer.status_code == 200, host
        body = assert_error(await gateway.get("/v1/sensors", headers=EVIL), 400, "Host")
        assert "gateway.trusted_hosts" in body["detail"]
        assert_error(await gateway.get("/v1/sensors", headers={"Host": "ops.yangpu.example"}), 400)
        # Probes come by address (a pod's IP), and say nothing that depends on the Host.
        for probe in ("/healthz", "/readyz"):
            answer = await gateway.get(probe, role=None, headers={"Host": "10.42.0.7:8080"})
            assert answer.status_code == 200, probe


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("api.example.org", "api.example.org"),
        ("API.Example.org:8080", "api.example.org"),
        ("[::1]:8080", "::1"),
        ("", ""),
    ],
)
def test_hostname(header: str, host: str) -> None:
    assert hostname(header) == host


def test_wildcards_match_subdomains_only() -> None:
    assert trusted("a.example.org", ["*.example.org"])
    assert not trusted("example.org", ["*.example.org"])
    assert not trusted("badexample.org", ["*.example.org"])
