"""`analyze()` (draft decoding, Lanczos, the Rust core) against the reference pipeline (full
decode, Lanczos, NumPy statistics) on generated images and, when present, the real photos."""

from __future__ import annotations

import pytest

from image_insights import analyze
from benches.inputs import FAST, GENERATED, REAL_PHOTOS_DIR, REFERENCE, encoded, real_photo_names
from tests.support.reference import reference_analyze

METRICS = "brightness,median,histogram"
EDGE_MODE = "all"
#: Inputs above this many bytes (the 5000 x 3330 ones) get a fixed, larger number of rounds.
LARGE_INPUT_BYTES = 1_000_000
LARGE_INPUT_ROUNDS = 15


def _cases() -> list:
    cases = [pytest.param(name, id=name.replace(" ", "-")) for name in GENERATED]
    real = real_photo_names()
    if real:
        cases += [pytest.param(name, id=name) for name in real]
    else:
        reason = f"{REAL_PHOTOS_DIR} is absent: the real photos are not part of the repository"
        cases.append(pytest.param("real", marks=pytest.mark.skip(reason=reason), id="real-photos"))
    return cases


@pytest.mark.parametrize("case", _cases())
@pytest.mark.parametrize("side", [FAST, REFERENCE])
def test_analyze_vs_reference_pipeline(benchmark, measure, record, case: str, side: str) -> None:
    data = encoded(case)
    benchmark.group = case
    run = analyze if side == FAST else reference_analyze
    rounds = LARGE_INPUT_ROUNDS if len(data) > LARGE_INPUT_BYTES else None
    result = measure(rounds, run, data, METRICS, EDGE_MODE)
    assert result["algorithm"] == "rec709" and len(result["histogram"]) == 10
    record(case, side)
