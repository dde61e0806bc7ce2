"""`analyze()` against the reference pipeline, in process, on the generated traffic
classes (benches/traffic.py; the real samples among them are in test_pipeline_bench.py).
The HTTP side of the same classes, with the sharp peer, is load/run_http.py."""

from __future__ import annotations

import pytest

from image_insights import analyze
from benches.inputs import FAST, REFERENCE
from benches.traffic import CLASSES, encoded
from tests.support.reference import reference_analyze

METRICS = "brightness,median,histogram"
EDGE_MODE = "all"
#: Inputs above this many bytes get a fixed number of rounds (pytest-benchmark's default of
#: five leaves their medians at the neighbours' mercy).
LARGE_INPUT_BYTES = 1_000_000
LARGE_INPUT_ROUNDS = 15

GENERATED = [cls.name for cls in CLASSES if cls.real_file is None]


@pytest.mark.parametrize("name", GENERATED, ids=[n.replace(" ", "-") for n in GENERATED])
@pytest.mark.parametrize("side", [FAST, REFERENCE])
def test_traffic_class(benchmark, measure, record, name: str, side: str) -> None:
    data = encoded(name)
    case = f"traffic {name}"
    benchmark.group = case
    run = analyze if side == FAST else reference_analyze
    rounds = LARGE_INPUT_ROUNDS if len(data) > LARGE_INPUT_BYTES else None
    result = measure(rounds, run, data, METRICS, EDGE_MODE)
    assert len(result["histogram"]) == 10
    record(case, side)
