"""A NumPy reference of the contract's algorithm (../shared/API_CONTRACT.md, "Algorithm"),
written to be read, not to be fast.

Each statistic is computed the most obvious way: the luminance of every pixel, then a mean,
a full sort for the median, one comparison per bucket. Exact quantities (counts, min/max,
the median) come from the integer L x 10000; the means are float64, as a straightforward
implementation would compute them. The property tests hold the Rust core to these values
and the benchmarks time the core and the pipeline against them.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

#: Rec. 709 luma weights of R, G and B.
WEIGHTS = np.array([0.2126, 0.7152, 0.0722], dtype=np.float64)
#: The same in units of 1/10000: L x 10000 = 2126 R + 7152 G + 722 B, exactly.
WEIGHTS_SCALED = np.array([2126, 7152, 722], dtype=np.int64)
SCALE = 10_000
#: A histogram bucket is 25.6 luminance levels wide: 256000 in units of L x 10000.
BUCKET_WIDTH_SCALED = 256_000
BUCKET_COUNT = 10
EDGE_MODES = ("left_right", "top_bottom", "all")
#: The contract's histogram labels, in order.
HISTOGRAM_LABELS = (
    "0-24", "25-50", "51-75", "76-101", "102-127",
    "128-152", "153-178", "179-203", "204-229", "230-255",
)  # fmt: skip
ANALYSIS_MAX_SIDE = 512
CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}


@dataclass(frozen=True)
class ReferenceStats:
    """Every statistic of one image. `*_scaled` values are L x 10000 (exact integers)."""

    width: int
    height: int
    pixel_count: int
    mean: float
    median: float
    median_x2_scaled: int
    sum_scaled: int
    min: float
    max: float
    buckets: list[int]
    luma_histogram: list[int]
    edge_means: dict[str, float]
    edge_pixel_counts: dict[str, int]


def scaled_luminance(pixels: np.ndarray, layout: str) -> np.ndarray:
    """L x 10000 of every pixel, as an int64 (height, width) array.

    `pixels` is (height, width) or (height, width, channels) uint8 in `layout`. A grey value
    g stands for the colour (g, g, g), whose luminance is g (the weights sum to 1).
    Alpha never enters luminance.
    """
    channels = CHANNELS[layout]
    pixels = pixels.reshape(pixels.shape[0], pixels.shape[1], channels).astype(np.int64)
    if channels < 3:
        return pixels[..., 0] * SCALE
    return pixels[..., :3] @ WEIGHTS_SCALED


def luminance(pixels: np.ndarray, layout: str) -> np.ndarray:
    """L = 0.2126 R + 0.7152 G + 0.0722 B per pixel, float64 (height, width): the formula
    as written, to check the core's integer arithmetic against."""
    channels = CHANNELS[layout]
    pixels = pixels.reshape(pixels.shape[0], pixels.shape[1], channels).astype(np.float64)
    if channels < 3:
        return pixels[..., 0]
    return pixels[..., :3] @ WEIGHTS


def edge_strips(values: np.ndarray, mode: str) -> list[np.ndarray]:
    """The strips of a (height, width) array that `mode` averages over, per the contract.

    ew = max(1, int(w x 0.1)) and eh = max(1, int(h x 0.1));
    left_right: columns [0, ew) and [w - ew, w), full height;
    top_bottom: rows [0, eh) and [h - eh, h), full width;
    all: both side strips, plus the top and bottom strips over columns [ew, w - ew).
    Strips are returned separately, so a pixel in two of them is counted twice.
    """
    height, width = values.shape
    ew = max(1, int(width * 0.1))
    eh = max(1, int(height * 0.1))
    left, right = values[:, :ew], values[:, width - ew :]
    if mode == "left_right":
        return [left, right]
    if mode == "top_bottom":
        return [values[:eh, :], values[height - eh :, :]]
    if mode == "all":
        middle = values[:, ew : width - ew]  # empty when the side strips meet
        return [left, right, middle[:eh, :], middle[height - eh :, :]]
    raise ValueError(f"unknown edge mode {mode!r}")


