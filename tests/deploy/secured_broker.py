"""The shipped Mosquitto configuration run by the real broker, with certificates made on the fly.

`deploy/mosquitto/mosquitto.conf` is used line for line; only its container paths and its TLS
listener's port are swapped for the test's own (each swap must match, so a changed file fails
loudly here instead of being tested half). The ACL file is the repository's, in place.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cityvitals.embedded import EmbeddedMosquitto

DEPLOY = Path(__file__).parents[2] / "deploy"
SHIPPED_CONF = DEPLOY / "mosquitto" / "mosquitto.conf"
SHIPPED_ACL_DIR = DEPLOY / "mosquitto"
TLS_LISTENER = "listener 8883"
# The accounts the compose file and the ACL know, and two sensors of the example inventory.
INGEST_USER = "cityvitals-ingest"
SIMULATOR_USER = "cityvitals-simulator"
SENSOR_A = "yp-wp-0001"  # water_main_pressure in yinhang
SENSOR_B = "yp-wp-0002"
ACCOUNTS = (INGEST_USER, SIMULATOR_USER, "cityvitals-gateway", SENSOR_A, SENSOR_B)


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


def render_shipped(conf: str, *, port: int, work_dir: Path) -> str:
    swaps = {
        TLS_LISTENER: f"listener {port} 127.0.0.1",
        "/mosquitto/config/": f"{SHIPPED_ACL_DIR}/",
        "/mosquitto/secrets/": f"{work_dir}/secrets/",
        "/mosquitto/certs/": f"{work_dir}/certs/",
        "/mosquitto/data/": f"{work_dir}/data/",
    }
    used: set[str] = set()
    lines = []
    for line in conf.splitlines():
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
    """An EmbeddedMosquitto whose configuration is the shipped one."""

    def render_config(self) -> str:
        return render_shipped(
            SHIPPED_CONF.read_text(encoding="utf-8"), port=self.port, work_dir=self.work_dir
        )


@dataclass(frozen=True)
class SecuredBroker:
    broker: SecuredMosquitto
    ca_file: Path

    def url(self, user: str | None = None, password: str | None = None) -> str:
        if user is None:
            return f"mqtts://localhost:{self.broker.port}"
        return f"mqtts://{user}:{password or password_of(user)}@localhost:{self.broker.port}"


def start_secured_broker(work_dir: Path) -> SecuredBroker:
    make_certificates(work_dir / "certs")
    make_password_file(work_dir / "secrets" / "passwd", ACCOUNTS)
    broker = SecuredMosquitto(work_dir)
    broker.start()
    return SecuredBroker(broker, work_dir / "certs" / "ca.crt")
