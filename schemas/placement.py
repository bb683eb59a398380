"""Placing a sensor in a subdistrict from what it says about itself: a named subdistrict, its
coordinates, or both.

- coordinates and no subdistrict: the subdistrict whose polygon holds them;
- coordinates outside every configured district: refused (the sensor is in nobody's area);
- a named subdistrict its coordinates contradict: kept as named (polygons are approximate, and an
  engineer who names a subdistrict knows something the map may not) and reported, naming both.

One function for the inventory, sensors registered through the gateway and auto-registration.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.geography import Geography


@dataclass(frozen=True)
class Placement:
    """Where a sensor goes: `subdistrict` (None: refused, `problem` says why, naming `field`),
    and `warning` when its coordinates lie in another subdistrict than it names."""

    subdistrict: str | None
    problem: str | None = None
    field: str | None = None
    warning: str | None = None


def place(
    geography: Geography,
    sensor_id: str,
    subdistrict: str | None,
    lat: float | None,
    lon: float | None,
) -> Placement:
    if subdistrict is not None and subdistrict not in geography:
        return Placement(
            None,
            f"unknown subdistrict {subdistrict!r} (one of: {geography.known_codes()})",
            "subdistrict",
        )
    if lat is None or lon is None:
        if subdistrict is None:
            return Placement(None, "needs a subdistrict or coordinates (lat, lon)", "subdistrict")
        return Placement(subdistrict)
    found = geography.locate(lat, lon)
    if found is None:
        return Placement(
            None,
            f"sensor {sensor_id!r}: ({lat}, {lon}) is outside every configured district "
            f"({geography.describe()})",
            "lat",
        )
    if subdistrict is None:
        return Placement(found.code)
    if found.code != subdistrict:
        named = geography.subdistricts[subdistrict]
        warning = (
            f"sensor {sensor_id!r} names subdistrict {subdistrict!r} ({named.zh}) "
            f"but ({lat}, {lon}) lies in {found.code!r} ({found.zh}); kept in {subdistrict!r}"
        )
        return Placement(subdistrict, warning=warning)
    return Placement(subdistrict)
