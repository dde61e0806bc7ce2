"""Deterministic synthetic images for the tests and benchmarks, and the encoders that turn
them into JPEG and PNG bytes.

Nothing here reads or writes a file: every image is drawn from a fixed seed, so a test that
fails fails the same way everywhere, and no image is ever committed. The "photos" mix smooth
gradients, soft shapes and grain, so JPEG and PNG compress them about as they would a real
photograph (flat colour would make decoding unrealistically cheap, pure noise too costly).
"""

from __future__ import annotations

import io
import struct
import subprocess
import zlib

import numpy as np
from PIL import Image

#: The sizes the benchmarks use: a typical web image and a large camera photo.
SMALL_SIZE = (536, 354)
LARGE_SIZE = (5000, 3330)


def textured_photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A (height, width, 3) uint8 image that compresses like a photograph: a coloured
    gradient sky, soft ellipses and bars (drawn at a quarter of the size and enlarged with
    bicubic resampling, which keeps a 5000 x 3330 image quick to make), then full-resolution
    Gaussian grain."""
    rng = np.random.default_rng(seed)
    small_w, small_h = max(1, width // 4), max(1, height // 4)
    y = np.linspace(0.0, 1.0, small_h, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, small_w, dtype=np.float32)[None, :]
    scene = np.empty((small_h, small_w, 3), dtype=np.float32)
    for channel in range(3):
        top, bottom, tilt = rng.uniform(30, 225), rng.uniform(30, 225), rng.uniform(-40, 40)
        scene[..., channel] = top + (bottom - top) * y + tilt * (x - 0.5)
    for _ in range(6):
        cx, cy = rng.uniform(0, 1, size=2)
        rx, ry = rng.uniform(0.05, 0.35, size=2)
        colour = rng.uniform(0, 255, size=3).astype(np.float32)
        inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2
        weight = np.clip(1.5 - inside, 0.0, 1.0)[..., None]  # a soft edge
        scene = scene * (1 - weight) + colour * weight
    for _ in range(3):
        x0, x1 = sorted(rng.integers(0, small_w + 1, size=2))
        scene[:, x0:x1] *= np.float32(rng.uniform(0.6, 1.3))
    scene_u8 = np.clip(scene + 0.5, 0, 255).astype(np.uint8)
    enlarged = Image.fromarray(scene_u8).resize((width, height), Image.Resampling.BICUBIC)
    grain = rng.standard_normal(size=(height, width, 3), dtype=np.float32)
    grain *= np.float32(6.0)
    grain += np.asarray(enlarged)
    grain += np.float32(0.5)  # round, not truncate, in the cast below
    return np.clip(grain, 0, 255, out=grain).astype(np.uint8)


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """The (height, width) grey image of an RGB array, by Rec. 709 weights."""
    luminance = rgb[..., :3].astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])
    return np.clip(luminance + 0.5, 0, 255).astype(np.uint8)


def with_alpha(pixels: np.ndarray, seed: int = 0) -> np.ndarray:
    """`pixels` (grey or RGB) with an extra alpha channel varying across the image, so a
    pipeline that composited alpha instead of dropping it would be caught."""
    rng = np.random.default_rng(seed)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    alpha = rng.integers(0, 256, size=pixels.shape[:2] + (1,), dtype=np.uint8)
    return np.concatenate([pixels, alpha], axis=2)


# --- encoders through Pillow -------------------------------------------------------------


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _image(pixels: np.ndarray) -> Image.Image:
    """Pillow image of a uint8 array: (h, w) is L; (h, w, c) is LA, RGB or RGBA for c = 2, 3, 4."""
    return Image.fromarray(np.ascontiguousarray(pixels))


def jpeg(pixels: np.ndarray, *, progressive: bool = False, quality: int = 90) -> bytes:
    """Baseline (or progressive) JPEG of a grey (h, w) or RGB (h, w, 3) array, 4:2:0."""
    return _save(_image(pixels), "JPEG", quality=quality, progressive=progressive)


def cjpeg(pixels: np.ndarray, *args: str) -> bytes:
    """libjpeg's own encoder, `cjpeg` with `args`, on a PPM (or PGM, for grey) of `pixels`:
    for the sampling layouts, scan scripts and codings Pillow cannot write."""
    return subprocess.run(
        ["cjpeg", *args], input=_save(_image(pixels), "PPM"), capture_output=True, check=True
    ).stdout


def cmyk_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """A four-channel CMYK JPEG of an RGB array (as print workflows produce)."""
    return _save(_image(rgb).convert("CMYK"), "JPEG", quality=quality)


def png(pixels: np.ndarray, compress_level: int = 6) -> bytes:
    """8-bit PNG of a grey, grey+alpha, RGB or RGBA array."""
    return _save(_image(pixels), "PNG", compress_level=compress_level)


def palette_png(rgb: np.ndarray, transparent_index: int | None = None) -> bytes:
    """Palette PNG (adaptive 64 colours); with `transparent_index`, that palette entry is
    fully transparent (a tRNS chunk), as GIF-like images converted to PNG have."""
    image = _image(rgb).quantize(colors=64, dither=Image.Dither.NONE)
    if transparent_index is None:
        return _save(image, "PNG")
    return _save(image, "PNG", transparency=transparent_index)


# --- a PNG writer of our own, for what Pillow cannot write -------------------------------

#: PNG colour types (PNG spec, IHDR).
PNG_GREY, PNG_RGB, PNG_GREY_ALPHA, PNG_RGBA = 0, 2, 4, 6
_PNG_CHANNELS = {PNG_GREY: 1, PNG_RGB: 3, PNG_GREY_ALPHA: 2, PNG_RGBA: 4}


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_header_only(
    width: int, height: int, bit_depth: int = 8, colour_type: int = PNG_RGB
) -> bytes:
    """A well-formed PNG whose header declares `width` x `height` but whose pixel data is a
    single empty zlib stream: what a decompression bomb looks like before decoding."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b""))
        + _chunk(b"IEND", b"")
    )


def png16(samples: np.ndarray) -> bytes:
    """16-bit PNG of a uint16 array: (h, w) grey, or (h, w, c) with c = 2 (grey+alpha),
    3 (RGB) or 4 (RGBA). Pillow writes 16-bit grey only, so this writes the file itself:
    big-endian samples, filter type 0 on every row."""
    if samples.dtype != np.uint16:
        raise TypeError(f"png16 needs uint16 samples, got {samples.dtype}")
    if samples.ndim == 2:
        samples = samples[..., None]
    height, width, channels = samples.shape
    colour_type = {c: t for t, c in _PNG_CHANNELS.items()}[channels]
    rows = samples.astype(">u2").reshape(height, width * channels).view(np.uint8)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()
    ihdr = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


# --- other formats, which the service must refuse ----------------------------------------


def gif(rgb: np.ndarray) -> bytes:
    return _save(_image(rgb), "GIF")


def bmp(rgb: np.ndarray) -> bytes:
    return _save(_image(rgb), "BMP")
