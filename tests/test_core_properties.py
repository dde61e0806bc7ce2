"""The Rust core against the NumPy reference (tests/support/reference.py), and its Python binding.

Property tests: for random images in every layout and shape, counts, min/max and the median
must equal the reference exactly, the means within 1e-9. Unit tests: what the binding
accepts, what it refuses and how it says so, and that it lets other threads run.
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from image_insights import _core
from tests.support.reference import (
    BUCKET_COUNT,
    BUCKET_WIDTH_SCALED,
    CHANNELS,
    EDGE_MODES,
    SCALE,
    WEIGHTS_SCALED,
    ReferenceStats,
    reference_stats,
)

LAYOUTS = tuple(CHANNELS)
MEAN_TOLERANCE = 1e-9


def _boundary_colours() -> np.ndarray:
    """Every RGB colour whose L x 10000 lies on, or next to, a bucket edge or a
    half-integer luminance (where the 256-bin histogram rounds): the values an off-by-one or
    a float comparison would put in the wrong bin. All three weights are even, so L x 10000
    is always even and the nearest neighbours of an edge are 2 units away."""
    targets = [k * BUCKET_WIDTH_SCALED + d for k in range(1, BUCKET_COUNT) for d in (-2, 0, 2)]
    targets += [k * SCALE + SCALE // 2 + d for k in range(255) for d in (-2, 0, 2)]
    red, green = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    red_green = (red * WEIGHTS_SCALED[0] + green * WEIGHTS_SCALED[1]).ravel()
    found = []
    for target in targets:
        remainder = target - red_green
        blue, exact = np.divmod(remainder, WEIGHTS_SCALED[2])
        ok = (exact == 0) & (blue >= 0) & (blue <= 255)
        found.append(np.stack([red.ravel()[ok], green.ravel()[ok], blue[ok]], axis=1))
    return np.concatenate(found).astype(np.uint8)


BOUNDARY_COLOURS = _boundary_colours()
#: Grey levels either side of each bucket edge i x 25.6, plus black and white.
BOUNDARY_GREYS = np.array(
    sorted({0, 255} | {int(k * 25.6) + d for k in range(1, BUCKET_COUNT) for d in (0, 1)}),
    dtype=np.uint8,
)
PIXEL_SOURCES = ("uniform", "few_values", "boundaries", "extremes", "drawn")


@st.composite
def images(draw: st.DrawFn, max_side: int = 40, width=None, height=None):
    """(layout, pixels) with pixels a (h, w) or (h, w, c) uint8 array. The pixel values come
    from a seeded generator (cheap for hypothesis to draw) in one of several styles:
    uniform noise, a handful of repeated values (ties around the median), colours on bucket
    and rounding edges, only 0 and 255, or, for tiny images, bytes drawn by hypothesis
    itself so that failures shrink to the smallest image."""
    layout = draw(st.sampled_from(LAYOUTS))
    width = draw(st.integers(1, max_side)) if width is None else draw(width)
    height = draw(st.integers(1, max_side)) if height is None else draw(height)
    source = draw(st.sampled_from(PIXEL_SOURCES))
    channels = CHANNELS[layout]
    shape = (height, width, channels)
    size = height * width * channels
    if source == "drawn" and size <= 256:
        data = draw(st.binary(min_size=size, max_size=size))
        pixels = np.frombuffer(data, dtype=np.uint8).reshape(shape)
    else:
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)  # alpha stays random
        if source == "few_values":
            palette = rng.integers(0, 256, size=(rng.integers(1, 4), channels), dtype=np.uint8)
            pixels = palette[rng.integers(0, len(palette), size=shape[:2])]
        elif source == "boundaries" and channels >= 3:
            picks = rng.integers(0, len(BOUNDARY_COLOURS), size=shape[:2])
            pixels[..., :3] = BOUNDARY_COLOURS[picks]
        elif source == "boundaries":
            pixels[..., 0] = rng.choice(BOUNDARY_GREYS, size=shape[:2])
        elif source == "extremes":
            pixels = np.where(pixels >= 128, 255, 0).astype(np.uint8)
    if layout == "L" and draw(st.booleans()):
        pixels = pixels[..., 0]  # the (h, w) shape of a greyscale array
    return layout, np.ascontiguousarray(pixels)


def assert_matches_reference(stats: _core.ImageStatistics, ref: ReferenceStats) -> None:
    assert (stats.width, stats.height) == (ref.width, ref.height)
    assert stats.pixel_count == ref.pixel_count
    assert stats.buckets == ref.buckets
    assert sum(stats.buckets) == stats.pixel_count
    assert stats.luma_histogram == ref.luma_histogram
    assert (stats.min, stats.max) == (ref.min, ref.max)
    assert stats.median_x2_scaled == ref.median_x2_scaled
    assert stats.median == ref.median
    assert stats.sum_scaled == ref.sum_scaled
    assert stats.mean == pytest.approx(ref.mean, rel=0, abs=MEAN_TOLERANCE)
    for mode in EDGE_MODES:
        assert stats.edge_pixel_count(mode) == ref.edge_pixel_counts[mode], mode
        assert stats.edge_mean(mode) == pytest.approx(
            ref.edge_means[mode], rel=0, abs=MEAN_TOLERANCE
        ), mode


def core_stats(layout: str, pixels: np.ndarray) -> _core.ImageStatistics:
    height, width = pixels.shape[:2]
    return _core.pixel_statistics(pixels, width, height, layout)


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(images())
def test_core_equals_reference(image: tuple[str, np.ndarray]) -> None:
    layout, pixels = image
    assert_matches_reference(core_stats(layout, pixels), reference_stats(pixels, layout))


@settings(max_examples=200, deadline=None)
@given(st.data(), st.integers(1, 700), st.booleans())
def test_single_row_and_single_column(data: st.DataObject, length: int, as_row: bool) -> None:
    """1 x N and N x 1: both side strips (or both bands) are the same pixels, counted twice."""
    one, span = st.just(1), st.just(length)
    shape = {"width": span, "height": one} if as_row else {"width": one, "height": span}
    layout, pixels = data.draw(images(**shape))
    assert_matches_reference(core_stats(layout, pixels), reference_stats(pixels, layout))


@settings(max_examples=60, deadline=None)
@given(images(max_side=600))
def test_larger_images(image: tuple[str, np.ndarray]) -> None:
    """Strips many pixels thick and medians spread over many of the core's coarse bins."""
    layout, pixels = image
    assert_matches_reference(core_stats(layout, pixels), reference_stats(pixels, layout))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    ("width", "height"),
    [(1, 1), (1, 2), (2, 1), (2, 2), (3, 3), (9, 10), (10, 9), (19, 20), (20, 19), (21, 21)],
)
def test_sizes_around_strip_thickness_changes(layout: str, width: int, height: int) -> None:
    """Odd and even sizes either side of w = 20 and h = 20, where a strip grows to 2 pixels."""
    rng = np.random.default_rng(width * 100 + height)
    pixels = rng.integers(0, 256, size=(height, width, CHANNELS[layout]), dtype=np.uint8)
    assert_matches_reference(core_stats(layout, pixels), reference_stats(pixels, layout))


