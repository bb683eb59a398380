"""Sensor types written the way district engineers write them for real devices: units as the
devices send them, aliases for vendor field names, a FIWARE data model, enumerated states.
Shared by the schema, ingest and gateway tests of these features."""

from __future__ import annotations

from schemas.registry import parse_sensor_type
from schemas.sensor_type import SensorType

AIR_STATION = """\
name: air_station
domain: buildings
data_model: AirQualityObserved
display_name: {zh: 空气质量监测站, en: Air-quality station}
description: Ambient air-quality station after GB 3095-2012, publishing FIWARE entities.
reporting_interval: 1h
metrics:
  pm25:
    display_name: {zh: 细颗粒物, en: PM2.5}
    unit: µg/m³
    aliases: [PM2.5, pm2_5]
    range: {min: 0, max: 1000}
    precision: 0
  co:
    display_name: {zh: 一氧化碳, en: Carbon monoxide}
    unit: mg/m³
    aliases: [CO]
    range: {min: 0, max: 150}
    precision: 1
  relative_humidity:
    display_name: {zh: 相对湿度, en: Relative humidity}
    unit: "%RH"
    aliases: [relativeHumidity, rh]
    range: {min: 0, max: 100}
    precision: 0
  temperature:
    display_name: {zh: 气温, en: Temperature}
    unit: °C
    aliases: [temp]
    range: {min: -40, max: 60}
    precision: 1
  aqi:
    display_name: {zh: 空气质量指数, en: Air quality index}
    unit: AQI
    aliases: [airQualityIndex]
    range: {min: 0, max: 500}
    precision: 0
    integer: reject
"""

SPACE_STATE = """\
name: space_state
domain: parking
display_name: {zh: 车位状态检测器, en: Parking space state}
description: A space sensor that also knows reservations.
reporting_interval: 5m
metrics:
  occupancy:
    display_name: {zh: 车位状态, en: Space state}
    unit: state
    kind: state
    states: [free, occupied, reserved, unknown]
    range: {min: 0, max: 3}
    precision: 0
  streetlight:
    display_name: {zh: 路灯, en: Streetlight}
    unit: state
    kind: state
    states: ["on", "off"]
    range: {min: 0, max: 1}
    precision: 0
"""


def air_station() -> SensorType:
    return parse_sensor_type(AIR_STATION, "air_station.yaml")


def space_state() -> SensorType:
    return parse_sensor_type(SPACE_STATE, "space_state.yaml")


def fiware_air(observed: str, **attributes: object) -> dict[str, object]:
    """An AirQualityObserved entity in keyValues form, as the smart-data-models example has it:
    identity, place and qualitative attributes around the measurements."""
    return {
        "id": "urn:ngsi-ld:AirQualityObserved:yp-aq-01",
        "type": "AirQualityObserved",
        "dateObserved": observed,
        "address": {"addressCountry": "CN", "addressLocality": "Shanghai"},
        "location": {"type": "Point", "coordinates": [121.52, 31.27]},
        "source": "https://example.org/aq",
        "airQualityLevel": "moderate",
        "reliability": 0.7,
        "pm25": 35,
        "co": {"value": 900, "unitCode": "GQ"},
        "relativeHumidity": 0.62,
        "temperature": {"value": 50, "unitCode": "FAH"},
        "airQualityIndex": 65,
        **attributes,
    }


# What fiware_air stores, in the declared units: 900 µg/m³ = 0.9 mg/m³, 0.62 -> 62 %RH,
# 50 °F = 10 °C.
FIWARE_AIR_STORED = {
    "pm25": 35.0,
    "co": 0.9,
    "relative_humidity": 62.0,
    "temperature": 10.0,
    "aqi": 65.0,
}
