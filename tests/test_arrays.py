"""`analyze_array`: decoded pixels give what the same pixels saved as a PNG give, for every
layout and element type, read in place when they can be; anything that is not an image's
pixels is refused with InvalidArray saying why."""

from __future__ import annotations

import io
import tracemalloc
from typing import Any

import numpy as np
import png  # pypng: writes the 16-bit PNGs Pillow cannot
import pytest

import image_insights
from image_insights import InvalidArray

ALL_FIELDS = "brightness,median,histogram,contrast,sharpness,entropy,colorfulness,colors"
#: (layout name, channels; None for a 2-D array)
LAYOUTS = [("L", None), ("L1", 1), ("LA", 2), ("RGB", 3), ("RGBA", 4)]
#: Small (no resize) and larger than the analysis size, wide and tall.
SIZES = [(23, 37), (530, 700), (900, 300)]


def pixels(height: int, width: int, channels: int | None, dtype: Any, seed: int = 0) -> Any:
    """Gradients plus noise over the dtype's whole range, so that 16-bit values straddle
    every rounding boundary."""
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    shape = (height, width) if channels is None else (height, width, channels)
    y = np.linspace(0, 1, height)[:, None]
    x = np.linspace(0, 1, width)[None, :]
    base = (y * 0.6 + x * 0.4)
    if channels is not None:
        base = base[..., None] * np.linspace(0.5, 1.0, channels)
    noise = rng.uniform(-0.15, 0.15, size=shape)
    return np.clip((base + noise) * top, 0, top).astype(dtype)


def as_png(array: Any) -> bytes:
    """The array written as a PNG of its own bit depth."""
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    writer = png.Writer(
        width, height, greyscale=channels in (1, 2), alpha=channels in (2, 4),
        bitdepth=8 * array.dtype.itemsize,
    )  # fmt: skip
    out = io.BytesIO()
    writer.write(out, array.reshape(height, width * channels))
    return out.getvalue()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16], ids=["uint8", "uint16"])
@pytest.mark.parametrize("layout, channels", LAYOUTS, ids=[name for name, _ in LAYOUTS])
@pytest.mark.parametrize("height, width", SIZES, ids=[f"{w}x{h}" for h, w in SIZES])
def test_an_array_gives_what_the_same_pixels_as_png_give(
    layout: str, channels: int | None, dtype: Any, height: int, width: int
) -> None:
    array = pixels(height, width, channels, dtype)
    for edge_mode in (None, "all"):
        expected = image_insights.analyze(as_png(array), ALL_FIELDS, edge_mode)
        assert image_insights.analyze_array(array, ALL_FIELDS, edge_mode) == expected
        assert expected["width"] == width and expected["height"] == height


def test_sixteen_bit_samples_are_rounded_never_clipped() -> None:
    # v -> floor(v / 257 + 1/2): 65535 is 255; k x 257 + 128 is k, k x 257 + 129 is k + 1.
    white = np.full((8, 8), 65535, np.uint16)
    assert image_insights.analyze_array(white, "brightness")["average_luminance"] == 255.0
    assert image_insights.analyze_array(np.full((8, 8), 128, np.uint16))["average_luminance"] == 0
    assert image_insights.analyze_array(np.full((8, 8), 129, np.uint16))["average_luminance"] == 1
    below = np.full((8, 8), 257 * 100 + 128, np.uint16)
    above = np.full((8, 8), 257 * 100 + 129, np.uint16)
    assert image_insights.analyze_array(below)["average_luminance"] == 100.0
    assert image_insights.analyze_array(above)["average_luminance"] == 101.0


def test_byte_order_and_memory_layout_do_not_change_the_result() -> None:
    array = pixels(300, 700, 3, np.uint16, seed=3)
    expected = image_insights.analyze_array(array, ALL_FIELDS, "all")
    assert image_insights.analyze_array(array.astype(">u2"), ALL_FIELDS, "all") == expected

    eight = pixels(600, 800, 4, np.uint8, seed=4)
    strided = eight[::2, 1::2]  # a view, not C-contiguous: copied once
    assert not strided.flags.c_contiguous
    assert image_insights.analyze_array(strided, ALL_FIELDS) == image_insights.analyze_array(
        np.ascontiguousarray(strided), ALL_FIELDS
    )
    fortran = np.asfortranarray(eight)
    assert image_insights.analyze_array(fortran) == image_insights.analyze_array(eight)


def test_any_buffer_with_a_shape_will_do() -> None:
    array = pixels(40, 60, 3, np.uint8, seed=5)
    view = memoryview(array.tobytes()).cast("B", shape=[40, 60, 3])
    assert image_insights.analyze_array(view, ALL_FIELDS) == image_insights.analyze_array(
        array, ALL_FIELDS
    )


def test_eight_bit_contiguous_pixels_are_read_in_place() -> None:
    # 4000 x 3000 RGB is 36 MB; a copy on the Python side would show in tracemalloc (NumPy
    # and bytes allocations are traced; the core's own scratch is not Python's).
    array = pixels(3000, 4000, 3, np.uint8, seed=6)
    tracemalloc.start()
    try:
        image_insights.analyze_array(array, "brightness")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


@pytest.mark.parametrize(
    "array, words",
    [
        (np.zeros(12, np.uint8), "shape (12,) is not an image"),
        (np.zeros((4, 4, 5), np.uint8), "shape (4, 4, 5) is not an image"),
        (np.zeros((2, 2, 2, 2), np.uint8), "shape (2, 2, 2, 2) is not an image"),
        (np.zeros((0, 4), np.uint8), "has no pixels"),
        (np.zeros((4, 0, 3), np.uint8), "has no pixels"),
        (np.zeros((4, 4), np.float32), "uint8 or uint16, got float32"),
        (np.zeros((4, 4, 3), np.int16), "uint8 or uint16, got int16"),
        (np.zeros((4, 4), np.uint32), "uint8 or uint16, got uint32"),
        (np.zeros((4, 4), bool), "uint8 or uint16, got bool"),
        ([[0, 1], [2, 3]], "expected a NumPy array or another buffer of pixels, got list"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_what_is_not_an_image_is_refused_saying_why(array: Any, words: str) -> None:
    with pytest.raises(InvalidArray, match=words.replace("(", r"\(").replace(")", r"\)")) as info:
        image_insights.analyze_array(array)
    assert isinstance(info.value, ValueError)
    assert info.value.code == "invalid_array"


def test_options_are_checked_as_for_analyze() -> None:
    array = np.zeros((4, 4), np.uint8)
    with pytest.raises(image_insights.InvalidMetrics):
        image_insights.analyze_array(array, "brightness,nope")
    with pytest.raises(image_insights.InvalidEdgeMode):
        image_insights.analyze_array(array, edge_mode="sideways")
