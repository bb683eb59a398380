"""LEGACY, being replaced by the geography files (schemas/geography.py, issue 13): Yangpu
District's 12 subdistricts as Python, still read by the consumers not yet moved to the Geography
(rule and receiver checks, sensor-type hotspots, the simulators, the benchmarks). The database,
the inventory, the gateway, the ingest, vital signs and the alert engine's places use the
Geography; delete this module once the last consumer does.

Codes are the pinyin of the official names; they appear in MQTT topics and in the database, so
they never change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Subdistrict:
    code: str
    zh: str
    en: str
    lat: float
    lon: float


SUBDISTRICTS: tuple[Subdistrict, ...] = (
    Subdistrict("dinghai_road", "定海路街道", "Dinghai Road", 31.2700, 121.5560),
    Subdistrict("pingliang_road", "平凉路街道", "Pingliang Road", 31.2625, 121.5300),
    Subdistrict("jiangpu_road", "江浦路街道", "Jiangpu Road", 31.2660, 121.5160),
    Subdistrict("daqiao", "大桥街道", "Daqiao", 31.2710, 121.5310),
    Subdistrict("sipin_road", "四平路街道", "Siping Road", 31.2800, 121.5080),
    Subdistrict("kongjiang_road", "控江路街道", "Kongjiang Road", 31.2790, 121.5240),
    Subdistrict("changbai_xincun", "长白新村街道", "Changbai Xincun", 31.2860, 121.5430),
    Subdistrict("yanji_xincun", "延吉新村街道", "Yanji Xincun", 31.2850, 121.5320),
    Subdistrict("wujiaochang", "五角场街道", "Wujiaochang", 31.3010, 121.5150),
    Subdistrict("changhai_road", "长海路街道", "Changhai Road", 31.3120, 121.5250),
    Subdistrict("yinhang", "殷行街道", "Yinhang", 31.3230, 121.5380),
    Subdistrict("xinjiangwancheng", "新江湾城街道", "Xinjiangwancheng", 31.3330, 121.5080),
)

SUBDISTRICTS_BY_CODE: dict[str, Subdistrict] = {s.code: s for s in SUBDISTRICTS}

# Generous box around Yangpu (about 60 km2 on the Huangpu's north-west bank).
LAT_RANGE = (31.24, 31.35)
LON_RANGE = (121.49, 121.58)


def within_yangpu(lat: float, lon: float) -> bool:
    return LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]
