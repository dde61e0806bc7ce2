"""The Rust PNG decoder and resize against Pillow on the same inputs: `_core.decode_png`
against the Pillow path the service used before it (the CRC pass, Pillow's decode, the
conversion to L or RGB, as tests/support/reference.py restates them), and
`_core.resize` against Pillow's LANCZOS resize to the analysis size, on photo PNGs of every
common kind (benches/inputs.py, PNG_DECODE)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from image_insights import _core
from benches.inputs import FAST, LARGE_SIZE, PHOTO_PNG_SIZE, PNG_DECODE, REFERENCE, photo, png_input
from tests.support.reference import pillow_l_or_rgb, png_crc_error
from tests.support.reference import reference_size as analysis_size

#: Inputs above this many bytes (the 5000 x 3330 ones) get a fixed number of rounds.
LARGE_INPUT_BYTES = 10_000_000
LARGE_INPUT_ROUNDS = 15
NO_LIMIT = 1 << 40


def pillow_decode(data: bytes) -> Image.Image:
    """The Pillow path's bytes to full-size pixels: the CRC pass, Pillow's decode, L or RGB."""
    assert png_crc_error(data) is None
    image = Image.open(io.BytesIO(data), formats=["PNG"])
    image.load()
    return pillow_l_or_rgb(image)


@pytest.mark.parametrize("name", PNG_DECODE, ids=lambda name: name.replace(" ", "-"))
@pytest.mark.parametrize("side", [FAST, REFERENCE])
def test_png_decode(benchmark, measure, record, name: str, side: str) -> None:
    data = png_input(name)
    case = f"png decode {name}"
    benchmark.group = case
    rounds = LARGE_INPUT_ROUNDS if len(data) > LARGE_INPUT_BYTES else None
    if side == FAST:
        width, height, _, _ = measure(rounds, _core.decode_png, data, NO_LIMIT)
    else:
        width, height = measure(rounds, pillow_decode, data).size
    assert (width, height) == Image.open(io.BytesIO(data)).size
    record(case, side)


@pytest.mark.parametrize("layout", ["L", "RGB"])
@pytest.mark.parametrize("size", [PHOTO_PNG_SIZE, LARGE_SIZE], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("side", [FAST, REFERENCE])
def test_resize(benchmark, measure, record, size: tuple[int, int], layout: str, side: str) -> None:
    rgb = photo(size)
    pixels = rgb if layout == "RGB" else np.ascontiguousarray(rgb[..., 1])
    target = analysis_size(*size)
    case = f"resize {size[0]}x{size[1]} {layout}"
    benchmark.group = case
    rounds = LARGE_INPUT_ROUNDS if pixels.nbytes > LARGE_INPUT_BYTES else None
    if side == FAST:
        data = pixels.tobytes()
        out = measure(rounds, _core.resize, data, *size, layout, *target)
        assert len(out) == target[0] * target[1] * (3 if layout == "RGB" else 1)
    else:
        image = Image.fromarray(pixels)
        assert measure(rounds, image.resize, target, Image.Resampling.LANCZOS).size == target
    record(case, side)
