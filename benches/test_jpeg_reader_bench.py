"""The core's JPEG reader against libjpeg (Pillow's `draft`) decoding the same file at the
same scale, the one the pipeline picks for it (`_core.decode_denominator`), on the JPEG
traffic classes (benches/traffic.py). The two give the same pixels (tests/test_jpeg_reader.py);
this is what each costs."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from image_insights import _core
from benches.inputs import FAST, REFERENCE
from benches.traffic import CLASSES, JPEG, encoded

#: Inputs above this many bytes get a fixed number of rounds.
LARGE_INPUT_BYTES = 1_000_000
LARGE_INPUT_ROUNDS = 15

NAMES = [cls.name for cls in CLASSES if cls.content_type == JPEG and cls.available()]


def core_decode(data: bytes, denominator: int) -> tuple:
    return _core.decode_jpeg(data, denominator, 50_000_000)


def libjpeg_decode(data: bytes, denominator: int) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    width, height = image.size
    if denominator > 1:
        # draft picks the largest scale s <= min(w // (w // d), h // (h // d)): d.
        image.draft(image.mode, (width // denominator, height // denominator))
    image.load()
    return image


@pytest.mark.parametrize("name", NAMES, ids=[n.replace(" ", "-") for n in NAMES])
@pytest.mark.parametrize("side", [FAST, REFERENCE])
def test_decode_at_the_pipelines_scale(benchmark, measure, record, name: str, side: str) -> None:
    data = encoded(name)
    width, height = Image.open(io.BytesIO(data)).size
    denominator = _core.decode_denominator(width, height)
    case = f"jpeg decode 1/{denominator} {name}"
    benchmark.group = case
    run = core_decode if side == FAST else libjpeg_decode
    rounds = LARGE_INPUT_ROUNDS if len(data) > LARGE_INPUT_BYTES else None
    measure(rounds, run, data, denominator)
    record(case, side)
