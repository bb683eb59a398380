"""deploy/k8s: valid by Kubernetes' own schemas (strict: unknown fields fail), and everything the
manifests name (commands, settings, ports, secrets, config files, EMQX paths) exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pyhocon import ConfigFactory

from cityvitals.settings import Settings
from schemas.inventory import SENSOR_ID_PATTERN
from tests.deploy.manifests import (
    IMAGE,
    K8S,
    compose,
    effective_settings,
    k8s_documents,
    k8s_object,
    resolve_command,
)

KUBERNETES_VERSION = "1.30.0"  # the oldest release still widely run that the manifests target
KUSTOMIZATION = yaml.safe_load((K8S / "kustomization.yaml").read_text())
DOCUMENTS = k8s_documents()
OURS = {
    doc["metadata"]["name"]: doc
    for _, doc in DOCUMENTS
    if doc["kind"] == "Deployment"
    and doc["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
}


def test_every_manifest_is_valid_by_the_kubernetes_schemas() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kubernetes_validate",
            "--strict",
            "--quiet",
            "-k",
            KUBERNETES_VERSION,
            *sorted({str(path) for path, _ in DOCUMENTS}),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_kustomization_lists_every_manifest_and_its_config_files() -> None:
    shipped = {path.name for path, _ in DOCUMENTS} - {"secrets.example.yaml"}
    assert set(KUSTOMIZATION["resources"]) == shipped
    for generator in KUSTOMIZATION["configMapGenerator"]:
        for name in generator["files"]:
            assert (K8S / name).is_file(), name
    assert all(
        doc["metadata"].get("namespace", "cityvitals") == "cityvitals" for _, doc in DOCUMENTS
    )


def test_the_cluster_has_what_the_issue_asks_for() -> None:
    commands = {
        name: doc["spec"]["template"]["spec"]["containers"][0]["args"] for name, doc in OURS.items()
    }
    assert commands == {
        "cityvitals-ingest": ["ingest"],
        "cityvitals-alerts": ["alerts"],
        "cityvitals-gateway": ["gateway"],
    }
    assert OURS["cityvitals-alerts"]["spec"]["replicas"] == 2
    scaler = k8s_object("HorizontalPodAutoscaler", "cityvitals-ingest")["spec"]
    assert scaler["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "cityvitals-ingest",
    }
    assert scaler["minReplicas"] >= 2
    assert k8s_object("StatefulSet", "emqx")["spec"]["replicas"] >= 3


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_deployment_runs_a_real_command(name: str) -> None:
    resolve_command(_container(name)["args"])


def _container(name: str) -> dict[str, Any]:
    container: dict[str, Any] = OURS[name]["spec"]["template"]["spec"]["containers"][0]
    return container


def _secret_values() -> dict[tuple[str, str], str]:
    values = {}
    for _, doc in DOCUMENTS:
        if doc["kind"] == "Secret":
            for key, value in doc["stringData"].items():
                values[(doc["metadata"]["name"], key)] = value
    return values


def _env(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment: values, pod fields, and keys of the example secrets (each
    key a manifest refers to must be in secrets.example.yaml)."""
    secrets = _secret_values()
    env = {}
    for item in container["env"]:
        if "value" in item:
            env[item["name"]] = item["value"]
        elif "fieldRef" in item["valueFrom"]:
            assert item["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
            env[item["name"]] = "cityvitals-pod-7d9f8b6c5d-x2x4q"
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secrets[(ref["name"], ref["key"])]
    return env


def _files_seen(name: str, tmp_path: Path) -> dict[str, Path]:
    """The files each volume mount puts into the container, written out here."""
    spec = OURS[name]["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    secrets = _secret_values()
    files = {}
    for mount in _container(name)["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            data = k8s_object("ConfigMap", volume["configMap"]["name"])["data"]
            contents = {key: data[key] for key in data}
        else:
            secret = volume["secret"]
            contents = {
                item["path"]: secrets[(secret["secretName"], item["key"])]
                for item in secret["items"]
            }
        for key, text in contents.items():
            if "subPath" in mount and mount["subPath"] != key:
                continue
            seen = mount["mountPath"] if "subPath" in mount else f"{mount['mountPath']}/{key}"
            here = tmp_path / mount["name"] / key
            here.parent.mkdir(parents=True, exist_ok=True)
            here.write_text(text)
            files[seen] = here
    return files


def _settings(name: str, tmp_path: Path) -> Settings:
    return effective_settings(_env(_container(name)), _files_seen(name, tmp_path))


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_deployment_settings_are_real_and_its_ports_match(name: str, tmp_path: Path) -> None:
    settings = _settings(name, tmp_path)
    ports = {p["name"]: p["containerPort"] for p in _container(name)["ports"]}
    expected = {
        "cityvitals-ingest": {"metrics": settings.ingest.metrics_port},
        "cityvitals-alerts": {"metrics": settings.alerts.metrics_port},
        "cityvitals-gateway": {"http": settings.gateway.port},
    }
    assert ports == expected[name]
    for probe in ("livenessProbe", "readinessProbe"):
        if probe in _container(name):
            assert _container(name)[probe]["httpGet"]["port"] in ports
    assert urlsplit(settings.database_url).scheme == "postgresql"
    if name != "cityvitals-alerts":  # the engine never talks to the broker
        broker = urlsplit(settings.mqtt_url)
        assert (broker.scheme, broker.hostname, broker.port) == (
            "mqtts",
            "emqx.cityvitals.svc",
            8883,
        )
        assert settings.mqtt_ca_file is not None


def test_ingest_pods_are_workers_of_one_group_with_their_own_ids(tmp_path: Path) -> None:
    settings = _settings("cityvitals-ingest", tmp_path)
    assert settings.ingest.shared_group == "cityvitals"
    assert settings.ingest.client_id == "cityvitals-pod-7d9f8b6c5d-x2x4q"  # the pod's name
    assert urlsplit(settings.mqtt_url).username == "cityvitals-ingest"
    assert settings.ingest.session_expiry <= 600  # a gone pod's share is handed over soon
    assert _settings("cityvitals-alerts", tmp_path).alerts.engine_name.startswith("cityvitals-pod")


def test_the_image_is_the_one_compose_builds() -> None:
    assert {s["image"] for s in compose()["services"].values() if "build" in s} == {IMAGE}
    service = k8s_object("Service", "cityvitals-gateway")["spec"]
    assert service["ports"][0]["targetPort"] == "http"


def test_the_emqx_configuration_matches_its_mounts_and_the_ingest() -> None:
    conf = ConfigFactory.parse_file(str(K8S / "emqx" / "emqx.conf"))
    emqx = k8s_object("StatefulSet", "emqx")["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m for m in emqx["containers"][0]["volumeMounts"]}
    assert conf["authorization"]["sources"][0]["path"] in mounts
    assert mounts["/opt/emqx/etc/acl.conf"]["subPath"] == "acl.conf"
    certs = next(v for v in emqx["volumes"] if v["name"] == "certs")["secret"]["items"]
    ssl = conf["listeners"]["ssl"]["default"]
    for key in ("cacertfile", "certfile", "keyfile"):
        assert ssl["ssl_options"][key] in {f"/opt/emqx/etc/certs/{i['path']}" for i in certs}
    assert ssl["bind"].endswith(":8883")
    assert conf["listeners"]["tcp"]["default"]["enable"] is False  # TLS only
    assert conf["mqtt"]["max_inflight"] >= 20_000  # ingest.receive_maximum
    ports = {p["name"]: p["containerPort"] for p in emqx["containers"][0]["ports"]}
    assert ports["mqtts"] == 8883
    acl = (K8S / "emqx" / "acl.conf").read_text()
    assert "$share/cityvitals/city/v1/+/+/+/telemetry" in acl  # ingest.shared_group
    assert conf["authorization"]["no_match"] == "deny"


# mqtt.clientid_override as EMQX 5.8 evaluates it (a Variform expression): the account's name,
# a separator, the client's own id.
_OVERRIDE = re.compile(r"concat\(\[username, '(?P<separator>[^']+)', clientid\]\)")


def test_emqx_keeps_each_accounts_client_ids_to_its_own(tmp_path: Path) -> None:
    conf = ConfigFactory.parse_file(str(K8S / "emqx" / "emqx.conf"))
    found = _OVERRIDE.fullmatch(conf["mqtt"]["clientid_override"])
    assert found, "mqtt.clientid_override must put the user name before the client's own id"
    separator = found["separator"]

    def session_of(user: str, client_id: str) -> str:
        return f"{user}{separator}{client_id}"

    # Unambiguous only if no account name holds the separator: the services' (the ACL's, the
    # secrets' URLs) and the sensors', whose accounts are their ids.
    acl = (K8S / "emqx" / "acl.conf").read_text()
    urls = [v for (_, key), v in _secret_values().items() if key.startswith("mqtt-")]
    services = set(re.findall(r'\{username, "([^"]+)"\}', acl))
    services |= {urlsplit(url).username or "" for url in urls}
    assert services >= {"cityvitals-ingest", "cityvitals-gateway"}
    assert [name for name in services if separator in name] == []
    assert re.fullmatch(SENSOR_ID_PATTERN, f"yp{separator}0001") is None
    # Issue 12's attack: a sensor asking for an ingest pod's client id gets a session of its own.
    ingest = _settings("cityvitals-ingest", tmp_path)
    pod = session_of(urlsplit(ingest.mqtt_url).username or "", ingest.ingest.client_id)
    assert session_of("yp-wp-0001", ingest.ingest.client_id) != pod
    # The option exists from EMQX 5.8.3 on; an older image would ignore it.
    image = k8s_object("StatefulSet", "emqx")["spec"]["template"]["spec"]["containers"][0]["image"]
    version = tuple(int(part) for part in image.rpartition(":")[2].split("."))
    assert version >= (5, 8, 3), image
