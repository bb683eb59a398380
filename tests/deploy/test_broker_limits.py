"""The broker limits are stated once: README's Ingest section, the production broker
(deploy/mosquitto), the embedded broker of the demo and the tests, and the EMQX cluster's
equivalents all carry the same numbers, so none can drift from the others again."""

from __future__ import annotations

import re
from pathlib import Path

from pyhocon import ConfigFactory

from cityvitals.embedded import EmbeddedMosquitto
from cityvitals.embedded.stack import BROKER_ACCOUNTS
from tests.deploy.secured_broker import DEPLOY, SHIPPED_CONF

README = DEPLOY.parent / "README.md"
LIMITS = ("max_inflight_messages", "max_queued_messages", "max_queued_bytes")


def limits_in(config: str) -> dict[str, int]:
    """The limit options of a Mosquitto configuration; a later line overrides an earlier one,
    as in Mosquitto itself."""
    found: dict[str, int] = {}
    for line in config.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] in LIMITS:
            found[words[0]] = int(words[1])
    return found


def readme_ingest_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("\n## Ingest\n", 1)[1].split("\n## ", 1)[0]


def test_the_deployed_and_the_embedded_broker_set_the_same_limits(tmp_path: Path) -> None:
    deployed = limits_in(SHIPPED_CONF.read_text(encoding="utf-8"))
    embedded = limits_in(EmbeddedMosquitto(tmp_path, accounts=BROKER_ACCOUNTS).render_config())
    assert set(deployed) == set(LIMITS)
    assert embedded == deployed


def test_readme_states_the_limits_the_brokers_use() -> None:
    deployed = limits_in(SHIPPED_CONF.read_text(encoding="utf-8"))
    stated = {
        name: int(value)
        for name, value in re.findall(r"`(max_\w+) (\d+)`", readme_ingest_section())
    }
    assert stated == deployed
    # Stated once: the deploy guide points to README instead of repeating the numbers.
    guide = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert not re.search(r"max_queued_messages \d|max_inflight_messages \d", guide)


def test_the_emqx_cluster_allows_what_mosquitto_does() -> None:
    deployed = limits_in(SHIPPED_CONF.read_text(encoding="utf-8"))
    emqx = ConfigFactory.parse_file(str(DEPLOY / "k8s" / "emqx" / "emqx.conf"))["mqtt"]
    assert emqx["max_inflight"] == deployed["max_inflight_messages"]
    assert emqx["max_mqueue_len"] == deployed["max_queued_messages"]