def test_boundary_colours_exist_on_every_bucket_edge() -> None:
    """The boundary strategy is only useful if it really reaches each edge exactly."""
    scaled = BOUNDARY_COLOURS.astype(np.int64) @ WEIGHTS_SCALED
    for k in range(1, BUCKET_COUNT):
        edge = k * BUCKET_WIDTH_SCALED
        for neighbour in (edge - 2, edge, edge + 2):
            assert np.any(scaled == neighbour), f"no colour at {neighbour} (bucket edge {k})"


def test_white_is_in_the_last_bucket_and_black_in_the_first() -> None:
    pixels = np.array([[[255, 255, 255], [0, 0, 0], [255, 255, 255]]], dtype=np.uint8)
    stats = _core.pixel_statistics(pixels, 3, 1, "RGB")
    assert stats.buckets == [1] + [0] * 8 + [2]
    assert stats.luma_histogram[255] == 2 and stats.luma_histogram[0] == 1
    assert stats.median == 255.0


# --- the binding --------------------------------------------------------------------------

RGB_2X3 = np.arange(18, dtype=np.uint8).reshape(2, 3, 3) * 13  # 3 wide, 2 high

BUFFER_KINDS = {
    "bytes": lambda: RGB_2X3.tobytes(),
    "bytearray": lambda: bytearray(RGB_2X3.tobytes()),
    "memoryview-of-bytes": lambda: memoryview(RGB_2X3.tobytes()),
    "memoryview-of-array": lambda: memoryview(RGB_2X3),
    "ndarray-hwc": lambda: RGB_2X3,
    "ndarray-flat": lambda: RGB_2X3.ravel(),
}


@pytest.mark.parametrize("kind", BUFFER_KINDS)
def test_accepts_any_uint8_buffer(kind: str) -> None:
    stats = _core.pixel_statistics(BUFFER_KINDS[kind](), 3, 2, "RGB")
    assert_matches_reference(stats, reference_stats(RGB_2X3, "RGB"))


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 1)])
def test_accepts_greyscale_arrays_with_or_without_a_channel_axis(shape) -> None:
    grey = np.array([[0, 100, 200], [50, 150, 250]], dtype=np.uint8)
    stats = _core.pixel_statistics(grey.reshape(shape), 3, 2, "L")
    assert_matches_reference(stats, reference_stats(grey, "L"))


