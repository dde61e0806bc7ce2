"""The analysis pipeline: sniff, guard, decode, convert, downscale, then the Rust core.

Only JPEG and PNG are decoded. The pixel count declared in the header is checked before any
pixel is decoded. Large JPEGs are decoded in the DCT domain at the smallest 1/2, 1/4 or 1/8
scale that still covers the analysis size (Pillow's `draft`), then resized with Lanczos.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable
from typing import Any

from PIL import Image, UnidentifiedImageError

from . import _core
from .errors import CorruptImage, EmptyImage, ImageTooLarge
from .options import VALID_METRICS, parse_edge_mode, parse_metrics

#: The longer side of the image the metrics are computed on.
ANALYSIS_MAX_SIDE = 512
#: Default of MAX_IMAGE_PIXELS: the largest width x height accepted.
DEFAULT_MAX_PIXELS = 50_000_000
ALGORITHM = "rec709"
#: Contract histogram labels, bucket i covering [i x 25.6, (i + 1) x 25.6).
HISTOGRAM_RANGES: tuple[str, ...] = (
    "0-24", "25-50", "51-75", "76-101", "102-127",
    "128-152", "153-178", "179-203", "204-229", "230-255",
)  # fmt: skip

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)

# Our own check (before decoding, against the configured limit) replaces Pillow's global
# decompression-bomb warning and error, which would fire at a different limit.
Image.MAX_IMAGE_PIXELS = None

#: What Pillow raises on bytes it cannot decode.
_DECODE_ERRORS = (
    UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError,
    KeyError, ZeroDivisionError, MemoryError, Image.DecompressionBombError,
)  # fmt: skip


def sniff_format(data: bytes) -> str:
    """'JPEG' or 'PNG' from the leading bytes, whatever type was declared."""
    for signature, fmt in _SIGNATURES:
        if data.startswith(signature):
            return fmt
    raise CorruptImage("not a JPEG or PNG image")


def analysis_size(width: int, height: int) -> tuple[int, int]:
    """The contract's target size: longer side at most 512, aspect kept, each side >= 1."""
    if max(width, height) <= ANALYSIS_MAX_SIDE:
        return width, height
    if width > height:
        return ANALYSIS_MAX_SIDE, max(1, int(height * (ANALYSIS_MAX_SIDE / width)))
    return max(1, int(width * (ANALYSIS_MAX_SIDE / height))), ANALYSIS_MAX_SIDE


def open_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Opens JPEG or PNG bytes lazily (header only) after the format and size checks."""
    if not data:
        raise EmptyImage()
    fmt = sniff_format(data)
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
    except _DECODE_ERRORS as exc:
        raise CorruptImage(_reason(exc)) from None
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLarge(width * height, max_pixels)
    if width < 1 or height < 1:
        raise CorruptImage(f"image declares a size of {width}x{height}")
    return image


def to_analysis_pixels(image: Image.Image) -> Image.Image:
    """Decodes `image` and returns it as 'L' or 'RGB', at most 512 px on its longer side."""
    target = analysis_size(*image.size)
    try:
        if image.format == "JPEG" and target != image.size:
            image.draft(None, target)
        image.load()
        image = _to_l_or_rgb(image)
        if image.size != target:
            image = image.resize(target, Image.Resampling.LANCZOS)
    except _DECODE_ERRORS as exc:
        raise CorruptImage(_reason(exc)) from None
    return image


def _to_l_or_rgb(image: Image.Image) -> Image.Image:
    """Greyscale stays one channel (its luminance is the grey value); everything else is RGB.
    Alpha is dropped without compositing, as the service always has. 16-bit greyscale is
    scaled to 8 bits (rounded), not clipped."""
    mode = image.mode
    if mode in ("L", "RGB"):
        return image
    if mode in ("1", "LA", "La"):
        return image.convert("L")
    if mode.startswith("I") or mode == "F":
        wide = image if mode in ("I", "F") else image.convert("I")
        return wide.point(lambda value: value / 257 + 0.5).convert("L")
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    return image.convert("RGB")


def _reason(exc: BaseException) -> str:
    """A short, safe description of a decoding failure (no paths, no tracebacks)."""
    if isinstance(exc, MemoryError):
        return "image too large to decode"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def luminance_stats(image: Image.Image) -> _core.LuminanceStats:
    """Runs the Rust core on an 'L' or 'RGB' image."""
    return _core.luminance_stats(image.tobytes(), image.width, image.height, image.mode)


def analyze(
    data: bytes,
    metrics: str | Iterable[str] | None = "brightness",
    edge_mode: str | None = None,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Analyses JPEG or PNG bytes and returns the contract's response fields (all but
    `cached` and `processing_time_ms`, which belong to the HTTP layer).

    Arguments:
        data: the encoded image.
        metrics: names from VALID_METRICS, comma-separated or as an iterable.
        edge_mode: 'left_right', 'top_bottom', 'all' or None.
        max_pixels: the largest width x height accepted.
        timings: when given, receives the seconds spent in 'decode' (bytes to pixels at
            analysis size) and 'analysis' (the statistics and the result).

    Raises:
        InvalidMetrics, InvalidEdgeMode, EmptyImage, CorruptImage, ImageTooLarge.
    """
    wanted = parse_metrics(metrics)
    mode = parse_edge_mode(edge_mode)
    started = time.perf_counter()
    image = open_image(data, max_pixels)
    width, height = image.size
    pixels = to_analysis_pixels(image)
    decoded = time.perf_counter()
    stats = luminance_stats(pixels)
    result = build_result(stats, wanted, mode, width, height)
    if timings is not None:
        timings["decode"] = decoded - started
        timings["analysis"] = time.perf_counter() - decoded
    return result


def build_result(
    stats: _core.LuminanceStats,
    metrics: tuple[str, ...],
    edge_mode: str | None,
    width: int,
    height: int,
) -> dict[str, Any]:
    """Formats core statistics as the contract's fields, rounded as Python's `round` does."""
    result: dict[str, Any] = {}
    if "brightness" in metrics:
        result["brightness_score"] = _score(stats.mean)
        result["average_luminance"] = round(stats.mean, 2)
    if "median" in metrics:
        result["median_luminance"] = round(stats.median, 2)
    if "histogram" in metrics:
        total = stats.pixel_count
        result["histogram"] = [
            {"range": label, "percent": round(count / total * 100, 1)}
            for label, count in zip(HISTOGRAM_RANGES, stats.buckets, strict=True)
        ]
    if edge_mode is not None:
        edge_mean = stats.edge_mean(edge_mode)
        result["edge_brightness_score"] = _score(edge_mean)
        result["edge_average_luminance"] = round(edge_mean, 2)
        result["edge_mode"] = edge_mode
    result["width"] = width
    result["height"] = height
    result["algorithm"] = ALGORITHM
    return result


def _score(mean_luminance: float) -> int:
    return round(mean_luminance / 255 * 100)


__all__ = ["analyze", "analysis_size", "open_image", "to_analysis_pixels", "VALID_METRICS"]
