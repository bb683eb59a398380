"""Inventory files (YAML and CSV) are validated row by row against the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.errors import InventoryError
from schemas.geography import Geography, load_geography
from schemas.inventory import load_inventory
from schemas.registry import Registry, load_registry

INVENTORY_DIR = Path(__file__).parents[2] / "schemas" / "inventory"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="module")
def geography() -> Geography:
    return load_geography()


def test_example_inventories_cover_every_type_and_subdistrict(
    registry: Registry, geography: Geography
) -> None:
    yaml_sensors = load_inventory(INVENTORY_DIR / "example.yaml", registry, geography)
    csv_sensors = load_inventory(INVENTORY_DIR / "example.csv", registry, geography)
    assert {s.type for s in yaml_sensors} == set(registry.types)
    assert {s.subdistrict for s in yaml_sensors} == set(geography.subdistricts)
    assert not set(yaml_sensors.sensors) & set(csv_sensors.sensors)
    assert yaml_sensors.warnings == csv_sensors.warnings == ()


def test_yaml_rows_report_every_bad_field(
    tmp_path: Path, registry: Registry, geography: Geography
) -> None:
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
        load_inventory(path, registry, geography)
    keys = [(p.key, p.message.split(" ")[0]) for p in caught.value.problems]
    assert keys == [
        ("sensors[1].type", "unknown"),
        ("sensors[2].subdistrict", "unknown"),
        ("sensors[3].lat", "sensor"),
        ("sensors[4].id", "duplicate"),
        ("sensors[5].id", "String"),
    ]
    assert all(p.file == str(path) for p in caught.value.problems)


def test_csv_rows_are_numbered_like_the_file(
    tmp_path: Path, registry: Registry, geography: Geography
) -> None:
    path = tmp_path / "inv.csv"
    path.write_text(
        "id,type,subdistrict,lat,lon,name\n"
        "c-1,parking_lot_counter,wujiaochang,31.30,121.515,万达广场停车场\n"
        "c-2,parking_lot_counter,wujiaochang,north,121.515,\n",
        encoding="utf-8",
    )
    with pytest.raises(InventoryError) as caught:
        load_inventory(path, registry, geography)
    assert [p.key for p in caught.value.problems] == ["row 3.lat"]


def test_rows_are_placed_by_their_coordinates(
    tmp_path: Path, registry: Registry, geography: Geography
) -> None:
    """No subdistrict: placed by point-in-polygon. Another subdistrict than the coordinates'
    one: kept as named, reported naming both. Outside every district: refused."""
    path = tmp_path / "inv.yaml"
    path.write_text(
        "sensors:\n"
        "  - {id: p-1, type: drain_level, lat: 31.3244, lon: 121.5358}\n"
        "  - {id: p-2, type: drain_level, subdistrict: daqiao, lat: 31.3244, lon: 121.5358}\n",
        encoding="utf-8",
    )
    inventory = load_inventory(path, registry, geography)
    assert [s.subdistrict for s in inventory] == ["yinhang", "daqiao"]
    assert [str(w) for w in inventory.warnings] == [
        f"{path}: sensors[1].subdistrict: sensor 'p-2' names subdistrict 'daqiao' (大桥街道) but "
        "(31.3244, 121.5358) lies in 'yinhang' (殷行街道); kept in 'daqiao'"
    ]
    path.write_text(
        "sensors:\n"
        "  - {id: far-1, type: drain_level, lat: 31.23, lon: 121.47}\n"
        "  - {id: far-2, type: drain_level, subdistrict: yinhang, lat: 31.10, lon: 121.40}\n"
        "  - {id: none-3, type: drain_level}\n",
        encoding="utf-8",
    )
    with pytest.raises(InventoryError) as caught:
        load_inventory(path, registry, geography)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}: sensors[0].lat: sensor 'far-1': (31.23, 121.47) is outside every configured "
        "district (杨浦区 (yangpu))",
        f"{path}: sensors[1].lat: sensor 'far-2': (31.1, 121.4) is outside every configured "
        "district (杨浦区 (yangpu))",
        f"{path}: sensors[2].lat: Field required",
        f"{path}: sensors[2].lon: Field required",
    ]
