"""Issue 8: the eighth-scale decode from DC coefficients against Pillow's `draft` decode at
scale 1/8, and `analyze()` on a large JPEG with the DC path on and off.

The large progressive JPEG is the real 5000 x 3330 sample when ../shared/images has it,
else the generated one of the same size; its baseline re-encode is jpegtran's lossless
transcoding (same coefficients, sequential Huffman), or Pillow's when jpegtran is missing.
Targets (fast / reference medians of one run): decode >= 15x progressive and >= 1.5x
baseline, analyze() >= 10x.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess

import pytest
from PIL import Image

from image_insights import _core, analyze
from inputs import FAST, GENERATED, REAL_PHOTOS_DIR, REFERENCE, encoded

REAL_LARGE = REAL_PHOTOS_DIR / "sample3-5000x3330-color-progressive.jpg"
ROUNDS = 21
METRICS = "brightness,median,histogram"


@functools.cache
def progressive() -> bytes:
    if REAL_LARGE.is_file():
        return REAL_LARGE.read_bytes()
    return encoded("5000x3330 jpeg progressive")


@functools.cache
def baseline() -> bytes:
    data = progressive()
    if shutil.which("jpegtran"):
        return subprocess.run(["jpegtran"], input=data, capture_output=True, check=True).stdout
    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


INPUTS = {"progressive": progressive, "baseline": baseline}


def dc_decode(data: bytes) -> tuple:
    return _core.decode_jpeg_dc(data, 50_000_000)


def draft_decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    # Pillow picks the largest scale whose image is at least the requested size, by
    # integer division: (1, 1) asks for 1/8. (Asking for the rounded-up eighth size,
    # ceil(3330 / 8) = 417, would get 1/4, since 3330 // 417 = 7.)
    image.draft("RGB", (1, 1))
    image.load()
    width, height = image.size
    assert (width, height) == ((5000 + 7) // 8, (3330 + 7) // 8), image.size
    return image


@pytest.mark.parametrize("kind", list(INPUTS))
@pytest.mark.parametrize("side", [FAST, REFERENCE])
def test_eighth_scale_decode(benchmark, measure, record, kind: str, side: str) -> None:
    data = INPUTS[kind]()
    case = f"jpeg dc decode 5000x3330 {kind}"
    benchmark.group = case
    result = measure(ROUNDS, dc_decode if side == FAST else draft_decode, data)
    assert result is not None
    record(case, side)


@pytest.mark.parametrize("side", [FAST, REFERENCE])
def test_analyze_fast_path_on_off(benchmark, measure, record, side: str) -> None:
    data = progressive()
    case = "jpeg dc analyze() 5000x3330 progressive"
    benchmark.group = case

    def run() -> dict:
        return analyze(data, METRICS, "all", jpeg_fast_path=side == FAST)

    result = measure(ROUNDS, run)
    assert result["width"] == 5000
    record(case, side)


assert "5000x3330 jpeg progressive" in GENERATED
