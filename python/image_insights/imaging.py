"""The analysis pipeline: sniff, guard, decode, convert, downscale, then the Rust core.

Only JPEG and PNG are decoded. The pixel count declared in the header is checked before any
pixel is decoded. Large JPEGs are decoded in the DCT domain at the smallest 1/2, 1/4 or 1/8
scale that still covers the analysis size (Pillow's `draft`), then resized with Lanczos.
"""

from __future__ import annotations

import io
import logging
import math
import struct
import threading
import time
import zlib
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
    if fmt == "PNG":
        check_png_crcs(data)
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
    except (*_DECODE_ERRORS, Warning) as exc:  # a warning, where warnings are errors
        raise CorruptImage(_reason(exc)) from None
    if fmt == "JPEG":
        # Pillow feeds the decoder 64 KiB at a time and libjpeg suspends between pieces,
        # except in arithmetic-coded scans, whose decoder cannot suspend: it reports a broken
        # stream at the first piece's end. The whole file is in memory anyway: one piece.
        image.decodermaxblock = max(image.decodermaxblock, len(data))
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLarge(width * height, max_pixels)
    if width < 1 or height < 1:
        raise CorruptImage(f"image declares a size of {width}x{height}")
    return image


def load_png(image: Image.Image, data: bytes) -> None:
    """Decodes a PNG's pixels; raises CorruptImage for pixel data that does not decode:
    Pillow's errors, and a complete stream that ends before the image does, which Pillow
    decodes without an error, leaving the missing rows as allocated (zero). Inflating the
    stream a second time to prove it long enough costs a third of the decode, so it runs
    only where such rows could be: an interlaced image, or a last row still all zero."""
    try:
        image.load()
    except (*_DECODE_ERRORS, Warning) as exc:
        raise CorruptImage(_reason(exc)) from None
    width, height = image.size
    last_row = image.crop((0, height - 1, width, height)).tobytes()
    if image.info.get("interlace") or not last_row.strip(b"\x00"):
        check_png_pixel_data_length(data)


def check_png_crcs(data: bytes) -> None:
    """Raises CorruptImage when a complete chunk's CRC does not match. Pillow checks the
    chunks it parses but neither the pixel data's (IDAT) CRCs nor zlib's checksum at the end
    of it, so a damaged IDAT would decode to wrong pixels. A chunk cut short by the end of the
    data is left to the decoder."""
    view = memoryview(data)
    offset = 8
    while offset + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        end = offset + 12 + length
        if end > len(data):
            return
        kind = bytes(view[offset + 4 : offset + 8])
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(view[offset + 4 : end - 4]) != crc:
            name = kind.decode("ascii") if kind.isalpha() else "a"
            raise CorruptImage(f"bad CRC in {name} chunk")
        if kind == b"IEND":
            return
        offset = end


#: Channels of each PNG colour type (grey, RGB, palette, grey + alpha, RGBA).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
#: The seven passes of Adam7 interlacing: first column, first row, column step, row step.
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
          (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))  # fmt: skip
_INFLATE_STEP = 1 << 20


