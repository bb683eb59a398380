"""Failed key lookups: limited per client address, refused keys remembered; good keys unhindered.

The limit is shown by counts of answers, on a real uvicorn server: the guesser connects from
127.0.0.2 and the honest client from 127.0.0.1 (all of 127/8 is this host's loopback, so both
reach the server bound to 127.0.0.1, which sees two client addresses).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from cityvitals.embedded import EmbeddedMosquitto
from gateway.failed_auth import FailureBuckets, RefusedKeys, client_key
from gateway.keys import generate_key
from storage.api_keys import revoke_key
from tests.gateway.conftest import assert_error, gateway_settings, running_gateway
from tests.gateway.serving import Served, serving
from tests.harness import ScratchDatabase

PER_MINUTE = 5
SENSORS = "/v1/sensors"


class Seconds:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def served(
    prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto
) -> AsyncIterator[Served]:
    settings = gateway_settings(prepared.url, mqtt_broker.url, auth_failures_per_minute=PER_MINUTE)
    async with serving(settings) as served:
        yield served


def client_from(served: Served, address: str, **kw: object) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address, **kw)  # type: ignore[arg-type]
    return httpx.AsyncClient(base_url=served.url, transport=transport)


def wrong_key() -> dict[str, str]:
    return {"X-API-Key": generate_key().secret}


async def test_wrong_keys_from_one_address_are_refused_while_a_good_key_from_another_is_served(
    served: Served,
) -> None:
    good = {"X-API-Key": served.keys["viewer"]}
    async with (
        client_from(served, "127.0.0.2") as guesser,
        client_from(served, "127.0.0.1") as honest,
    ):
        guesses, served_answers = [], []
        for _ in range(30):
            guesses.append(await guesser.get(SENSORS, headers=wrong_key()))
            served_answers.append((await honest.get(SENSORS, headers=good)).status_code)
        assert served_answers == [200] * 30
        assert Counter(g.status_code for g in guesses) == {401: PER_MINUTE, 429: 30 - PER_MINUTE}
        refused = guesses[-1]
        assert "too many wrong keys from 127.0.0.2" in assert_error(refused, 429)["detail"]
        assert int(refused.headers["Retry-After"]) >= 1
        # Nothing is looked up for the address while it waits: its good key waits too, and a
        # forwarded-for header from an address uvicorn does not trust as a proxy changes nothing.
        assert (await guesser.get(SENSORS, headers=good)).status_code == 429
        spoofed = {**wrong_key(), "X-Forwarded-For": "10.1.2.3"}
        assert (await guesser.get(SENSORS, headers=spoofed)).status_code == 429
        # Missing keys are not guesses: they are not counted, and answer 401 as ever.
        assert (await honest.get(SENSORS)).status_code == 401
        assert (await honest.get(SENSORS, headers=good)).status_code == 200


async def test_a_concurrent_burst_of_wrong_keys_leaves_good_requests_served(
    served: Served,
) -> None:
    """The issue's 32 guessing clients, at once, from one address."""
    good = {"X-API-Key": served.keys["viewer"]}
    limits = httpx.Limits(max_connections=32)
    async with (
        client_from(served, "127.0.0.2", limits=limits) as guesser,
        client_from(served, "127.0.0.1") as honest,
    ):

        async def honest_requests() -> list[int]:
            return [(await honest.get(SENSORS, headers=good)).status_code for _ in range(10)]

        guessing = asyncio.gather(*(guesser.get(SENSORS, headers=wrong_key()) for _ in range(96)))
        guesses, honest_answers = await asyncio.gather(guessing, honest_requests())
        assert honest_answers == [200] * 10
        statuses = Counter(g.status_code for g in guesses)
        assert set(statuses) <= {401, 429}, statuses
        assert statuses[429] > 0, statuses
        assert (await guesser.get(SENSORS, headers=wrong_key())).status_code == 429


async def test_a_refused_key_is_answered_from_memory_whatever_its_address(
    prepared: ScratchDatabase, mqtt_broker: EmbeddedMosquitto, now: datetime
) -> None:
    """A fleet retrying a revoked key: each device its own address, none looked up again.
    Shown by deleting the key's row: a lookup would now call it unknown."""
    settings = gateway_settings(prepared.url, mqtt_broker.url)
    async with running_gateway(settings, prepared.url, now) as gateway:
        secret = gateway.keys["ingest"]
        async with gateway.state.pool.acquire() as conn:
            await revoke_key(conn, secret.split("_")[1], now)
        first = await gateway.get(SENSORS, headers={"X-API-Key": secret})
        assert "was revoked" in assert_error(first, 401)["detail"]
        async with gateway.state.pool.acquire() as conn:
            await conn.execute("DELETE FROM api_keys WHERE id = $1", secret.split("_")[1])
        for device in range(3):
            transport = httpx.ASGITransport(app=gateway.app, client=(f"10.0.0.{device}", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                again = await client.get(SENSORS, headers={"X-API-Key": secret})
                assert "was revoked" in assert_error(again, 401)["detail"]
        # A different key with the same id is a different key: looked up, and unknown.
        forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
        other = await gateway.get(SENSORS, headers={"X-API-Key": forged})
        assert "unknown API key" in assert_error(other, 401)["detail"]


def test_a_bucket_allows_a_burst_then_one_failure_per_interval() -> None:
    clock = Seconds()
    buckets = FailureBuckets(6, clock=clock)  # one token every 10 s
    emptied = [buckets.failed("192.0.2.1") for _ in range(6)]
    assert emptied == [False] * 5 + [True]  # the sixth failure empties it, and says so once
    assert buckets.wait("192.0.2.1") == pytest.approx(10.0)
    assert buckets.wait("192.0.2.2") == 0.0  # another address is untouched
    clock.now += 10.0
    assert buckets.wait("192.0.2.1") == 0.0
    assert buckets.failed("192.0.2.1") is True
    clock.now += 3600.0
    assert buckets.wait("192.0.2.1") == 0.0  # a full bucket again, and no more than full:
    assert [buckets.failed("192.0.2.1") for _ in range(6)][-1] is True


def test_failures_in_flight_drive_the_bucket_below_empty_but_only_so_far() -> None:
    clock = Seconds()
    buckets = FailureBuckets(6, clock=clock)
    for _ in range(100):  # requests that all passed the check before the first failed
        buckets.failed("192.0.2.1")
    assert buckets.wait("192.0.2.1") == pytest.approx(70.0)  # from -6 tokens back to 1


def test_clients_are_bounded_and_ipv6_counts_by_network() -> None:
    buckets = FailureBuckets(1, clock=Seconds(), max_clients=3)  # one failure empties one
    for n in range(10):
        buckets.failed(f"192.0.2.{n}")
    assert len(buckets) == 3
    assert buckets.wait("192.0.2.9") > 0  # the latest are kept
    assert buckets.wait("192.0.2.0") == 0.0
    assert (
        client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    )
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key(None) == "unknown"


def test_refused_keys_are_forgotten_after_a_while_and_bounded() -> None:
    clock = Seconds()
    refused = RefusedKeys(clock=clock, ttl_s=60.0, size=2)
    refused.refuse("a", "unknown API key a")
    assert refused.reason("a") == "unknown API key a"
    clock.now += 60.0
    assert refused.reason("a") is None
    for name in "bcd":
        refused.refuse(name, name)
    assert len(refused) == 2
    assert (refused.reason("b"), refused.reason("d")) == (None, "d")
