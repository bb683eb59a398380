"""Reading what deploy/ names: the compose file (interpolated as compose does), the Kubernetes
manifests, and the settings each CityVitals container would run with."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
import yaml

from cityvitals.cli import app
from cityvitals.settings import ENV_PREFIX, Settings, load_settings

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
K8S = DEPLOY / "k8s"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
IMAGE = f"cityvitals/cityvitals:{VERSION}"
# ${NAME}, ${NAME:-default}, ${NAME:?error} (what the compose file uses)
_VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value or f"{name.lower()}-secret"  # stand-in for a password
    return values


def compose_variables() -> set[str]:
    return set(_VARIABLE.findall(COMPOSE.read_text()))


def compose() -> dict[str, Any]:
    """The compose file with ${...} filled from deploy/.env.example, as `docker compose` would."""
    values = env_example()
    text = _VARIABLE.sub(lambda match: values[match.group(1)], COMPOSE.read_text())
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def our_services(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in spec["services"].items() if s["image"] == IMAGE}


def k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    documents: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            documents.extend((path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc)
    return documents


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    for _, doc in k8s_documents():
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise AssertionError(f"no {kind} {name} in deploy/k8s")


def resolve_command(args: list[str]) -> Any:
    """The `cityvitals` command `args` run, with its options parsed (raises if they do not)."""
    command: Any = typer.main.get_command(app)  # typer's own click: duck-typed here
    names: list[str] = ["cityvitals"]
    rest = list(args)
    while hasattr(command, "get_command") and rest and not rest[0].startswith("-"):
        context = command.make_context(" ".join(names), [], resilient_parsing=True)
        sub = command.get_command(context, rest[0])
        assert sub is not None, f"`cityvitals {' '.join(args)}`: no command {rest[0]!r}"
        names.append(rest.pop(0))
        command = sub
    command.make_context(" ".join(names), rest)
    return command


def setting_field(env_name: str) -> None:
    """Fail unless CITYVITALS_A__B names the setting a.b."""
    assert env_name.startswith(ENV_PREFIX), env_name
    model: Any = Settings
    for part in env_name.removeprefix(ENV_PREFIX).lower().split("__"):
        fields = getattr(model, "model_fields", {})
        assert part in fields, f"{env_name}: no setting {part!r}"
        model = fields[part].annotation


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def effective_settings(env: dict[str, str], files: dict[str, Path]) -> Settings:
    """The settings a container with environment `env` runs with; `files` maps the paths it
    sees to files here (container path -> host path)."""

    def here(value: str) -> str:
        if not value.startswith("/"):
            return value
        assert value in files, f"{value} is not mounted into the container"
        return str(files[value])

    named = {name: here(value) for name, value in env.items() if name.startswith(ENV_PREFIX)}
    for name in named:
        if name != "CITYVITALS_CONFIG":
            setting_field(name)
    config = named.pop("CITYVITALS_CONFIG", None)
    with environment(named):
        return load_settings(Path(config) if config else None)