def png_pixel_data_length(
    width: int, height: int, depth: int, colour: int, interlaced: bool
) -> int:
    """Bytes of filtered scanlines (a filter byte before each row) the header's image needs."""
    bits = depth * _PNG_CHANNELS[colour]
    total = 0
    for x0, y0, dx, dy in _ADAM7 if interlaced else ((0, 0, 1, 1),):
        columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and rows > 0:
            total += rows * (1 + (columns * bits + 7) // 8)
    return total


def check_png_pixel_data_length(data: bytes) -> None:
    """Raises CorruptImage when the complete IDAT stream inflates to fewer bytes than the
    header's image needs (see load_png). A stream that does not inflate is refused here too;
    one cut short by the end of the data is left to the decoder, which reports it."""
    view = memoryview(data)
    width, height, depth, colour, _, _, interlace = struct.unpack_from(">IIBBBBB", data, 16)
    if colour not in _PNG_CHANNELS:
        return  # Pillow refuses the header itself
    needed = png_pixel_data_length(width, height, depth, colour, interlace == 1)
    inflater = zlib.decompressobj()
    produced = 0
    seen_pixel_data = False
    offset = 8
    while offset + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        kind = bytes(view[offset + 4 : offset + 8])
        if offset + 12 + length > len(data):
            return
        if kind == b"IDAT":
            seen_pixel_data = True
            pending: bytes | memoryview = view[offset + 8 : offset + 8 + length]
            try:
                while pending and produced < needed and not inflater.eof:
                    step = min(_INFLATE_STEP, needed - produced)
                    produced += len(inflater.decompress(pending, step))
                    pending = inflater.unconsumed_tail
            except zlib.error:
                raise CorruptImage("the PNG pixel data does not inflate") from None
            if produced >= needed:
                return
        elif seen_pixel_data:
            break  # the IDAT chunks are consecutive: the stream is complete
        offset += 12 + length
    else:
        return  # the data ends inside the IDAT chunks: left to the decoder
    raise CorruptImage("the PNG pixel data ends before the image does")


def to_analysis_pixels(image: Image.Image, keep_alpha: bool = False) -> Image.Image:
    """Decodes `image` and returns it as 'L' or 'RGB', at most 512 px on its longer side.
    With `keep_alpha`, an image with transparency comes back as 'LA' or 'RGBA' instead: the
    colour channels exactly as without it, plus the alpha channel resized alike."""
    target = analysis_size(*image.size)
    try:
        if image.format == "JPEG" and target != image.size:
            image.draft(None, target)
        image.load()
        alpha = _alpha_channel(image) if keep_alpha else None
        image = _to_l_or_rgb(image)
        if image.size != target:
            image = image.resize(target, Image.Resampling.LANCZOS)
        if alpha is not None:
            if alpha.size != target:
                alpha = alpha.resize(target, Image.Resampling.LANCZOS)
            image = Image.merge(image.mode + "A", (*image.split(), alpha))
    except _DECODE_ERRORS as exc:
        raise CorruptImage(_reason(exc)) from None
    return image


def _alpha_channel(image: Image.Image) -> Image.Image | None:
    """The 8-bit alpha channel of an image that has transparency, else None."""
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        return image.getchannel("A")
    if "transparency" in image.info and image.mode in ("P", "L", "RGB"):
        return image.convert("RGBA").getchannel("A")
    return None


#: EXIF orientation -> the transpose that shows the image as a person sees it.
_ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation tag (1-8) of an opened image; 1 when absent or unreadable.
    Raises CorruptImage when reading it means decoding pixels that do not decode."""
    if image.format == "PNG":
        # Pillow reads a PNG's EXIF (an eXIf chunk may follow the pixel data) by decoding the
        # image first. A failure there is a corrupt image, never "no EXIF": swallowed, it
        # would leave a half-decoded raster that a later load() does not decode again.
        try:
            image.load()
        except (*_DECODE_ERRORS, Warning) as exc:
            raise CorruptImage(_reason(exc)) from None
    try:
        value = image.getexif().get(0x0112, 1)
    except (*_DECODE_ERRORS, Warning):
        # Pillow warns about a corrupt EXIF block; where warnings are errors (python -W
        # error, pytest's filterwarnings) the warning is raised, and it means "unreadable".
        return 1
    return value if isinstance(value, int) and value in _ORIENTATIONS else 1


def orient(pixels: Image.Image, orientation: int) -> Image.Image:
    """`pixels` turned the way the EXIF orientation says a person sees them."""
    method = _ORIENTATIONS.get(orientation)
    return pixels if method is None else pixels.transpose(method)


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
    if isinstance(exc, UnidentifiedImageError):
        return "the bytes could not be identified as an image"  # Pillow's text names objects
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def luminance_stats(
    image: Image.Image, colors: bool = False, sharpness: bool = False
) -> _core.LuminanceStats:
    """Runs the Rust core on an 'L', 'LA', 'RGB' or 'RGBA' image."""
    return _core.luminance_stats(
        image.tobytes(), image.width, image.height, image.mode, colors=colors, sharpness=sharpness
    )


# --- large JPEGs: the eighth-scale image from DC coefficients (docs/ALGORITHM.md) ----------

#: The DC path runs when the longer side of the eighth-scale image reaches this; below it,
#: analysing the eighth-scale image drifts from the 512-px analysis (the threshold study
#: in docs/ALGORITHM.md, "Large JPEGs from DC coefficients").
JPEG_DC_MIN_SIDE = 384

_log = logging.getLogger(__name__)


class FastPathCounter:
    """How often the JPEG DC path served a decode and how often it fell back to Pillow, by
    reason; thread-safe, for the metrics endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.used = 0
        self.fallbacks: dict[str, int] = {}

    def record_use(self) -> None:
        with self._lock:
            self.used += 1

    def record_fallback(self, reason: str) -> None:
        with self._lock:
            self.fallbacks[reason] = self.fallbacks.get(reason, 0) + 1

    @property
    def fallback_count(self) -> int:
        with self._lock:
            return sum(self.fallbacks.values())


#: The process-wide counts of the JPEG DC path.
JPEG_FAST_PATH = FastPathCounter()


def eighth_size(width: int, height: int) -> tuple[int, int]:
    """The size of a JPEG decoded at scale 1/8, as libjpeg rounds it."""
    return math.ceil(width / 8), math.ceil(height / 8)


def jpeg_dc_pixels(data: bytes, image: Image.Image, max_pixels: int) -> Image.Image | None:
    """The analysis pixels of a large JPEG from its DC coefficients, or None when the DC path
    does not apply (not a JPEG, too small) or fails (unsupported kind, damaged data: counted
    as a fallback, and Pillow's path decides)."""
    if image.format != "JPEG" or max(eighth_size(*image.size)) < JPEG_DC_MIN_SIDE:
        return None
    try:
        width, height, mode, pixels = _core.decode_jpeg_dc(data, max_pixels)
    except NotImplementedError as exc:
        _fall_back("unsupported", exc)
        return None
    except ValueError as exc:
        _fall_back("malformed", exc)
        return None
    eighth = Image.frombytes(mode, (width, height), pixels)
    target = analysis_size(*image.size)
    if max(width, height) > ANALYSIS_MAX_SIDE:
        eighth = eighth.resize(target, Image.Resampling.LANCZOS)
    JPEG_FAST_PATH.record_use()
    return eighth


def _fall_back(reason: str, exc: Exception) -> None:
    JPEG_FAST_PATH.record_fallback(reason)
    _log.debug("JPEG DC path fell back to Pillow (%s): %s", reason, exc)


def analyze(
    data: bytes,
    metrics: str | Iterable[str] | None = "brightness",
    edge_mode: str | None = None,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    timings: dict[str, float] | None = None,
    jpeg_fast_path: bool = True,
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
        jpeg_fast_path: large JPEGs from their DC coefficients (`jpeg_dc_pixels`).

    Raises:
        InvalidMetrics, InvalidEdgeMode, EmptyImage, CorruptImage, ImageTooLarge.
    """
    wanted = parse_metrics(metrics)
    mode = parse_edge_mode(edge_mode)
    started = time.perf_counter()
    image = open_image(data, max_pixels)
    width, height = image.size
    if image.format == "PNG":
        load_png(image, data)
    orientation = exif_orientation(image)
    colors = "colors" in wanted or "colorfulness" in wanted
    analysed = jpeg_dc_pixels(data, image, max_pixels) if jpeg_fast_path else None
    if analysed is None:
        analysed = to_analysis_pixels(image, keep_alpha=colors)
    pixels = orient(analysed, orientation)
    decoded = time.perf_counter()
    stats = luminance_stats(pixels, colors=colors, sharpness="sharpness" in wanted)
    result = build_result(stats, wanted, mode, width, height, orientation)
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
    orientation: int = 1,
) -> dict[str, Any]:
    """Formats core statistics as the contract's fields, rounded as Python's `round` does.
    Fields of the metrics beyond the contract's three appear only when asked for."""
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
    if "contrast" in metrics:
        result["contrast_rms"] = round(stats.contrast_rms, 2)
        result["luminance_p5"] = round(stats.p5, 2)
        result["luminance_p95"] = round(stats.p95, 2)
        result["dynamic_range"] = round(stats.p95 - stats.p5, 2)
    if "sharpness" in metrics and stats.sharpness is not None:
        result["sharpness"] = round(stats.sharpness, 2)
    if "entropy" in metrics:
        result["entropy_bits"] = round(stats.entropy_bits, 3)
    if "colorfulness" in metrics or "colors" in metrics:
        _add_colour_fields(result, stats, metrics, edge_mode)
    result["width"] = width
    result["height"] = height
    if orientation != 1:
        result["orientation"] = orientation
    result["algorithm"] = ALGORITHM
    return result


#: Which strips' colours each edge mode reports, in the core's side order.
_EDGE_SIDES = {
    "left_right": ("left", "right"),
    "top_bottom": ("top", "bottom"),
    "all": ("left", "right", "top", "bottom"),
}
_SIDE_ORDER = ("left", "right", "top", "bottom")


def _add_colour_fields(
    result: dict[str, Any],
    stats: _core.LuminanceStats,
    metrics: tuple[str, ...],
    edge_mode: str | None,
) -> None:
    if "colorfulness" in metrics:
        colorfulness = stats.colorfulness
        result["colorfulness"] = None if colorfulness is None else round(colorfulness, 2)
    if "colors" not in metrics:
        return
    opaque = stats.opaque_pixel_count or 0
    result["average_color"] = stats.average_color
    result["dominant_colors"] = [
        {"color": color, "percent": round(count / opaque * 100, 1)}
        for color, count in (stats.dominant_colors or [])
    ]
    if edge_mode is not None and stats.edge_colors is not None:
        sides = dict(zip(_SIDE_ORDER, stats.edge_colors, strict=True))
        result["edge_colors"] = {side: sides[side] for side in _EDGE_SIDES[edge_mode]}


def _score(mean_luminance: float) -> int:
    return round(mean_luminance / 255 * 100)


__all__ = ["analyze", "analysis_size", "open_image", "to_analysis_pixels", "VALID_METRICS"]
