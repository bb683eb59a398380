"""Fuzzing the payload decoder and the type checks: bytes in, only Rejection out, and whatever
is accepted is a finite float."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.telemetry import Rejection, decode_payload
from tests.schemas.test_telemetry import NOW_MS, PRESSURE, SMOKE, check

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
_json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=9), inner),
    max_leaves=30,
)
_metric_names = st.sampled_from(["pressure", "battery", "smoke_alarm", "压力", "", "x" * 200])
_reports = st.fixed_dictionaries(
    {"metrics": st.dictionaries(_metric_names, _json_values, max_size=4) | _json_values},
    optional={
        "ts": st.integers() | st.just(NOW_MS) | st.text(max_size=40) | _json_values,
        "seq": st.integers() | _json_values,
        "type": st.text(max_size=20) | _json_values,
    },
)


def _exercise(data: bytes) -> None:
    try:
        results = decode_payload(data, max_bytes=1 << 20)
    except Rejection:
        return  # the one exception allowed
    for index, item in results:
        if isinstance(item, Rejection):
            assert item.detail
            continue
        for validator in (PRESSURE, SMOKE):
            good, bad = check(validator, item, f"[{index}].")
            assert all(type(v) is float and v == v for _, v in good)
            assert all(isinstance(b, Rejection) and b.detail for b in bad)


@settings(max_examples=400, deadline=None, database=None)
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data: bytes) -> None:
    _exercise(data)


@settings(max_examples=400, deadline=None, database=None)
@given(_reports | st.lists(_reports, max_size=4) | _json_values, st.integers(0, 300))
def test_fuzz_random_json_whole_and_truncated(document: object, cut: int) -> None:
    data = json.dumps(document, allow_nan=True, ensure_ascii=cut % 2 == 0).encode()
    _exercise(data)
    _exercise(data[:cut])
