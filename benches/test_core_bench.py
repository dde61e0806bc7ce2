"""The Rust core against the NumPy reference, every statistic at once, on RGB photos."""

from __future__ import annotations

import pytest

from image_insights import _core
from benches.inputs import FAST, LARGE_SIZE, REFERENCE, SMALL_SIZE, photo
from tests.support.reference import EDGE_MODES, reference_stats

#: Timed calls per side on the large image (None: pytest-benchmark calibrates).
ROUNDS = {(SMALL_SIZE, FAST): None, (SMALL_SIZE, REFERENCE): None,
          (LARGE_SIZE, FAST): 31, (LARGE_SIZE, REFERENCE): 7}  # fmt: skip


def core_every_statistic(pixels, width: int, height: int) -> tuple:
    stats = _core.pixel_statistics(pixels, width, height, "RGB")
    edges = [stats.edge_mean(mode) for mode in EDGE_MODES]
    counts = stats.buckets, stats.luma_histogram
    return stats.mean, stats.median, stats.min, stats.max, counts, edges


@pytest.mark.parametrize("size", [SMALL_SIZE, LARGE_SIZE], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("side", [FAST, REFERENCE])
def test_core_vs_reference(benchmark, measure, record, size: tuple[int, int], side: str) -> None:
    width, height = size
    pixels = photo(size)
    case = f"core {width}x{height}"
    benchmark.group = case
    if side == FAST:
        result = measure(ROUNDS[size, side], core_every_statistic, pixels, width, height)
        assert result[0] == pytest.approx(reference_stats(pixels, "RGB").mean, abs=1e-9)
        record(case, side, pixel_bytes=pixels.nbytes)
    else:
        result = measure(ROUNDS[size, side], reference_stats, pixels, "RGB")
        assert result.pixel_count == width * height
        record(case, side)