def test_reads_numpy_memory_in_place_and_leaves_it_alone() -> None:
    pixels = np.full((4, 5, 4), 9, dtype=np.uint8)
    pixels.setflags(write=False)  # a read-only buffer is enough
    assert _core.pixel_statistics(pixels, 5, 4, "RGBA").mean == pytest.approx(9.0, abs=1e-12)
    assert np.all(pixels == 9)


@pytest.mark.parametrize(
    ("pixels", "width", "height", "layout", "message"),
    [
        (b"\0" * 17, 3, 2, "RGB", "expected 18"),
        (b"\0" * 19, 3, 2, "RGB", "expected 18"),
        (np.zeros((3, 2, 3), np.uint8), 3, 2, "RGB", r"expected \(2, 3, 3\)"),
        (np.zeros((2, 3, 4), np.uint8), 3, 2, "RGB", r"expected \(2, 3, 3\)"),
        (np.zeros((2, 3), np.uint8), 3, 2, "RGB", r"expected \(2, 3, 3\)"),
        (np.zeros((2, 3, 1, 1), np.uint8), 3, 2, "L", r"expected \(2, 3\)"),
        (np.zeros((2, 3, 3), np.uint16), 3, 2, "RGB", "uint8"),
        (np.zeros((2, 3, 3), np.float64), 3, 2, "RGB", "uint8"),
        (np.zeros((2, 3, 3), np.int8), 3, 2, "RGB", "uint8"),
        ("text", 4, 1, "L", "uint8"),
        (np.zeros((2, 6, 3), np.uint8)[:, ::2], 3, 2, "RGB", "C-contiguous"),
        (np.zeros((3, 2, 3), np.uint8).transpose(1, 0, 2), 3, 2, "RGB", "C-contiguous"),
        (b"\0" * 24, 3, 2, "CMYK", 'expected one of "L", "LA", "RGB", "RGBA"'),
        (b"\0" * 18, 3, 2, "rgb", 'expected one of "L", "LA", "RGB", "RGBA"'),
        (b"", 0, 2, "L", "at least 1x1"),
        (b"", 2**62, 2**62, "RGBA", "too large"),
    ],
    ids=[
        "too-short", "too-long", "transposed-shape", "wrong-channels", "missing-channel-axis",
        "four-dims", "uint16", "float64", "int8", "str", "strided", "fortran-order",
        "unknown-layout", "lower-case-layout", "zero-width", "overflowing-size",
    ],
)  # fmt: skip
def test_refuses_bad_input_saying_what_was_expected(pixels, width, height, layout, message) -> None:
    with pytest.raises(ValueError, match=message):
        _core.pixel_statistics(pixels, width, height, layout)


def test_unknown_edge_mode_is_a_value_error() -> None:
    stats = _core.pixel_statistics(b"\x10", 1, 1, "L")
    with pytest.raises(ValueError, match="left_right"):
        stats.edge_mean("corners")
    with pytest.raises(ValueError, match="left_right"):
        stats.edge_pixel_count("LEFT_RIGHT")


def test_releases_the_gil_while_computing() -> None:
    """Another thread runs Python while the core works on a large image.

    With a switch interval far longer than the test, CPython never takes the GIL away from
    the main thread by force, so the spinning thread can only advance while the main thread
    gives the GIL up of its own accord: here, only inside the core call. Had the core kept
    the GIL, the counter would not move at all between the two reads; nothing is timed.
    """
    pixels = np.random.default_rng(7).integers(0, 256, size=(2000, 3000, 3), dtype=np.uint8)
    counter = [0]
    go, stop = threading.Event(), threading.Event()

    def spin() -> None:
        go.wait()
        while not stop.is_set():
            counter[0] += 1

    previous_interval = sys.getswitchinterval()
    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    # Far above the ~30 ms of the call; a GIL-holding C call of that length was checked to
    # leave the counter at exactly 0 under this setting. The price: the main thread waits up
    # to this long to get the GIL back after each call.
    sys.setswitchinterval(1.0)
    try:
        progress = []
        go.set()
        for _ in range(5):  # the scheduler may not run the spinner during one given call
            before = counter[0]
            _core.pixel_statistics(pixels, 3000, 2000, "RGB")
            progress.append(counter[0] - before)
            if progress[-1] > 0:
                break
    finally:
        stop.set()
        sys.setswitchinterval(previous_interval)
        spinner.join()
    assert any(steps > 0 for steps in progress), progress
