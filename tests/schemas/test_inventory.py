"""Inventory files (YAML and CSV) are validated row by row against the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.errors import InventoryError
from schemas.inventory import load_inventory
from schemas.registry import Registry, load_registry

INVENTORY_DIR = Path(__file__).parents[2] / "schemas" / "inventory"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


def test_example_inventories_cover_every_type_and_subdistrict(registry: Registry) -> None:
    from schemas.districts import SUBDISTRICTS_BY_CODE

    yaml_sensors = load_inventory(INVENTORY_DIR / "example.yaml", registry)
    csv_sensors = load_inventory(INVENTORY_DIR / "example.csv", registry)
    assert {s.type for s in yaml_sensors} == set(registry.types)
    assert {s.subdistrict for s in yaml_sensors} == set(SUBDISTRICTS_BY_CODE)
    assert not set(yaml_sensors.sensors) & set(csv_sensors.sensors)


def test_yaml_rows_report_every_bad_field(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(
        "sensors:\n"
        "  - {id: ok-1, type: water_main_pressure, subdistrict: yinhang, lat: 31.32, lon: 121.54}\n"
        "  - {id: bad-1, type: gas_meter, subdistrict: yinhang, lat: 31.32, lon: 121.54}\n"
        "  - {id: bad-2, type: water_main_pressure, subdistrict: pudong, lat: 31.32, lon: 121.54}\n"
        "  - {id: bad-3, type: water_main_pressure, subdistrict: yinhang, lat: 31.32, lon: 122.9}\n"
        "  - {id: ok-1, type: water_main_pressure, subdistrict: yinhang, lat: 31.32, lon: 121.54}\n"
        "  - {id: bad 5, type: water_main_pressure, subdistrict: yinhang, lat: 31.3, lon: 121.5}\n",
        encoding="utf-8",
    )
    with pytest.raises(InventoryError) as caught:
        load_inventory(path, registry)
    keys = [(p.key, p.message.split(" ")[0]) for p in caught.value.problems]
    assert keys == [
        ("sensors[1].type", "unknown"),
        ("sensors[2].subdistrict", "unknown"),
        ("sensors[3].lon", "(31.32,"),
        ("sensors[4].id", "duplicate"),
        ("sensors[5].id", "String"),
    ]
    assert all(p.file == str(path) for p in caught.value.problems)


def test_csv_rows_are_numbered_like_the_file(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "inv.csv"
    path.write_text(
        "id,type,subdistrict,lat,lon,name\n"
        "c-1,parking_lot_counter,wujiaochang,31.30,121.515,万达广场停车场\n"
        "c-2,parking_lot_counter,wujiaochang,north,121.515,\n",
        encoding="utf-8",
    )
    with pytest.raises(InventoryError) as caught:
        load_inventory(path, registry)
    assert [p.key for p in caught.value.problems] == ["row 3.lat"]
