"""Atheris harness: the core's JPEG reader against libjpeg itself. The first byte picks the
scale (1/8, 1/4, 1/2 or full), the rest is the file. Whenever the reader decodes an input,
libjpeg must decode it too, to the same pixels: a file the reader accepts and libjpeg
refuses, or decodes differently, is a crash. libjpeg runs through Pillow's `draft` at the
same scale, or through `djpeg -scale` where Pillow's own marker parser (written in Python,
stricter than libjpeg's) will not open the file or `draft` cannot reach the scale. The
reader may refuse what libjpeg reads (the service then decodes it with Pillow). Seeded with
the JPEG reader's seeds (scripts/jpeg_fuzz_seeds.py); run through scripts/fuzz.sh."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings

import atheris

# The compiled core gives atheris no coverage; Pillow's JPEG parser and this harness do,
# so inputs that reach new refusals, scales or decoding paths on libjpeg's side are kept.
from image_insights import _core

with atheris.instrument_imports():
    from PIL import Image, JpegImagePlugin, UnidentifiedImageError  # noqa: F401

warnings.simplefilter("ignore")  # libjpeg's warnings about damaged data, shown by Pillow
DENOMINATORS = (8, 4, 2, 1)
#: Keeps one input from taking seconds.
MAX_PIXELS = 4_000_000


@atheris.instrument_func
def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    denominator, jpeg = DENOMINATORS[data[0] % 4], data[1:]
    try:
        width, height, mode, pixels = _core.decode_jpeg(jpeg, denominator, MAX_PIXELS)
    except (ValueError, NotImplementedError):
        return
    try:
        image = Image.open(io.BytesIO(jpeg), formats=["JPEG"])
        source_width, source_height = image.size
        if min(source_width, source_height) < denominator:
            image = djpeg(jpeg, denominator)
        else:
            if denominator > 1:
                image.draft(image.mode, (source_width // denominator, source_height // denominator))
            image.load()
    except UnidentifiedImageError:
        image = djpeg(jpeg, denominator)  # Pillow's parser refuses it; libjpeg decides
    except Exception as exc:  # noqa: BLE001 - any refusal by libjpeg is the finding
        raise AssertionError(f"the reader decoded a file libjpeg refuses: {exc!r}") from None
    if (image.width, image.height, image.mode) != (width, height, mode):
        raise AssertionError(f"{(width, height, mode)} against libjpeg's {image.size, image.mode}")
    if image.tobytes() != pixels:
        raise AssertionError(f"pixels differ from libjpeg's at 1/{denominator}")


def djpeg(jpeg: bytes, denominator: int) -> Image.Image:
    """libjpeg's decode at 1/denominator through its own command-line decoder (which exits
    with 2 when libjpeg only warned, as Pillow ignores warnings, and 1 when it refused)."""
    done = subprocess.run(
        ["djpeg", "-scale", f"1/{denominator}", "-pnm"], input=jpeg, capture_output=True
    )
    if done.returncode not in (0, 2) or not done.stdout:
        raise AssertionError(f"the reader decoded a file libjpeg refuses: {done.stderr!r}")
    return Image.open(io.BytesIO(done.stdout))


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