def reference_stats(pixels: np.ndarray, layout: str) -> ReferenceStats:
    """Every statistic of the contract, computed directly from the definitions."""
    scaled = scaled_luminance(pixels, layout)
    lum = luminance(pixels, layout)
    height, width = scaled.shape
    flat = np.sort(scaled.ravel())
    count = flat.size
    # Median: the middle value, or the mean of the two middle values for an even count.
    median_x2_scaled = int(flat[(count - 1) // 2]) + int(flat[count // 2])

    buckets = []
    for i in range(BUCKET_COUNT):
        low = i * BUCKET_WIDTH_SCALED
        high = (i + 1) * BUCKET_WIDTH_SCALED
        in_bucket = (scaled >= low) & (scaled < high)
        if i == BUCKET_COUNT - 1:
            in_bucket |= scaled >= high  # 255 (2550000) belongs to the last bucket
        buckets.append(int(in_bucket.sum()))

    # L rounded to the nearest integer, halves up.
    luma_histogram = np.bincount(((scaled + SCALE // 2) // SCALE).ravel(), minlength=256)

    edge_means, edge_counts = {}, {}
    for mode in EDGE_MODES:
        strips = [strip.ravel() for strip in edge_strips(lum, mode)]
        together = np.concatenate(strips)
        edge_means[mode] = float(together.mean())
        edge_counts[mode] = int(together.size)

    return ReferenceStats(
        width=width,
        height=height,
        pixel_count=count,
        mean=float(lum.mean()),
        median=median_x2_scaled / 2 / SCALE,
        median_x2_scaled=median_x2_scaled,
        sum_scaled=int(scaled.sum()),
        min=int(scaled.min()) / SCALE,
        max=int(scaled.max()) / SCALE,
        buckets=buckets,
        luma_histogram=[int(n) for n in luma_histogram],
        edge_means=edge_means,
        edge_pixel_counts=edge_counts,
    )


# --- the reference pipeline ---------------------------------------------------------------


def reference_size(width: int, height: int) -> tuple[int, int]:
    """The contract's analysis size: longer side at most 512, aspect kept, each side >= 1,
    `int(h * (512 / w))` evaluated in that order in float64."""
    if max(width, height) <= ANALYSIS_MAX_SIDE:
        return width, height
    if width > height:
        return ANALYSIS_MAX_SIDE, max(1, int(height * (ANALYSIS_MAX_SIDE / width)))
    return max(1, int(width * (ANALYSIS_MAX_SIDE / height))), ANALYSIS_MAX_SIDE


def reference_rgb(image: Image.Image) -> Image.Image:
    """Any decoded JPEG or PNG as 8-bit RGB. 16-bit grey is scaled by 255/65535 and rounded
    (Pillow's own conversion would clip it at 255); alpha is dropped, not composited."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.asarray(image, dtype=np.float64)
        grey = np.floor(wide * 255 / 65535 + 0.5).astype(np.uint8)
        return Image.fromarray(np.repeat(grey[..., None], 3, axis=2))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # what Pillow asks for palettes with transparency
    return image.convert("RGB")


def reference_pixels(data: bytes) -> tuple[np.ndarray, int, int]:
    """The naive pipeline up to the statistics: full decode (no JPEG draft), RGB, Lanczos
    to the analysis size. Returns the (h, w, 3) pixels and the original width and height."""
    image = Image.open(io.BytesIO(data))
    image.load()
    width, height = image.size
    rgb = reference_rgb(image)
    target = reference_size(width, height)
    if target != rgb.size:
        rgb = rgb.resize(target, Image.Resampling.LANCZOS)
    return np.asarray(rgb), width, height


def reference_analyze(
    data: bytes, metrics: str = "brightness", edge_mode: str | None = None
) -> dict[str, Any]:
    """The whole analysis as the contract describes it, without any shortcut: the fields of
    a 200 response but `cached` and `processing_time_ms`. `metrics` is comma-separated."""
    pixels, width, height = reference_pixels(data)
    stats = reference_stats(pixels, "RGB")
    wanted = [name.strip().lower() for name in metrics.split(",") if name.strip()]
    result: dict[str, Any] = {}
    if "brightness" in wanted or not wanted:
        result["brightness_score"] = round(stats.mean / 255 * 100)
        result["average_luminance"] = round(stats.mean, 2)
    if "median" in wanted:
        result["median_luminance"] = round(stats.median, 2)
    if "histogram" in wanted:
        result["histogram"] = [
            {"range": label, "percent": round(count / stats.pixel_count * 100, 1)}
            for label, count in zip(HISTOGRAM_LABELS, stats.buckets, strict=True)
        ]
    if edge_mode is not None:
        edge_mean = stats.edge_means[edge_mode]
        result["edge_brightness_score"] = round(edge_mean / 255 * 100)
        result["edge_average_luminance"] = round(edge_mean, 2)
        result["edge_mode"] = edge_mode
    result["width"] = width
    result["height"] = height
    result["algorithm"] = "rec709"
    return result


# --- Pillow's decode by the service's conversion rules ---------------------------------------
# What the Rust decoders must reproduce, written against Pillow independently of them.


def pillow_alpha(image: Image.Image) -> Image.Image | None:
    """The 8-bit alpha channel of an image that has transparency (an alpha channel, or a
    tRNS colour key or palette), else None."""
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        return image.getchannel("A")
    if "transparency" in image.info and image.mode in ("P", "L", "RGB"):
        return image.convert("RGBA").getchannel("A")
    return None


def pillow_l_or_rgb(image: Image.Image) -> Image.Image:
    """Greyscale stays one channel; everything else is RGB, alpha dropped. 16-bit greyscale
    is scaled to 8 bits, v / 257 rounded, not clipped."""
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


def png_crc_error(data: bytes) -> str | None:
    """The reason ("bad CRC in IDAT chunk") for the first complete chunk whose CRC does not
    match, or None. A chunk cut short by the end of the data is not checked."""
    view = memoryview(data)
    offset = 8
    while offset + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        end = offset + 12 + length
        if end > len(data):
            return None
        kind = bytes(view[offset + 4 : offset + 8])
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(view[offset + 4 : end - 4]) != crc:
            name = kind.decode("ascii") if kind.isalpha() else "a"
            return f"bad CRC in {name} chunk"
        if kind == b"IEND":
            return None
        offset = end
    return None
