"""The embedded servers let no one in without a password: the broker's accounts and their ACLs,
PostgreSQL's superuser password, and the files that keep the passwords (the owner's alone)."""

from __future__ import annotations

import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from cityvitals.embedded import EmbeddedMosquitto, EmbeddedPostgres
from cityvitals.embedded.credentials import kept_passwords
from cityvitals.embedded.mosquitto_accounts import BrokerAccount
from ingest.transport.client import MqttClient, MqttError
from tests.deploy.devices import Device

Open = Callable[..., Device]  # (user, password=None): a device not yet connected
TOPIC = "city/v1/water/yinhang/yp-wp-0001/telemetry"
ACCOUNTS = (
    BrokerAccount("reader", ("topic read city/v1/+/+/+/telemetry",)),
    BrokerAccount("writer", ("topic write city/v1/+/+/+/telemetry",)),
    BrokerAccount("bystander"),
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _password(url: str) -> str:
    password = urlsplit(url).password
    assert password
    return password


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedMosquitto]:
    with EmbeddedMosquitto(tmp_path / "mqtt", accounts=ACCOUNTS) as server:
        yield server


@pytest.fixture
def device(broker: EmbeddedMosquitto) -> Iterator[Open]:
    opened: list[Device] = []

    def open_device(user: str | None, password: str | None = None) -> Device:
        if user is not None and password is None:
            password = _password(broker.url_for(user))
        client = Device(broker.port, user, password, ca_file=None)
        opened.append(client)
        return client

    yield open_device
    for client in opened:
        client.close()


@pytest.mark.mqtt
async def test_the_broker_refuses_anonymous_clients_and_wrong_passwords(
    broker: EmbeddedMosquitto,
) -> None:
    async def connect(url: str) -> None:
        client = await MqttClient.connect(url, "t", on_publish=lambda _: None)
        await client.disconnect()

    with pytest.raises(MqttError, match="not authorized"):
        await connect(broker.url)
    wrong = broker.url_for("reader").replace(_password(broker.url_for("reader")), "guess")
    with pytest.raises(MqttError, match="not authorized"):
        await connect(wrong)
    await connect(broker.url_for("reader"))


@pytest.mark.mqtt
def test_each_account_reaches_only_what_its_lines_allow(device: Open) -> None:
    reader, bystander, writer = device("reader"), device("bystander"), device("writer")
    for client in (reader, bystander, writer):
        assert client.connect() == "Success"
    reader.subscribe("city/v1/+/+/+/telemetry")
    bystander.subscribe("city/#")
    writer.subscribe("city/#")

    assert reader.publish(TOPIC, b"from the reader") == "Not authorized"
    assert bystander.publish(TOPIC, b"from the bystander") == "Not authorized"
    assert writer.publish(TOPIC, b"reading") == "Success"
    reader.wait_for(b"reading")  # published last, so anything else would be here by now
    assert reader.received == [(TOPIC, b"reading")]
    assert bystander.received == writer.received == []


def test_passwords_are_the_owners_alone_and_the_same_on_every_start(
    broker: EmbeddedMosquitto,
) -> None:
    url = broker.url_for("writer")
    kept = broker.accounts_path.read_text()
    assert _mode(broker.accounts_path) == 0o600
    assert _mode(broker.work_dir / "passwd") == 0o600
    assert _password(url) not in (broker.work_dir / "passwd").read_text()  # hashed there
    assert _password(url) not in broker.config_path.read_text()
    broker.stop()
    broker.accounts_path.chmod(0o644)  # e.g. restored from a copy

    again = EmbeddedMosquitto(broker.work_dir, broker.port, accounts=ACCOUNTS)
    again.start()
    again.stop()
    assert again.url_for("writer") == url
    assert broker.accounts_path.read_text() == kept
    assert _mode(broker.accounts_path) == 0o600


def test_a_broker_no_one_could_use_and_a_bad_account_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no accounts and refuses anonymous clients"):
        EmbeddedMosquitto(tmp_path).start()
    with pytest.raises(ValueError, match="has no use for accounts"):
        EmbeddedMosquitto(tmp_path, accounts=ACCOUNTS, anonymous=True)
    with pytest.raises(ValueError, match="'sensor:1': not an account name"):
        BrokerAccount("sensor:1")
    with pytest.raises(ValueError, match="account s1: 'pattern write x' is not `topic"):
        BrokerAccount("s1", ("pattern write x",))
    with pytest.raises(ValueError, match="no account 'nobody'"):
        EmbeddedMosquitto(tmp_path, accounts=ACCOUNTS).url_for("nobody")
    (tmp_path / "accounts").write_text("no colon here\n")
    with pytest.raises(ValueError, match="accounts:1: not a `name:password` line"):
        kept_passwords(tmp_path / "accounts", ["reader"])


@pytest.fixture
def pg_dir() -> Iterator[Path]:
    # Not tmp_path: as root the server runs as another user (see test_embedded.pg_dir).
    path = Path(tempfile.mkdtemp(prefix="cv-embedded-auth-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def _refused_without_password(server: EmbeddedPostgres) -> None:
    url = server.url.replace(f":{server.password}@", "@")
    assert server.password not in url
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(url)


async def test_postgres_asks_every_connection_for_the_superusers_password(pg_dir: Path) -> None:
    with EmbeddedPostgres(pg_dir / "data") as server:
        await _refused_without_password(server)
        conn = await asyncpg.connect(server.url)
        assert await conn.fetchval("SELECT current_user") == "postgres"
        await conn.close()
        assert server.psql("SELECT 1").strip() == "1"
    assert _mode(server.password_path) == 0o600
    assert server.password_path.parent == server.data_dir.parent  # beside, not in, the data


async def test_a_data_dir_that_trusted_everyone_asks_for_a_password_from_its_next_start(
    pg_dir: Path,
) -> None:
    with EmbeddedPostgres(pg_dir / "data") as server:
        server.psql("CREATE TABLE kept (v int); INSERT INTO kept VALUES (7);")
    # What initdb --auth=trust left in every demo directory before passwords came along.
    (server.data_dir / "pg_hba.conf").write_text(
        "local all all trust\nhost all all 127.0.0.1/32 trust\n"
    )
    server.password_path.unlink()

    with EmbeddedPostgres(server.data_dir) as converted:
        await _refused_without_password(converted)
        assert converted.psql("SELECT v FROM kept").strip() == "7"
