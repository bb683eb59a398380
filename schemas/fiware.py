"""FIWARE Smart Data Models payloads in keyValues form, read as one telemetry report.

Many city devices and platforms publish NGSI entities such as::

    {"id": "urn:ngsi-ld:AirQualityObserved:yp-aq-01", "type": "AirQualityObserved",
     "dateObserved": "2026-11-25T08:00:00+08:00", "location": {...},
     "pm25": 35, "co": {"value": 0.9, "unitCode": "GP"}, "relativeHumidity": 0.62}

`decode_payload` recognises one by its observation time (``dateObserved``, or
``dateObservedFrom``/``dateObservedTo`` as NoiseLevelObserved has) where a plain report has
``metrics``; this module picks the measurements out of it. The sensor type maps attribute names
onto metrics (metric names and `aliases`) in `TypeValidator`, like any payload.

What is not a measurement is ignored, not refused: the entity's identity and metadata
(`id`, `type`, `location`, `address`, dates, provenance, references) listed below, and text
attributes of the models (``airQualityLevel: moderate``) unless the type declares them.
"""

from __future__ import annotations

# NGSI / GSMA-commons metadata and the non-measurement attributes of the environment models:
# never readings, whatever the sensor type says.
IGNORED_ATTRIBUTES = frozenset(
    {
        "@context",
        "id",
        "type",
        "dateObserved",
        "dateObservedFrom",
        "dateObservedTo",
        "dateCreated",
        "dateModified",
        "createdAt",
        "modifiedAt",
        "location",
        "address",
        "areaServed",
        "source",
        "dataProvider",
        "name",
        "alternateName",
        "description",
        "seeAlso",
        "owner",
        "refDevice",
        "refPointOfInterest",
        "refWeatherObserved",
        "typeOfLocation",
        "reliability",
        "measurand",
        "sonometerClass",
        "stationCode",
        "stationName",
    }
)

# Attributes a data model defines in a fixed unit other than the one people expect: a plain
# number there means this unit (relative humidity is "a number between 0 and 1" in
# AirQualityObserved and WeatherObserved, so 0.62 is stored as 62 %RH, not 0.62 %RH).
MODEL_UNITS = {"relativeHumidity": "1"}

TIME_ATTRIBUTES = ("dateObservedTo", "dateObserved")


def is_fiware(item: dict[str, object]) -> bool:
    """A keyValues entity rather than a plain report: an observation time and no `metrics`."""
    return "metrics" not in item and ("dateObserved" in item or "dateObservedTo" in item)


def observed_at(item: dict[str, object]) -> tuple[str, object]:
    """(attribute, raw time) of the observation: the end of its period when it has one
    (``dateObservedTo``, or the part after '/' of an ISO 8601 interval in ``dateObserved``): a
    value measured over an hour is known at the hour's end."""
    for attribute in TIME_ATTRIBUTES:
        if attribute in item:
            raw = item[attribute]
            if type(raw) is str and "/" in raw:
                raw = raw.rpartition("/")[2]
            return attribute, raw
    return "dateObserved", None  # is_fiware said one is there; kept total for the type checker


def measurements(item: dict[str, object]) -> tuple[tuple[str, object], ...]:
    """(attribute, value) of every attribute that may be a reading, in payload order: a plain
    value, or ``{"value": v, "unitCode": code}`` as ``{"value": v, "unit": code}``."""
    values: list[tuple[str, object]] = []
    for attribute, raw in item.items():
        if attribute in IGNORED_ATTRIBUTES:
            continue
        value = raw
        if type(raw) is dict and "value" in raw:
            code = raw.get("unitCode")
            value = raw["value"] if code is None else {"value": raw["value"], "unit": code}
        if (type(value) is float or type(value) is int) and attribute in MODEL_UNITS:
            value = {"value": value, "unit": MODEL_UNITS[attribute]}
        values.append((attribute, value))
    return tuple(values)
