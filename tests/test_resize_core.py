"""The Rust resize (`_core.resize`: fast_image_resize's Lanczos3, every channel on its own)
against the Pillow fallback's path (`to_analysis_pixels`: the L or RGB channels resized with
Pillow's LANCZOS, the alpha channel resized alone): the same pixels on generated photos of
many sizes and aspect ratios and on noise, statistics within the contract's DOWNSCALED
tolerance where the box pre-reduction runs, the target size rule, and memory bounded for
extreme aspect ratios."""

from __future__ import annotations

import functools
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from image_insights import _core
from tests.support import png_files, synthetic
from tests.support.reference import reference_size as analysis_size
from tests.test_pipeline import DOWNSCALED

CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
#: (width, height): web and camera photos, both orientations, panoramas, strips, just over
#: the 512 px limit.
SIZES = [
    (536, 354), (1280, 853), (853, 1280), (2000, 2000), (4000, 600), (600, 4000), (513, 300),
    (1024, 7), (7, 1024), (5000, 3330),
]  # fmt: skip
#: Axes that shrink by more than 64: the box pre-reduction runs before Lanczos.
PRE_REDUCED = [(40_000, 300), (300, 40_000), (70_000, 90)]


@functools.cache
def rgb_photo(width: int, height: int) -> np.ndarray:
    return synthetic.textured_photo(width, height, seed=width + 3 * height)


def photo(width: int, height: int, layout: str) -> np.ndarray:
    """A generated photo in `layout`: grey by Rec. 709; alpha varying across the image."""
    rgb = rgb_photo(width, height)
    colour = synthetic.to_grey(rgb) if layout in ("L", "LA") else rgb
    if layout.endswith("A"):
        return synthetic.with_alpha(colour)
    return colour[..., None] if colour.ndim == 2 else colour


def core_resize(pixels: np.ndarray, layout: str, target: tuple[int, int]) -> np.ndarray:
    height, width, channels = pixels.shape
    out = _core.resize(pixels.tobytes(), width, height, layout, *target)
    return np.frombuffer(out, np.uint8).reshape(target[1], target[0], channels)


