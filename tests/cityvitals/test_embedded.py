"""The embedded PostgreSQL and Mosquitto launchers, against the real binaries."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cityvitals.embedded import (
    BinaryNotFound,
    EmbeddedMosquitto,
    EmbeddedPostgres,
    StartupFailed,
    find_mosquitto,
    find_pg_bin_dir,
)
from cityvitals.embedded._procfs import alive, wait_gone

WAIT_S = 10.0


def _postgres(data_dir: Path, **kwargs: Any) -> EmbeddedPostgres:
    try:
        return EmbeddedPostgres(data_dir, **kwargs)
    except BinaryNotFound as exc:
        pytest.skip(f"{exc} (scripts/system-deps.sh installs it)")


def _mosquitto(work_dir: Path) -> EmbeddedMosquitto:
    try:
        # Open to anonymous clients: these tests are about the launcher, not its accounts
        # (test_embedded_auth.py).
        return EmbeddedMosquitto(work_dir, anonymous=True)
    except BinaryNotFound as exc:
        pytest.skip(f"{exc} (scripts/system-deps.sh installs it)")


@pytest.fixture
def pg_dir() -> Iterator[Path]:
    # Not tmp_path: as root the server runs as an unprivileged user, and every pytest session
    # started as root (a concurrent one included) resets /tmp/pytest-of-root to 0700, cutting
    # a running server off its data. The launcher adds the o+x this fresh 0700 dir lacks.
    path = Path(tempfile.mkdtemp(prefix="cv-embedded-pg-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def pg(pg_dir: Path) -> Iterator[EmbeddedPostgres]:
    with _postgres(pg_dir / "pgdata") as server:
        yield server


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedMosquitto]:
    with _mosquitto(tmp_path / "mqtt") as server:
        yield server


def test_postgres_serves_sql_over_tcp_as_unprivileged_user(pg: EmbeddedPostgres) -> None:
    assert pg.running
    assert pg.pid is not None
    assert pg.url == f"postgresql://postgres:{pg.password}@127.0.0.1:{pg.port}/postgres"
    with socket.create_connection(("127.0.0.1", pg.port), timeout=WAIT_S):
        pass
    out = subprocess.run(
        [str(pg.bin_dir / "psql"), "-XAt", "-c", "SELECT current_user", pg.url],
        capture_output=True,
        text=True,
        check=True,
        timeout=WAIT_S,
    )
    assert out.stdout.strip() == "postgres"
    assert os.stat(f"/proc/{pg.pid}").st_uid != 0


def test_postgres_creates_and_drops_databases(pg: EmbeddedPostgres) -> None:
    pg.create_database("cv_source")
    pg.psql("CREATE TABLE marker (id int); INSERT INTO marker VALUES (7);", dbname="cv_source")
    pg.create_database("cv_copy", template="cv_source")
    assert pg.psql("SELECT id FROM marker", dbname="cv_copy").strip() == "7"
    assert pg.url_for("cv_copy").endswith(f":{pg.port}/cv_copy")

    pg.drop_database("cv_copy")
    pg.drop_database("cv_source")
    names = pg.psql("SELECT datname FROM pg_database").split()
    assert "cv_copy" not in names
    assert "cv_source" not in names
    with pytest.raises(ValueError, match="identifier"):
        pg.create_database('x"; DROP DATABASE postgres; --')


def test_postgres_data_survives_stop_and_a_new_launcher(pg: EmbeddedPostgres) -> None:
    pg.psql("CREATE TABLE readings (v int); INSERT INTO readings VALUES (1), (2);")
    pg.stop()
    assert not pg.running

    pg.start()
    assert pg.psql("SELECT sum(v) FROM readings").strip() == "3"
    pg.stop()

    # The demo starts a fresh launcher on the directory a previous run left behind.
    with _postgres(pg.data_dir) as again:
        assert again.psql("SELECT count(*) FROM readings").strip() == "2"


def test_postgres_recovers_after_kill(pg: EmbeddedPostgres) -> None:
    pg.psql("CREATE TABLE readings (v int); INSERT INTO readings VALUES (42);")
    old_pid = pg.pid
    pg.kill()
    assert not pg.running
    assert (pg.data_dir / "postmaster.pid").exists()  # a crash leaves the lock file behind

    pg.start()
    assert pg.pid != old_pid
    assert pg.psql("SELECT v FROM readings").strip() == "42"


def test_postgres_refuses_a_second_server_on_the_same_data_dir(pg: EmbeddedPostgres) -> None:
    with pytest.raises(StartupFailed, match="already running"):
        _postgres(pg.data_dir).start()
    assert pg.psql("SELECT 1").strip() == "1"


def test_postgres_left_running_by_a_dead_owner_is_stopped_by_the_next(
    pg: EmbeddedPostgres,
) -> None:
    leftover = pg.pid
    assert leftover is not None
    successor = _postgres(pg.data_dir)
    assert successor.stop_leftover() == leftover
    assert not alive(leftover)
    successor.start()
    try:
        assert successor.psql("SELECT 1").strip() == "1"
    finally:
        successor.stop()
    assert successor.stop_leftover() is None


def test_postgres_startup_failure_reports_the_log_tail(pg_dir: Path) -> None:
    server = _postgres(pg_dir / "pgdata", extra_settings={"shared_buffers": "lots"})
    with pytest.raises(StartupFailed, match="shared_buffers") as excinfo:
        server.start()
    assert str(server.log_path) in str(excinfo.value)
    assert not server.running


def test_missing_binaries_name_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYVITALS_PG_BIN", str(tmp_path))
    with pytest.raises(BinaryNotFound, match="CITYVITALS_PG_BIN"):
        find_pg_bin_dir()
    monkeypatch.setenv("CITYVITALS_MOSQUITTO_BIN", str(tmp_path / "nope"))
    with pytest.raises(BinaryNotFound, match="CITYVITALS_MOSQUITTO_BIN"):
        find_mosquitto()


class _Client:
    """A paho client with its network loop in a thread and received messages in a queue."""

    def __init__(self, broker: EmbeddedMosquitto, client_id: str, session_expiry_s: int = 0):
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.session_present: bool | None = None
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self.paho = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.paho.on_connect = self._on_connect
        self.paho.on_subscribe = lambda *_: self._subscribed.set()
        self.paho.on_message = lambda _client, _userdata, msg: self.messages.put(msg)
        # paho 2.2 ships Properties without annotations.
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = session_expiry_s
        # clean_start=False resumes the session a previous connection left on the broker.
        self.paho.connect(
            broker.host, broker.port, keepalive=30, clean_start=False, properties=properties
        )
        self.paho.loop_start()
        assert self._connected.wait(WAIT_S), "no CONNACK"

    def _on_connect(self, _c: Any, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        self.session_present = flags.session_present
        if not reason.is_failure:
            self._connected.set()

    def subscribe(self, topic: str) -> None:
        self.paho.subscribe(topic, qos=1)
        assert self._subscribed.wait(WAIT_S), "no SUBACK"

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.paho.publish(topic, payload, qos=1)
        info.wait_for_publish(WAIT_S)  # returns once the broker's PUBACK arrived
        assert info.is_published()

    def close(self) -> None:
        self.paho.disconnect()
        self.paho.loop_stop()


@pytest.mark.mqtt
def test_mosquitto_delivers_qos1(broker: EmbeddedMosquitto) -> None:
    assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
    subscriber = _Client(broker, "cv-sub")
    publisher = _Client(broker, "cv-pub")
    try:
        subscriber.subscribe("cv/readings")
        publisher.publish("cv/readings", b'{"t": 21.5}')
        message = subscriber.messages.get(timeout=WAIT_S)
        assert message.payload == b'{"t": 21.5}'
        assert message.qos == 1
    finally:
        publisher.close()
        subscriber.close()


@pytest.mark.mqtt
def test_mosquitto_keeps_queued_qos1_for_offline_session_across_restart(
    broker: EmbeddedMosquitto,
) -> None:
    subscriber = _Client(broker, "cv-ingest", session_expiry_s=3600)
    subscriber.subscribe("cv/readings")
    subscriber.close()
    publisher = _Client(broker, "cv-pub")
    publisher.publish("cv/readings", b"queued while offline")
    publisher.close()

    port = broker.port
    broker.stop()
    assert not broker.running
    broker.start()
    assert broker.port == port

    resumed = _Client(broker, "cv-ingest", session_expiry_s=3600)
    try:
        assert resumed.session_present
        message = resumed.messages.get(timeout=WAIT_S)
        assert message.payload == b"queued while offline"
    finally:
        resumed.close()


@pytest.mark.mqtt
def test_mosquitto_restarts_after_kill(broker: EmbeddedMosquitto) -> None:
    broker.kill()
    assert not broker.running
    broker.start()
    client = _Client(broker, "cv-after-crash")
    client.close()


@pytest.mark.mqtt
def test_mosquitto_refuses_a_second_broker_and_stops_a_leftover(broker: EmbeddedMosquitto) -> None:
    leftover = broker.pid
    assert leftover is not None
    # Two brokers autosaving one persistence database would overwrite each other's.
    with pytest.raises(StartupFailed, match=f"already running on .* as pid {leftover}"):
        _mosquitto(broker.work_dir).start()
    successor = _mosquitto(broker.work_dir)
    assert successor.stop_leftover() == leftover
    assert not alive(leftover)
    assert successor.stop_leftover() is None
    successor.start()
    successor.stop()


# A process that starts a broker, says its pid and waits until it is killed.
_OWNER = """
import sys
from pathlib import Path
from cityvitals.embedded import EmbeddedMosquitto
broker = EmbeddedMosquitto(Path(sys.argv[1]), anonymous=True)
broker.start()
print(broker.pid, flush=True)
sys.stdin.read()
"""


@pytest.mark.mqtt
def test_a_server_outliving_its_killed_owner_is_stopped_by_the_watchdog(tmp_path: Path) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER, str(tmp_path / "mqtt")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    broker = int(owner.stdout.readline())
    owner.kill()
    owner.wait()
    assert wait_gone([broker], 60)
