"""The shipped Mosquitto configuration run by the real broker, with certificates made on the fly.

`deploy/mosquitto/mosquitto.conf` is used line for line; only its container paths and its TLS
listener's port are swapped for the test's own (each swap must match, so a changed file fails
loudly here instead of being tested half). The ACL file is the repository's, in place. A test
may leave one named line out, to show what that line prevents.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.settings import Settings, load_settings
from tests.deploy.devices import Device
from tests.ingest.traffic import INVENTORY

DEPLOY = Path(__file__).parents[2] / "deploy"
SHIPPED_CONF = DEPLOY / "mosquitto" / "mosquitto.conf"
SHIPPED_ACL_DIR = DEPLOY / "mosquitto"
TLS_LISTENER = "listener 8883"
# The accounts the compose file and the ACL know (each ingest worker its own, named like its
# client id), and two sensors of the example inventory.
INGEST_USER = "cityvitals-ingest-1"
INGEST_USER_2 = "cityvitals-ingest-2"
SIMULATOR_USER = "cityvitals-simulator"
SENSOR_A = "yp-wp-0001"  # water_main_pressure in yinhang
SENSOR_B = "yp-wp-0002"
ACCOUNTS = (INGEST_USER, INGEST_USER_2, SIMULATOR_USER, "cityvitals-gateway", SENSOR_A, SENSOR_B)
# The line that makes every client's id its user name (deploy/README.md, "Client ids are
# account names").
BINDING = "use_username_as_clientid true"


def password_of(user: str) -> str:
    return f"pw-{user}-test"


def make_certificates(directory: Path) -> None:
    """A throwaway CA and a server certificate for localhost / 127.0.0.1 (openssl)."""
    directory.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=CityVitals test CA")  # fmt: skip
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (directory / "server.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
    )
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.crt", "-days", "2",
            "-extfile", "server.ext")  # fmt: skip
    for name in ("ca.crt", "server.crt", "server.key"):
        (directory / name).chmod(0o644)  # readable by the broker's own user too


def make_password_file(path: Path, users: tuple[str, ...]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    path.chmod(0o644)
    for user in users:
        subprocess.run(
            ["mosquitto_passwd", "-b", str(path), user, password_of(user)],
            check=True,
            capture_output=True,
        )


def render_shipped(conf: str, *, port: int, work_dir: Path, without: str | None = None) -> str:
    swaps = {
        TLS_LISTENER: f"listener {port} 127.0.0.1",
        "/mosquitto/config/": f"{SHIPPED_ACL_DIR}/",
        "/mosquitto/secrets/": f"{work_dir}/secrets/",
        "/mosquitto/certs/": f"{work_dir}/certs/",
        "/mosquitto/data/": f"{work_dir}/data/",
    }
    used: set[str] = set()
    lines = []
    if without is not None:
        assert without in conf.splitlines(), f"{SHIPPED_CONF} has no line {without!r}"
    for line in conf.splitlines():
        if line == without:
            continue
        if not line.startswith("#"):  # comments mention the paths too
            for old, new in swaps.items():
                if old in line:
                    line = line.replace(old, new)
                    used.add(old)
        lines.append(line)
    missing = set(swaps) - used
    assert not missing, f"{SHIPPED_CONF} no longer has {sorted(missing)}: update this harness"
    if os.geteuid() == 0:
        # As root the broker drops to the `mosquitto` user, which cannot read a temp dir.
        lines.append("user root")
    return "\n".join(lines) + "\n"


class SecuredMosquitto(EmbeddedMosquitto):
    """An EmbeddedMosquitto whose configuration is the shipped one (its accounts are in the
    password file `make_password_file` writes), less the line `without`."""

    def __init__(self, work_dir: Path, without: str | None = None) -> None:
        super().__init__(work_dir)
        self.without = without

    def render_config(self) -> str:
        return render_shipped(
            SHIPPED_CONF.read_text(encoding="utf-8"),
            port=self.port,
            work_dir=self.work_dir,
            without=self.without,
        )


@dataclass(frozen=True)
class SecuredBroker:
    broker: SecuredMosquitto
    ca_file: Path

    def url(self, user: str | None = None, password: str | None = None) -> str:
        if user is None:
            return f"mqtts://localhost:{self.broker.port}"
        return f"mqtts://{user}:{password or password_of(user)}@localhost:{self.broker.port}"

    def device(self, user: str, client_id: str | None = None) -> Device:
        """A client of `user`'s account (its password), not yet connected."""
        return Device(self.broker.port, user, password_of(user), self.ca_file, client_id)

    def ingest_settings(self, database_url: str) -> Settings:
        """An ingest worker's settings here: the shared group, and the account cityvitals-ingest-1
        with the client id of the same name (the broker would give it that name anyway)."""
        return load_settings(
            database_url=database_url,
            mqtt_url=self.url(INGEST_USER),
            mqtt_ca_file=self.ca_file,
            inventory_path=INVENTORY,
            ingest={"client_id": INGEST_USER, "shared_group": "cityvitals", "metrics_port": 0},
        )


def start_secured_broker(work_dir: Path, without: str | None = None) -> SecuredBroker:
    make_certificates(work_dir / "certs")
    make_password_file(work_dir / "secrets" / "passwd", ACCOUNTS)
    broker = SecuredMosquitto(work_dir, without)
    broker.start()
    return SecuredBroker(broker, work_dir / "certs" / "ca.crt")


@contextmanager
def secured_broker(without: str | None = None) -> Iterator[SecuredBroker]:
    """The shipped configuration running in a directory of its own, removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="cv-test-secured-mqtt-"))
    base.chmod(0o755)
    started = start_secured_broker(base, without)
    try:
        yield started
    finally:
        started.broker.stop()
        shutil.rmtree(base, ignore_errors=True)
