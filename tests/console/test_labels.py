"""The console's labels: Chinese and English have the same keys, none empty, and every key the
pages use (data-i18n attributes, t("...") calls) exists in both."""

from __future__ import annotations

import json
import re

from gateway.console_files import STATIC_DIR

LABELS = STATIC_DIR / "i18n"
# Literal keys only (attributes and every "family.key" string in the scripts; a family may hold
# an underscore: "dead_letters.replay", a key a digit: "dead_letters.reason_bad_utf8"); a key
# built from a value (`grade.${grade}`) is checked by its family below.
# (The browser-storage names "cityvitals.key" and "cityvitals.lang" look like keys: left out.)
USED = re.compile(r"""["'](?!cityvitals\.)([a-z][a-z_]*\.[a-z][a-z0-9_]*)["']""")
FAMILIES = {
    "grade.": [
        "red",
        "orange",
        "yellow",
        "blue",
        "none",
        "red_long",
        "orange_long",
        "yellow_long",
        "blue_long",
    ],
    "role.": ["viewer", "operator", "admin", "ingest"],
    "live.": ["connecting", "live", "reconnecting"],
    "kind.": [
        "pending",
        "firing",
        "grade_up",
        "grade_down",
        "resolved",
        "acknowledged",
        "assigned",
        "note",
        "closed",
        "reopened",
        "other",
    ],
}


def labels(lang: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((LABELS / f"{lang}.json").read_text(encoding="utf-8"))
    return loaded


def used_keys() -> set[str]:
    found: set[str] = set()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.suffix in (".js", ".html"):
            found |= set(USED.findall(path.read_text(encoding="utf-8")))
    found |= {family + member for family, members in FAMILIES.items() for member in members}
    return found


def test_both_languages_have_the_same_keys_and_no_empty_label() -> None:
    zh, en = labels("zh"), labels("en")
    assert sorted(set(zh) - set(en)) == []
    assert sorted(set(en) - set(zh)) == []
    assert [k for k, v in {**zh, **en}.items() if not v.strip()] == []
    # Chinese first: the Chinese file is Chinese.
    assert zh["app.title"] == "城市生命体征"


def test_every_key_the_pages_use_exists_in_both() -> None:
    used = used_keys()
    assert len(used) > 40  # the pattern finds the keys (a broken pattern finds none)
    for lang in ("zh", "en"):
        missing = sorted(used - set(labels(lang)))
        assert missing == [], f"{lang}.json lacks {missing}"
    assert sorted(set(labels("zh")) - used) == []  # and no label is left over


def test_the_placeholder_pattern_matches_between_languages() -> None:
    zh, en = labels("zh"), labels("en")
    slots = re.compile(r"\{(\w+)\}")
    differing = [k for k in zh if set(slots.findall(zh[k])) != set(slots.findall(en[k]))]
    assert differing == []