def _pillow_channels(pixels: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    channels = pixels[..., 0] if pixels.shape[2] == 1 else pixels
    image = Image.fromarray(np.ascontiguousarray(channels))
    out = np.asarray(image.resize(target, Image.Resampling.LANCZOS))
    return out[..., None] if out.ndim == 2 else out


def pillow_resize(pixels: np.ndarray, layout: str, target: tuple[int, int]) -> np.ndarray:
    """The Pillow fallback: colour (L or RGB) and alpha resized apart, then merged."""
    if not layout.endswith("A"):
        return _pillow_channels(pixels, target)
    colour = _pillow_channels(pixels[..., :-1], target)
    alpha = _pillow_channels(pixels[..., -1:], target)
    return np.concatenate([colour, alpha], axis=2)


def assert_statistics_close(ours: np.ndarray, theirs: np.ndarray, layout: str) -> None:
    """The contract's DOWNSCALED tolerance on the core's statistics of both images."""
    height, width, _ = ours.shape
    a = _core.pixel_statistics(ours.tobytes(), width, height, layout)
    b = _core.pixel_statistics(theirs.tobytes(), width, height, layout)
    assert a.mean == pytest.approx(b.mean, abs=DOWNSCALED["luminance"])
    assert a.median == pytest.approx(b.median, abs=DOWNSCALED["median"])
    assert abs(round(a.mean / 255 * 100) - round(b.mean / 255 * 100)) <= DOWNSCALED["score"]
    for x, y in zip(a.buckets, b.buckets, strict=True):
        assert x / a.pixel_count * 100 == pytest.approx(
            y / b.pixel_count * 100, abs=DOWNSCALED["percent"]
        )


@pytest.mark.parametrize("layout", CHANNELS)
@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_photos_resize_exactly_as_pillow(size: tuple[int, int], layout: str) -> None:
    """Rows first, then columns, with the same weights and fixed point: pillow-simd's pixels."""
    pixels = photo(*size, layout)
    target = analysis_size(*size)
    np.testing.assert_array_equal(
        core_resize(pixels, layout, target), pillow_resize(pixels, layout, target)
    )


@given(
    st.integers(1, 700), st.integers(1, 700), st.floats(1, 64), st.floats(1, 64), st.integers(0)
)
@settings(max_examples=60, deadline=None)
def test_noise_resizes_exactly_as_pillow_up_to_a_factor_of_64(
    width: int, height: int, shrink_x: float, shrink_y: float, seed: int
) -> None:
    """Uniform noise (the worst case for ringing and clipping) at any size and any reduction
    the Lanczos pass takes alone."""
    # At least side / 64, so that the truncation never takes a reduction past 64.
    target = (
        max(-(-width // 64), int(width / shrink_x)),
        max(-(-height // 64), int(height / shrink_y)),
    )
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 1), dtype=np.uint8)
    np.testing.assert_array_equal(
        core_resize(pixels, "L", target), pillow_resize(pixels, "L", target)
    )


def test_enlarging_is_pillows_too() -> None:
    pixels = photo(536, 354, "RGB")[:40, :50]
    np.testing.assert_array_equal(
        core_resize(np.ascontiguousarray(pixels), "RGB", (123, 77)),
        pillow_resize(np.ascontiguousarray(pixels), "RGB", (123, 77)),
    )


@pytest.mark.parametrize("layout", CHANNELS)
@pytest.mark.parametrize("size", PRE_REDUCED, ids=lambda size: f"{size[0]}x{size[1]}")
def test_the_pre_reduction_stays_within_the_downscaled_tolerance(
    size: tuple[int, int], layout: str
) -> None:
    """Past a reduction of 64 the box pre-reduction runs first; Pillow's Lanczos does not."""
    pixels = photo(*size, layout)
    target = analysis_size(*size)
    ours, theirs = core_resize(pixels, layout, target), pillow_resize(pixels, layout, target)
    assert_statistics_close(ours, theirs, layout)
    # Per pixel (measured, scripts/resize_drift.py: at most 1 level, means of 0.03 to 0.06).
    difference = np.abs(ours.astype(np.int16) - theirs)
    assert difference.max() <= 2
    assert difference.mean() < 0.1


@pytest.mark.parametrize("layout", ["LA", "RGBA"])
def test_colour_and_alpha_are_resampled_independently(layout: str) -> None:
    """RGBA's colour is exactly RGB's resize and its alpha exactly the alpha's resize alone:
    nothing is premultiplied, as the Pillow fallback resizes them apart."""
    pixels = photo(1280, 853, layout)
    target = analysis_size(1280, 853)
    together = core_resize(pixels, layout, target)
    colour_layout = layout[:-1]
    colour = core_resize(np.ascontiguousarray(pixels[..., :-1]), colour_layout, target)
    alpha = core_resize(np.ascontiguousarray(pixels[..., -1:]), "L", target)
    np.testing.assert_array_equal(together[..., :-1], colour)
    np.testing.assert_array_equal(together[..., -1:], alpha)


def test_the_same_size_is_a_copy() -> None:
    pixels = photo(536, 354, "RGB")
    np.testing.assert_array_equal(core_resize(pixels, "RGB", (536, 354)), pixels)


@given(st.integers(1, 10**8), st.integers(1, 10**8))
def test_analysis_size_is_the_contracts(width: int, height: int) -> None:
    assert _core.analysis_size(width, height) == analysis_size(width, height)


@pytest.mark.parametrize(
    ("width", "height"), [(512, 512), (513, 1), (1, 513), (50_000_000, 1), (2, 25_000_000),
                          (7071, 7071), (4096, 4095), (1000, 3)],  # fmt: skip
)
def test_analysis_size_at_the_edges(width: int, height: int) -> None:
    assert _core.analysis_size(width, height) == analysis_size(width, height)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((b"\x00" * 4, 2, 2, "CMYK", 1, 1), "unknown pixel layout"),
        ((b"\x00" * 4, 2, 2, "L", 0, 1), "at least 1x1"),
        ((b"\x00" * 3, 2, 2, "L", 1, 1), "buffer holds 3 bytes"),
        ((b"", 0, 2, "L", 1, 1), "at least 1x1"),
    ],
)
def test_bad_arguments_are_value_errors(arguments: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _core.resize(*arguments)


# --- memory for extreme aspect ratios -------------------------------------

#: Decodes and resizes the PNG at argv[1] to the analysis size, then prints the growth of the
#: peak RSS (VmHWM) over what it was with the file read and the module imported.
_MEASURE = """
import sys
from pathlib import Path
from image_insights import _core

def peak():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

data = Path(sys.argv[1]).read_bytes()
before = peak()
width, height, layout, pixels = _core.decode_png(data, 50_000_000)
target = _core.analysis_size(width, height)
resized = _core.resize(pixels, width, height, layout, *target)
assert len(resized) == target[0] * target[1]
print(peak() - before)
"""


@pytest.mark.parametrize(
    ("width", "height"), [(2, 25_000_000), (50_000_000, 1)], ids=["2x25000000", "50000000x1"]
)
def test_extreme_aspect_ratios_cost_their_pixels(width: int, height: int, tmp_path: Path) -> None:
    """Pillow's Lanczos took 1.6 GB for the 2 x 25,000,000 image (weights for every source
    row). Here the peak grows by the decoded image, its copy into Python bytes, the decoder's
    two raw rows and small buffers; the resize adds only small buffers."""
    row = np.zeros(width + 1, np.uint8)
    row[1:] = (np.arange(width) // 100_000 % 200).astype(np.uint8)
    raw = np.tile(row, height) if height > 1 else row
    if height > 1:
        raw = raw.reshape(height, width + 1)
        raw[:, 1:] = (np.arange(height) // 100_000 % 200).astype(np.uint8)[:, None]
    data = png_files.assemble(
        png_files.ihdr(width, height, 8, png_files.GREY), zlib.compress(raw.tobytes(), 1)
    )
    del raw
    path = tmp_path / "extreme.png"
    path.write_bytes(data)
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    growth = int(out.stdout)
    image = width * height
    bound = 2 * image + 2 * (width + 1) + (64 << 20)
    assert growth <= bound, f"peak grew by {growth / 1e6:.0f} MB (bound {bound / 1e6:.0f} MB)"
