"""Atheris harness over image_insights.analyze(): any bytes, any metrics and edge mode. The
only acceptable outcomes are a result or one of the pipeline's typed errors; any other
exception is a crash. Run through scripts/fuzz.sh (libFuzzer flags after the corpus dir)."""

from __future__ import annotations

import sys
import warnings

import atheris

with atheris.instrument_imports():
    import image_insights
    from image_insights.errors import (
        CorruptImage,
        EmptyImage,
        ImageTooLarge,
        InvalidEdgeMode,
        InvalidMetrics,
    )

# Production shows Pillow's warnings (corrupt EXIF and the like); it never raises them.
warnings.simplefilter("ignore")
EXPECTED = (CorruptImage, EmptyImage, ImageTooLarge, InvalidEdgeMode, InvalidMetrics)
METRICS = ["brightness", "brightness,median,histogram", "contrast,sharpness,entropy",
           "colorfulness,colors", "median,histogram,colors"]  # fmt: skip
MODES = [None, "left_right", "top_bottom", "all"]
#: Smaller than the service's limit, so one input cannot take seconds to decode.
MAX_PIXELS = 4_000_000


def test_one_input(data: bytes) -> None:
    # The options come from the length, so the bytes stay an image file as the seeds are.
    metrics = METRICS[len(data) % len(METRICS)]
    mode = MODES[(len(data) // len(METRICS)) % len(MODES)]
    try:
        result = image_insights.analyze(data, metrics, mode, max_pixels=MAX_PIXELS)
    except EXPECTED:
        return
    if not (0 <= result.get("average_luminance", 0) <= 255):
        raise AssertionError(f"average out of range: {result}")
    if result["width"] * result["height"] > MAX_PIXELS:
        raise AssertionError(f"over the pixel limit: {result}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
