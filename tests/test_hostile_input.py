"""Hostile input: every bad body the reliability issue lists gets the contract's status and
body, and the numbers of odd-but-valid images are right. Breadth through the TestClient; a
representative subset through real gunicorn, checking that the worker that served each one is
still the same process and still serving.

Everything is generated here; nothing is downloaded or written to disk.
"""

from __future__ import annotations

import dataclasses
import io
import json
import random
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import falcon.testing
import numpy as np
import pytest
from PIL import Image

import image_insights
from image_insights.app import create_app
from image_insights.config import Settings
from tests.support import synthetic
from tests.support.http_helpers import multipart
from tests.support.live_server import LiveServer, running_service
from tests.support.procfs import children
from tests.support.reference import reference_stats

UPLOAD = "/v1/image/analysis"
BY_URL = "/v1/image/analysis/url"
CORRUPT = "Invalid or corrupted image file"
NOT_AN_IMAGE = {"detail": {"error": CORRUPT, "details": "not a JPEG or PNG image"}}
EMPTY = {"detail": {"error": "Empty image file"}}
MISSING_IMAGE = {"detail": [{"type": "missing", "loc": ["body", "image"], "msg": "Field required"}]}
BOMB = "Image dimensions exceed the maximum allowed pixel count"
ALL_METRICS = "brightness,median,histogram"
EDGE_MODES = ("left_right", "top_bottom", "all")


def bomb(pixels: int) -> dict[str, Any]:
    return {"detail": {"error": BOMB, "max_pixels": 50_000_000, "received_pixels": pixels}}


# --- inputs ----------------------------------------------------------------------------------

RGB = synthetic.textured_photo(64, 48, seed=5)
JPEG = synthetic.jpeg(RGB)
PNG = synthetic.png(RGB)


def chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_chunks(data: bytes) -> list[tuple[int, bytes, int]]:
    """(offset, type, total length) of each chunk of a PNG."""
    found, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        found.append((offset, data[offset + 4 : offset + 8], length + 12))
        offset += length + 12
    return found


def after_ihdr(png: bytes, extra: bytes) -> bytes:
    return png[:33] + extra + png[33:]


def jpeg_with_size(data: bytes, width: int, height: int) -> bytes:
    """`data` with its SOF segment rewritten to declare width x height."""
    offset = 2
    while offset < len(data):
        marker = data[offset + 1]
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        if marker in (0xC0, 0xC1, 0xC2):
            # SOF: length(2) precision(1) height(2) width(2)
            return data[: offset + 5] + struct.pack(">HH", height, width) + data[offset + 9 :]
        offset += 2 + length
    raise ValueError("no SOF segment")


def with_app1(data: bytes, payload: bytes) -> bytes:
    """A JPEG with an extra APP1 (EXIF) segment right after SOI."""
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + data[2:]


def ycck_jpeg() -> bytes:
    """A four-component JPEG whose Adobe APP14 segment says YCCK (transform 2): Pillow
    writes CMYK with transform 0, and the flag is all that tells a decoder the difference."""
    data = bytearray(synthetic.cmyk_jpeg(RGB))
    adobe = data.find(b"Adobe")
    assert adobe > 0 and data[adobe - 4 : adobe - 2] == b"\xff\xee", "no Adobe segment"
    data[adobe + 11] = 2  # "Adobe"(5) version(2) flags0(2) flags1(2), then the transform
    return bytes(data)


def webp() -> bytes:
    """A lossless WebP header (RIFF/WEBP/VP8L) for a 64x48 image: enough for any sniffer."""
    bits = (64 - 1) | ((48 - 1) << 14)
    vp8l = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 16
    body = b"WEBP" + b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l
    return b"RIFF" + struct.pack("<I", len(body)) + body


def saved(fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(RGB).save(buffer, fmt, **options)
    return buffer.getvalue()


OTHER_FORMATS: dict[str, Callable[[], bytes]] = {
    "gif": lambda: synthetic.gif(RGB),
    "webp": webp,
    "bmp": lambda: synthetic.bmp(RGB),
    "tiff": lambda: saved("TIFF"),
    "svg": lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48">'
    b'<rect width="64" height="48" fill="#888"/></svg>',
}

NOT_IMAGES: dict[str, bytes] = {
    "text": b"hello, this is not an image\n",
    "html": b"<!doctype html><html><body>hi</body></html>",
    "json": b'{"image": "data:image/png;base64,iVBORw0KGgo="}',
    "nul-bytes": b"\x00" * 4096,
    "random": random.Random(1).randbytes(10_000),
    "elf": b"\x7fELF" + b"\x00" * 60,
}
#: A signature and nothing after it: sniffed as an image, refused by the decoder.
SIGNATURE_ONLY = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff",
                  "jpeg-soi-app0": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"}  # fmt: skip


def cut_points(length: int, count: int = 40) -> list[int]:
    """Cut offsets from the first byte to the last, denser at both ends."""
    points = {1, 2, 3, 4, 7, 8, 16, 33, length - 1, length - 2, length - 3}
    points.update(int(length * i / count) for i in range(1, count))
    return sorted(p for p in points if 0 < p < length)


# --- clients -----------------------------------------------------------------------------------


@pytest.fixture
def client(settings: Settings) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(
        create_app(dataclasses.replace(settings, cache_enabled=False))
    )


def upload(
    client: falcon.testing.TestClient,
    content: bytes,
    content_type: str | None = "image/png",
    **params: str,
) -> falcon.testing.Result:
    body, headers = multipart([("image", content, content_type)])
    return client.simulate_post(UPLOAD, body=body, headers=headers, params=params)


def assert_corrupt(result: falcon.testing.Result) -> None:
    assert result.status_code == 400, result.text
    detail = result.json["detail"]
    assert set(detail) == {"error", "details"} and detail["error"] == CORRUPT
    reason = detail["details"]
    assert isinstance(reason, str) and 0 < len(reason) <= 200
    assert "Traceback" not in reason and "/" not in reason, reason


def assert_valid_200(result: falcon.testing.Result, width: int, height: int) -> dict[str, Any]:
    assert result.status_code == 200, result.text
    body = result.json
    assert (body["width"], body["height"]) == (width, height)
    assert 0 <= body["average_luminance"] <= 255 and 0 <= body["brightness_score"] <= 100
    assert body["algorithm"] == "rec709"
    return body


# --- truncation and corruption -------------------------------------------------------------


@pytest.mark.parametrize("cut", cut_points(len(JPEG)))
def test_truncated_jpeg(client: falcon.testing.TestClient, cut: int) -> None:
    # Even without only its EOI marker, a JPEG is refused: libjpeg reports the early end.
    assert_corrupt(upload(client, JPEG[:cut], "image/jpeg"))


def _last_idat_end(data: bytes) -> int:
    return max(offset + size for offset, kind, size in png_chunks(data) if kind == b"IDAT")


@pytest.mark.parametrize("cut", cut_points(len(PNG)))
def test_truncated_png(client: falcon.testing.TestClient, cut: int) -> None:
    result = upload(client, PNG[:cut])
    if cut < _last_idat_end(PNG):
        assert_corrupt(result)
    else:
        # Only the IEND trailer is missing: every pixel is there and the answer is the whole
        # image's.
        assert result.status_code == 200
        assert result.json["average_luminance"] == image_insights.analyze(PNG)["average_luminance"]


@pytest.fixture(scope="module")
def large_jpeg() -> bytes:
    """Large enough for the JPEG DC path (eighth-scale side >= 384)."""
    return synthetic.jpeg(synthetic.textured_photo(3200, 2000, seed=2), quality=80)


@pytest.mark.parametrize("fraction", [0.001, 0.01, 0.2, 0.5, 0.9, 0.999])
def test_truncated_large_jpeg(
    client: falcon.testing.TestClient, large_jpeg: bytes, fraction: float
) -> None:
    assert_corrupt(upload(client, large_jpeg[: int(len(large_jpeg) * fraction)], "image/jpeg"))


def _scramble(data: bytes, seed: int, count: int) -> bytes:
    """`data` with `count` bytes of its entropy-coded scan replaced by random ones."""
    rng = random.Random(seed)
    start = data.find(b"\xff\xda") + 20
    damaged = bytearray(data)
    for _ in range(count):
        damaged[rng.randrange(start, len(data) - 2)] = rng.randrange(256)
    return bytes(damaged)


@pytest.mark.parametrize("seed", range(12))
def test_corrupted_entropy_data(client: falcon.testing.TestClient, seed: int) -> None:
    """libjpeg decodes damaged scan data with warnings, as every browser does: the answer is
    either a well-formed 200 for the original size or the corrupt-image 400, never a 500."""
    result = upload(client, _scramble(JPEG, seed, 1 + seed * 10), "image/jpeg")
    if result.status_code == 200:
        assert_valid_200(result, 64, 48)
    else:
        assert_corrupt(result)


@pytest.mark.parametrize("fill", [b"\x00", b"\xff", b"\xd9"])
def test_entropy_data_overwritten(client: falcon.testing.TestClient, fill: bytes) -> None:
    start = JPEG.find(b"\xff\xda") + 20
    damaged = JPEG[:start] + fill * (len(JPEG) - 2 - start) + JPEG[-2:]
    result = upload(client, damaged, "image/jpeg")
    if result.status_code == 200:
        assert_valid_200(result, 64, 48)
    else:
        assert_corrupt(result)


@pytest.mark.parametrize("seed", range(4))
def test_corrupted_large_jpeg(
    client: falcon.testing.TestClient, large_jpeg: bytes, seed: int
) -> None:
    result = upload(client, _scramble(large_jpeg, seed, 50), "image/jpeg")
    if result.status_code == 200:
        assert_valid_200(result, 3200, 2000)
    else:
        assert_corrupt(result)


def test_png_bad_header_crc(client: falcon.testing.TestClient) -> None:
    damaged = bytearray(PNG)
    damaged[29] ^= 0xFF  # the IHDR chunk's CRC
    assert_corrupt(upload(client, bytes(damaged)))


def test_png_damaged_pixel_data(client: falcon.testing.TestClient) -> None:
    """A flipped byte inside IDAT (its CRC no longer matches and the zlib stream breaks)."""
    offset, _, size = next(c for c in png_chunks(PNG) if c[1] == b"IDAT")
    damaged = bytearray(PNG)
    for position in range(offset + 8 + size // 3, offset + 8 + size // 3 + 8):
        damaged[position] ^= 0x5A
    assert_corrupt(upload(client, bytes(damaged)))


@pytest.mark.parametrize("kind", [b"IHDR", b"IDAT", b"IEND", b"tEXt"])
def test_png_bad_crc(client: falcon.testing.TestClient, kind: bytes) -> None:
    """Regression: Pillow checks neither IDAT's CRC nor zlib's checksum, so a damaged IDAT
    (previous test) was answered 200 with the numbers of garbage pixels. Every chunk's CRC is
    now checked, even where only the CRC itself is wrong."""
    data = after_ihdr(PNG, chunk(b"tEXt", b"k\x00v"))
    offset, _, size = next(c for c in png_chunks(data) if c[1] == kind)
    damaged = bytearray(data)
    damaged[offset + size - 1] ^= 0xFF
    result = upload(client, bytes(damaged))
    assert result.status_code == 400
    assert result.json == {"detail": {"error": CORRUPT, "details": f"bad CRC in {kind.decode()} chunk"}}


def test_png_chunk_length_past_the_end(client: falcon.testing.TestClient) -> None:
    assert_corrupt(upload(client, PNG[:33] + struct.pack(">I", 0x7FFFFFFF) + b"tEXtabc"))


def png_with_pixel_data(
    width: int, height: int, idat: bytes, exif_after: bool, interlace: int = 0
) -> bytes:
    """An 8-bit RGB PNG with this IDAT payload, every CRC valid; with `exif_after`, an eXIf
    chunk (orientation 6) after the pixel data, where Pillow reads it only by decoding them."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, interlace)
    orientation_6 = _tiff_ifd([(0x0112, 3, 1, struct.pack(">HH", 6, 0))])
    exif = chunk(b"eXIf", orientation_6) if exif_after else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + exif
            + chunk(b"IEND", b""))  # fmt: skip


GREY_ROW = b"\x00" + bytes([200]) * (64 * 3)
GREY_ROWS = GREY_ROW * 48


def _flip_middle(stream: bytes) -> bytes:
    middle = len(stream) // 2
    damaged = bytes(b ^ 0x5A for b in stream[middle : middle + 6])
    return stream[:middle] + damaged + stream[middle + 6 :]


def _bad_filter(row: int, filter_type: int) -> bytes:
    rows = bytearray(GREY_ROWS)
    rows[row * len(GREY_ROW)] = filter_type
    return zlib.compress(bytes(rows))


#: IDAT payloads of a uniform grey-200 64x48 image that do not decode. Pillow's decoder
#: stops at the damage and leaves the rest of the raster as it was allocated (black).
UNDECODABLE_PIXEL_DATA = {
    "broken-deflate": _flip_middle(zlib.compress(GREY_ROWS, 0)),
    "broken-deflate-compressed": _flip_middle(zlib.compress(GREY_ROWS)),
    "deflate-garbage": zlib.compress(GREY_ROWS)[:2] + bytes(range(7, 250)),
    "bad-filter-type-5": _bad_filter(10, 5),
    "bad-filter-type-255-first-row": _bad_filter(0, 255),
    "bad-filter-type-last-row": _bad_filter(47, 9),
    "idat-too-short-complete-stream": zlib.compress(GREY_ROWS[: len(GREY_ROWS) // 2]),
    "idat-too-short-by-one-byte": zlib.compress(GREY_ROWS[:-1]),
    "idat-too-short-cut-stream": zlib.compress(GREY_ROWS)[:30],
    "idat-empty": b"",
}


@pytest.mark.parametrize("exif_after", [False, True], ids=["no-exif", "exif-after-idat"])
@pytest.mark.parametrize("name", UNDECODABLE_PIXEL_DATA)
def test_png_pixel_data_that_does_not_decode(
    client: falcon.testing.TestClient, name: str, exif_after: bool
) -> None:
    """All CRCs valid, the pixel data broken: the contract's 400, never 200 with the numbers
    of a half-decoded raster (reading the EXIF of a PNG decodes its pixels, and that
    failure is a corrupt image, not "no EXIF")."""
    data = png_with_pixel_data(64, 48, UNDECODABLE_PIXEL_DATA[name], exif_after)
    assert_corrupt(upload(client, data, metrics="brightness,median"))
    with pytest.raises(image_insights.CorruptImage):
        image_insights.analyze(data)


#: The seven passes of Adam7 interlacing: first column, first row, column step, row step.
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2))  # fmt: skip


def interlaced_length(width: int, height: int, bytes_per_pixel: int) -> int:
    """Bytes of filtered scanlines (a filter byte before each row) of an Adam7 image."""
    total = 0
    for x0, y0, dx, dy in ADAM7:
        columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and rows > 0:
            total += rows * (1 + columns * bytes_per_pixel)
    return total


def test_png_pixel_data_short_of_an_interlaced_image(client: falcon.testing.TestClient) -> None:
    # Adam7 passes of a 64x48 RGB image, one pass's worth short.
    full = interlaced_length(64, 48, 3)
    stream = zlib.compress(b"\x00" * (full - 7 * (1 + 8 * 3)))
    assert_corrupt(upload(client, png_with_pixel_data(64, 48, stream, False, interlace=1)))


@pytest.mark.parametrize("exif_after", [False, True], ids=["no-exif", "exif-after-idat"])
def test_png_pixel_data_that_decodes_is_answered(
    client: falcon.testing.TestClient, exif_after: bool
) -> None:
    """The control: the same PNG with intact pixel data (with trailing bytes after the
    stream, which decoders ignore) is the uniform grey it is, turned by its EXIF."""
    for idat in (zlib.compress(GREY_ROWS), zlib.compress(GREY_ROWS) + b"extra"):
        data = png_with_pixel_data(64, 48, idat, exif_after)
        result = upload(client, data, metrics="brightness")
        assert result.status_code == 200, result.text
        assert result.json["average_luminance"] == 200.0
        assert result.json.get("orientation") == (6 if exif_after else None)


# --- not images ----------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "IMAGE/PNG; x=1"])
@pytest.mark.parametrize("name", NOT_IMAGES)
def test_not_an_image_under_allowed_types(
    client: falcon.testing.TestClient, name: str, content_type: str
) -> None:
    result = upload(client, NOT_IMAGES[name], content_type)
    assert result.status_code == 400
    assert result.json == NOT_AN_IMAGE


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png"])
@pytest.mark.parametrize("name", SIGNATURE_ONLY)
def test_signature_only(client: falcon.testing.TestClient, name: str, content_type: str) -> None:
    assert_corrupt(upload(client, SIGNATURE_ONLY[name], content_type))


@pytest.mark.parametrize("name", OTHER_FORMATS)
def test_other_formats_sent_as_png(client: falcon.testing.TestClient, name: str) -> None:
    result = upload(client, OTHER_FORMATS[name](), "image/png")
    assert result.status_code == 400
    assert result.json == NOT_AN_IMAGE


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png"])
def test_zero_bytes(client: falcon.testing.TestClient, content_type: str) -> None:
    result = upload(client, b"", content_type)
    assert result.status_code == 400
    assert result.json == EMPTY


# --- decompression bombs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, pixels",
    [
        (synthetic.png_header_only(30000, 30000), 900_000_000),
        (synthetic.png_header_only(7072, 7072), 50_013_184),  # just over the limit
        (synthetic.png_header_only(2**31 - 1, 2**31 - 1), (2**31 - 1) ** 2),
        (synthetic.png_header_only(1, 50_000_001, colour_type=synthetic.PNG_GREY), 50_000_001),
        (synthetic.png_header_only(30000, 30000, 16, synthetic.PNG_RGBA), 900_000_000),
        (jpeg_with_size(JPEG, 65000, 65000), 4_225_000_000),
        (jpeg_with_size(JPEG, 65535, 1000), 65_535_000),
    ],
    ids=["png-30000", "png-just-over", "png-2^31", "png-1xN", "png-16bit-rgba", "jpeg-65000",
         "jpeg-wide"],
)  # fmt: skip
def test_decompression_bombs(
    client: falcon.testing.TestClient, data: bytes, pixels: int
) -> None:
    content_type = "image/jpeg" if data.startswith(b"\xff\xd8") else "image/png"
    result = upload(client, data, content_type)
    assert result.status_code == 413
    assert result.json == bomb(pixels)


def test_png_declaring_zero_size(client: falcon.testing.TestClient) -> None:
    assert_corrupt(upload(client, synthetic.png_header_only(0, 0)))


def test_jpeg_under_the_limit_without_the_pixels(client: falcon.testing.TestClient) -> None:
    """7000 x 7000 declared, a 64 x 48 scan: decoded as far as the data goes, within the
    limit, or refused; never a crash."""
    result = upload(client, jpeg_with_size(JPEG, 7000, 7000), "image/jpeg")
    if result.status_code == 200:
        assert_valid_200(result, 7000, 7000)
    else:
        assert_corrupt(result)


_BIG_ZLIB = zlib.compress(b"\x00" * (64 * 1024 * 1024), 9)


@pytest.mark.parametrize(
    "extra",
    [
        chunk(b"zTXt", b"comment\x00\x00" + _BIG_ZLIB),
        chunk(b"iCCP", b"icc\x00\x00" + _BIG_ZLIB),
        chunk(b"iTXt", b"comment\x00\x01\x00\x00\x00" + _BIG_ZLIB),
    ],
    ids=["zTXt", "iCCP", "iTXt"],
)
def test_png_metadata_bomb(client: falcon.testing.TestClient, extra: bytes) -> None:
    """A 64 MiB zlib bomb in a metadata chunk costs neither memory nor time: text chunks are
    never inflated, and an ICC profile only up to 1 MB (a larger one is dropped). The image
    is analysed as it is."""
    result = upload(client, after_ihdr(PNG, extra))
    assert result.status_code == 200, result.text
    assert result.json["average_luminance"] == image_insights.analyze(PNG)["average_luminance"]


def test_png_large_plain_text_chunk(client: falcon.testing.TestClient) -> None:
    result = upload(client, after_ihdr(PNG, chunk(b"tEXt", b"k\x00" + b"a" * 4_000_000)))
    assert result.status_code == 200
    assert result.json["average_luminance"] == image_insights.analyze(PNG)["average_luminance"]


# --- odd but valid images: the numbers must be right ----------------------------------------


def expected_fields(rgb: np.ndarray) -> dict[str, float]:
    """Mean and median of an (h, w, 3) uint8 image of at most 512 px (no resize), exactly."""
    stats = reference_stats(rgb, "RGB")
    return {"average_luminance": round(stats.mean, 2), "median_luminance": round(stats.median, 2)}


def numbers(result: falcon.testing.Result) -> dict[str, float]:
    assert result.status_code == 200, result.text
    return {k: result.json[k] for k in ("average_luminance", "median_luminance")}


def test_png16_grey_scales_not_saturates(client: falcon.testing.TestClient) -> None:
    samples = (np.arange(64 * 48, dtype=np.uint32).reshape(48, 64) * 21).astype(np.uint16)
    eight = np.floor(samples / 257 + 0.5).astype(np.uint8)
    result = upload(client, synthetic.png16(samples), metrics="brightness,median")
    assert numbers(result) == expected_fields(np.repeat(eight[..., None], 3, axis=2))


@pytest.mark.parametrize("channels", [3, 4, 2])
def test_png16_colour_scales_not_saturates(
    client: falcon.testing.TestClient, channels: int
) -> None:
    rng = np.random.default_rng(channels)
    samples = rng.integers(0, 65536, size=(48, 64, channels), dtype=np.uint16)
    result = upload(client, synthetic.png16(samples), metrics="brightness,median")
    colour = samples[..., :3] if channels >= 3 else np.repeat(samples[..., :1], 3, axis=2)
    # Each channel to 8 bits, by rounding or by the high byte: within one level either way.
    expected = expected_fields(np.floor(colour / 257 + 0.5).astype(np.uint8))
    got = numbers(result)
    for name, value in expected.items():
        assert abs(got[name] - value) <= 1.0, (name, got, expected)


def test_png16_extremes(client: falcon.testing.TestClient) -> None:
    white = np.full((8, 8, 3), 65535, np.uint16)
    result = upload(client, synthetic.png16(white), metrics="brightness,median")
    assert numbers(result) == {"average_luminance": 255.0, "median_luminance": 255.0}


def test_cmyk_jpeg_matches_its_rgb_source(client: falcon.testing.TestClient) -> None:
    result = upload(client, synthetic.cmyk_jpeg(RGB), "image/jpeg")
    body = assert_valid_200(result, 64, 48)
    assert abs(body["average_luminance"] - expected_fields(RGB)["average_luminance"]) < 3


def test_ycck_jpeg(client: falcon.testing.TestClient) -> None:
    result = upload(client, ycck_jpeg(), "image/jpeg", metrics=ALL_METRICS, edge_mode="all")
    body = assert_valid_200(result, 64, 48)
    assert abs(sum(bucket["percent"] for bucket in body["histogram"]) - 100) < 1


def test_palette_with_transparency_drops_alpha(client: falcon.testing.TestClient) -> None:
    data = synthetic.palette_png(RGB, transparent_index=0)
    image = Image.open(io.BytesIO(data))
    assert image.mode == "P" and "transparency" in image.info
    rgb = np.asarray(image.convert("RGB"))
    assert numbers(upload(client, data, metrics="brightness,median")) == expected_fields(rgb)


def test_grey_alpha(client: falcon.testing.TestClient) -> None:
    grey = synthetic.to_grey(RGB)
    data = synthetic.png(synthetic.with_alpha(grey))
    assert Image.open(io.BytesIO(data)).mode == "LA"
    expected = expected_fields(np.repeat(grey[..., None], 3, axis=2))
    assert numbers(upload(client, data, metrics="brightness,median")) == expected


def test_rgba(client: falcon.testing.TestClient) -> None:
    data = synthetic.png(synthetic.with_alpha(RGB))
    assert numbers(upload(client, data, metrics="brightness,median")) == expected_fields(RGB)


needs_cjpeg = pytest.mark.skipif(
    shutil.which("cjpeg") is None or shutil.which("jpegtran") is None,
    reason="libjpeg-turbo-progs (cjpeg, jpegtran) is not installed",
)


def huffman_twin(data: bytes) -> bytes:
    """The same JPEG, coefficient for coefficient, with Huffman coding (jpegtran is lossless)."""
    return subprocess.run(["jpegtran", "-copy", "none"], input=data, capture_output=True,
                          check=True).stdout  # fmt: skip


@needs_cjpeg
@pytest.mark.parametrize("progressive", [False, True], ids=["sequential", "progressive"])
@pytest.mark.parametrize("width, height", [(1600, 1000), (3200, 400)], ids=["pillow", "dc-size"])
def test_arithmetic_coded_jpeg_over_64_kb(
    client: falcon.testing.TestClient, progressive: bool, width: int, height: int
) -> None:
    """libjpeg's arithmetic decoder cannot suspend for more data: it must be given the whole
    file, not 64 KiB pieces. The answer is that of the same coefficients Huffman-coded, which
    the core decodes itself at the same scale (1/2 and 1/8 here)."""
    args = ["-arithmetic", "-quality", "95", *(["-progressive"] if progressive else [])]
    data = synthetic.cjpeg(synthetic.textured_photo(width, height, seed=8), *args)
    assert len(data) > 64 * 1024 and (b"\xff\xc9" in data or b"\xff\xca" in data)  # SOF9, SOF10
    result = upload(client, data, "image/jpeg", metrics=ALL_METRICS, edge_mode="all")
    assert result.status_code == 200, result.text
    twin = image_insights.analyze(huffman_twin(data), ALL_METRICS, "all")
    for name, expected in twin.items():
        assert result.json[name] == expected, name


def bad_dc_refinement(width: int, height: int) -> bytes:
    """A progressive JPEG whose second scan, a DC refinement, has Ah = 7 and Al = 12 (a
    refinement must have Al = Ah - 1): libjpeg refuses the file."""
    photo = synthetic.textured_photo(width, height, seed=9)
    data = bytearray(synthetic.jpeg(photo, quality=80, progressive=True))
    sos = data.index(b"\xff\xda")
    while True:
        sos = data.index(b"\xff\xda", sos + 2)
        end = sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")  # after Ss, Se, Ah|Al
        if data[end - 3] == 0 and data[end - 1] >> 4:  # Ss = 0 and Ah > 0: a DC refinement
            data[end - 1] = 0x7C
            return bytes(data)


@pytest.mark.parametrize("width, height", [(640, 80), (3200, 400)], ids=["full", "1/8"])
def test_invalid_scan_parameters_are_refused_at_every_size(
    client: falcon.testing.TestClient, width: int, height: int
) -> None:
    """The answer must not depend on the scale the image is read at."""
    data = bad_dc_refinement(width, height)
    with pytest.raises(OSError):
        Image.open(io.BytesIO(data)).load()
    assert_corrupt(upload(client, data, "image/jpeg"))


def test_animated_png_uses_the_first_frame(client: falcon.testing.TestClient) -> None:
    buffer = io.BytesIO()
    frames = [Image.fromarray(RGB), Image.fromarray(255 - RGB), Image.fromarray(RGB // 2)]
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:], duration=100)
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).n_frames == 3
    assert numbers(upload(client, data, metrics="brightness,median")) == expected_fields(RGB)


def _tiff_ifd(entries: list[tuple[int, int, int, bytes]], big_endian: bool = True) -> bytes:
    """A TIFF header and one IFD of (tag, type, count, 4-byte value) entries."""
    order = ">" if big_endian else "<"
    head = (b"MM" if big_endian else b"II") + struct.pack(order + "HI", 42, 8)
    body = struct.pack(order + "H", len(entries))
    for tag, kind, count, value in entries:
        body += struct.pack(order + "HHI", tag, kind, count) + value
    return head + body + struct.pack(order + "I", 0)


ABSURD_EXIF = {
    "orientation-65535": _tiff_ifd([(0x0112, 3, 1, struct.pack(">HH", 65535, 0))]),
    "orientation-0": _tiff_ifd([(0x0112, 3, 1, struct.pack(">HH", 0, 0))]),
    "orientation-as-long": _tiff_ifd([(0x0112, 4, 1, struct.pack(">I", 2**31))]),
    "orientation-count-1e9": _tiff_ifd([(0x0112, 3, 10**9, struct.pack(">I", 16))]),
    "offset-past-end": b"MM\x00\x2a\xff\xff\xff\xf0",
    "entry-count-65535": b"MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\x00" * 100,
    "ifd-loop": _tiff_ifd([(0x8769, 4, 1, struct.pack(">I", 8))]),
    "garbage": bytes(range(256)) * 4,
    "empty": b"",
    "64k-string": _tiff_ifd([(0x010E, 2, 60_000, struct.pack(">I", 26))]) + b"A" * 60_000,
}


@pytest.mark.parametrize("name", ABSURD_EXIF)
def test_absurd_exif(client: falcon.testing.TestClient, name: str) -> None:
    """Orientation is metadata: a broken EXIF block is ignored, and the image is analysed as
    stored (the core reads EXIF itself; Pillow's "Corrupt EXIF data" warnings, which are
    errors under pytest and `python -W error`, never come into it)."""
    data = with_app1(JPEG, b"Exif\x00\x00" + ABSURD_EXIF[name])
    result = upload(client, data, "image/jpeg", metrics="brightness,median")
    assert numbers(result) == numbers(upload(client, JPEG, "image/jpeg", metrics="brightness,median"))
    assert "orientation" not in result.json


TINY = [(1, 1), (1, 2), (2, 1), (1, 9), (9, 1), (1, 700), (700, 1), (3, 3)]


@pytest.mark.parametrize("mode", EDGE_MODES)
@pytest.mark.parametrize("width, height", TINY)
def test_tiny_images_under_every_edge_mode(
    client: falcon.testing.TestClient, width: int, height: int, mode: str
) -> None:
    rgb = synthetic.textured_photo(max(width, 4), max(height, 4), seed=width * 31 + height)
    rgb = np.ascontiguousarray(rgb[:height, :width])
    data = synthetic.png(rgb)
    result = upload(client, data, metrics=ALL_METRICS, edge_mode=mode)
    assert result.status_code == 200, result.text
    body = result.json
    assert (body["width"], body["height"]) == (width, height)
    if max(width, height) <= 512:
        stats = reference_stats(rgb, "RGB")
        assert body["average_luminance"] == round(stats.mean, 2)
        assert body["median_luminance"] == round(stats.median, 2)
        assert body["edge_average_luminance"] == round(stats.edge_means[mode], 2)
    else:
        assert body == {**image_insights.analyze(data, ALL_METRICS, mode),
                        "cached": False, "processing_time_ms": body["processing_time_ms"]}  # fmt: skip
    assert body["edge_mode"] == mode
    assert abs(sum(bucket["percent"] for bucket in body["histogram"]) - 100) < 1


# --- multipart abuse -------------------------------------------------------------------------


def raw_post(
    client: falcon.testing.TestClient, body: bytes, content_type: str | None
) -> falcon.testing.Result:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return client.simulate_post(UPLOAD, body=body, headers=headers)


def part(name: str, content: bytes, content_type: str = "image/png", extra: bytes = b"") -> bytes:
    return (
        b"--bnd\r\nContent-Disposition: form-data; name=\"" + name.encode() + b"\"; filename=\"f\""
        b"\r\n" + extra + b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + content + b"\r\n"
    )


FORM = "multipart/form-data; boundary=bnd"
END = b"--bnd--\r\n"

MULTIPART_ABUSE: dict[str, tuple[bytes, str | None]] = {
    "no-boundary": (part("image", PNG) + END, "multipart/form-data"),
    "empty-boundary": (part("image", PNG) + END, "multipart/form-data; boundary="),
    "wrong-boundary": (part("image", PNG) + END, "multipart/form-data; boundary=other"),
    "only-preamble": (b"x" * 100_000, FORM),
    "non-multipart-octets": (PNG, "application/octet-stream"),
    "no-content-type": (part("image", PNG) + END, None),
    "other-field-name": (part("file", PNG) + END, FORM),
    "field-name-case": (part("Image", PNG) + END, FORM),
    "huge-part-header": (part("image", PNG, extra=b"X-Junk: " + b"a" * 1_000_000 + b"\r\n") + END, FORM),
    "10000-part-headers": (part("image", PNG, extra=b"".join(b"X-%d: v\r\n" % i for i in range(10_000))) + END, FORM),
    "too-many-parts": (b"".join(part(f"f{i}", b"x", "text/plain") for i in range(1100)) + part("image", PNG) + END, FORM),
}  # fmt: skip


@pytest.mark.parametrize("name", MULTIPART_ABUSE)
def test_multipart_abuse_has_no_image_part(client: falcon.testing.TestClient, name: str) -> None:
    body, content_type = MULTIPART_ABUSE[name]
    result = raw_post(client, body, content_type)
    assert result.status_code == 422
    assert result.json == MISSING_IMAGE


def test_unterminated_form(client: falcon.testing.TestClient) -> None:
    """The closing boundary never comes: the image part runs to the end of the body and is
    taken as it is (Falcon's reading); cut inside the image, it is a corrupt image."""
    whole = raw_post(client, part("image", PNG)[:-2], FORM)
    assert whole.status_code == 200
    assert whole.json["average_luminance"] == image_insights.analyze(PNG)["average_luminance"]
    assert_corrupt(raw_post(client, part("image", PNG)[:-200], FORM))


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/x-www-form-urlencoded", "text/plain"]
)
def test_other_media_types_have_no_image_part(
    client: falcon.testing.TestClient, content_type: str
) -> None:
    """Regression: a JSON or URL-encoded body was parsed by its own handler and the loop over
    "parts" met strings (500)."""
    for body in (b'{"image": "x"}', b'["image"]', b"image=x&b=2", b""):
        result = raw_post(client, body, content_type)
        assert (result.status_code, result.json) == (422, MISSING_IMAGE), (content_type, body)


@pytest.mark.parametrize("before", [0, 63, 64, 200, 999])
def test_hundreds_of_parts_before_the_image(client: falcon.testing.TestClient, before: int) -> None:
    """Falcon's default of 64 body parts would make an image after the 64th part 'missing'
    (422); forms of up to 1000 parts are read."""
    fields = b"".join(part(f"f{i}", b"value", "text/plain") for i in range(before))
    result = raw_post(client, fields + part("image", PNG) + END, FORM)
    assert result.status_code == 200, result.text
    assert result.json["average_luminance"] == image_insights.analyze(PNG)["average_luminance"]


def test_hundreds_of_parts_after_the_image(client: falcon.testing.TestClient) -> None:
    fields = b"".join(part(f"f{i}", b"value", "text/plain") for i in range(2000))
    result = raw_post(client, part("image", PNG) + fields + END, FORM)
    assert result.status_code == 200


@pytest.mark.parametrize(
    "first, second, status",
    [(PNG, b"garbage", 200), (b"garbage", PNG, 400), (b"", PNG, 400)],
    ids=["good-first", "bad-first", "empty-first"],
)
def test_two_image_parts_first_wins(
    client: falcon.testing.TestClient, first: bytes, second: bytes, status: int
) -> None:
    result = raw_post(client, part("image", first) + part("image", second) + END, FORM)
    assert result.status_code == status
    if status == 400:
        assert result.json in (NOT_AN_IMAGE, EMPTY)


def test_image_part_with_a_huge_filename(client: falcon.testing.TestClient) -> None:
    body = (
        b'--bnd\r\nContent-Disposition: form-data; name="image"; filename="' + b"a" * 100_000
        + b'"\r\nContent-Type: image/png\r\n\r\n' + PNG + b"\r\n" + END
    )  # fmt: skip
    result = raw_post(client, body, FORM)
    # A part header line over Falcon's limit is a malformed form: no image part.
    assert result.status_code == 422 and result.json == MISSING_IMAGE


# --- JSON abuse on the URL endpoint ----------------------------------------------------------


@pytest.fixture
def url_client(settings: Settings) -> falcon.testing.TestClient:
    """Resolves nothing, so no request leaves the machine, not even a DNS query."""

    def no_dns(host: str, port: int) -> list[str]:
        raise OSError("resolution disabled in tests")

    return falcon.testing.TestClient(create_app(dataclasses.replace(settings, resolver=no_dns)))


def post_json(client: falcon.testing.TestClient, body: bytes) -> falcon.testing.Result:
    return client.simulate_post(BY_URL, body=body, headers={"Content-Type": "application/json"})


def validation(kind: str, loc: list[Any], msg: str) -> dict[str, Any]:
    return {"detail": [{"type": kind, "loc": loc, "msg": msg}]}


TOO_LARGE = validation("json_invalid", ["body", 0], "JSON body is too large")
DECODE_ERROR = validation("json_invalid", ["body", 0], "JSON decode error")
NOT_OBJECT = validation(
    "model_attributes_type", ["body"],
    "Input should be a valid dictionary or object to extract fields from",
)  # fmt: skip


def string_type(*names: str) -> dict[str, Any]:
    return {"detail": [{"type": "string_type", "loc": ["body", name],
                        "msg": "Input should be a valid string"} for name in names]}  # fmt: skip


JSON_ABUSE: dict[str, tuple[bytes, dict[str, Any]]] = {
    "nesting-100000": (b"[" * 30_000 + b"]" * 30_000, DECODE_ERROR),
    "nesting-in-url": (b'{"url": ' + b"[" * 5000 + b"]" * 5000 + b"}", DECODE_ERROR),
    "nesting-over-limit": (b"[" * 100_000 + b"]" * 100_000, TOO_LARGE),
    "string-over-limit": (json.dumps({"url": "http://" + "a" * 70_000}).encode(), TOO_LARGE),
    "not-json": (b"url=http://example.com", DECODE_ERROR),
    "lone-surrogate": (b'{"url": "\\ud800"}', DECODE_ERROR),
    "nan": (b"NaN", DECODE_ERROR),
    "bad-utf8": (b'{"url": "\xff\xfe"}', DECODE_ERROR),
    "string": (b'"http://example.com"', NOT_OBJECT),
    "number": (b"12", NOT_OBJECT),
    "true": (b"true", NOT_OBJECT),
    "array": (b'[{"url": "http://example.com"}]', NOT_OBJECT),
    "null": (b"null", validation("missing", ["body"], "Field required")),
    "url-number": (b'{"url": 1}', string_type("url")),
    "url-float": (b'{"url": 1.5}', string_type("url")),
    "infinity": (b'{"url": 1e400}', DECODE_ERROR),
    "url-null": (b'{"url": null}', string_type("url")),
    "url-array": (b'{"url": ["http://x"]}', string_type("url")),
    "url-object": (b'{"url": {"href": "http://x"}}', string_type("url")),
    "url-bool": (b'{"url": false}', string_type("url")),
    "options-wrong-types": (b'{"url": "http://x", "metrics": 1, "edge_mode": []}',
                            string_type("metrics", "edge_mode")),
    "everything-wrong": (b'{"url": 2, "metrics": {}, "edge_mode": true}',
                         string_type("url", "metrics", "edge_mode")),
}  # fmt: skip


@pytest.mark.parametrize("name", JSON_ABUSE)
def test_json_abuse(url_client: falcon.testing.TestClient, name: str) -> None:
    body, expected = JSON_ABUSE[name]
    result = post_json(url_client, body)
    assert result.status_code == 422
    assert result.json == expected


def test_json_huge_strings_within_the_body_limit(url_client: falcon.testing.TestClient) -> None:
    huge_metrics = post_json(url_client, json.dumps({"url": "http://x", "metrics": "a," * 20_000}).encode())
    assert huge_metrics.status_code == 400
    assert huge_metrics.json["detail"]["invalid_metrics"] == ["a"] * 20_000
    huge_mode = post_json(url_client, json.dumps({"url": "http://x", "edge_mode": "b" * 60_000}).encode())
    assert huge_mode.status_code == 400
    assert huge_mode.json["detail"]["received"] == "b" * 60_000
    huge_host = post_json(url_client, json.dumps({"url": "http://" + "a" * 60_000 + "/p?q"}).encode())
    assert huge_host.status_code == 400
    assert huge_host.json["detail"]["error"] == "Failed to download image from URL"
    assert "/p" not in huge_host.json["detail"]["url"]
    huge_scheme = post_json(url_client, json.dumps({"url": "gopher://" + "a" * 60_000}).encode())
    assert huge_scheme.json == {"detail": {"error": "Invalid URL scheme",
                                           "detail": "URL must start with http:// or https://"}}  # fmt: skip


def test_json_duplicate_keys_last_wins(url_client: falcon.testing.TestClient) -> None:
    result = post_json(url_client, b'{"url": 5, "url": "  "}')
    assert result.status_code == 400
    assert result.json == {"detail": {"error": "URL cannot be empty"}}


# --- the same through real gunicorn: the worker survives ---------------------------------------


@pytest.fixture(scope="module")
def service() -> Iterator[LiveServer]:
    env = {"CACHE_ENABLED": "false", "ENABLE_DETAILED_LOGGING": "false"}
    with running_service(env) as server:
        yield server


LIVE_CASES: dict[str, tuple[Callable[[], tuple[bytes, dict[str, str]]], int]] = {
    "truncated-jpeg": (lambda: multipart([("image", JPEG[: len(JPEG) // 2], "image/jpeg")]), 400),
    "truncated-png": (lambda: multipart([("image", PNG[:100], "image/png")]), 400),
    "scrambled-jpeg": (lambda: multipart([("image", _scramble(JPEG, 3, 200), "image/jpeg")]), -1),
    "gif-as-png": (lambda: multipart([("image", synthetic.gif(RGB), "image/png")]), 400),
    "zero-bytes": (lambda: multipart([("image", b"", "image/png")]), 400),
    "png-bomb": (lambda: multipart([("image", synthetic.png_header_only(30000, 30000), "image/png")]), 413),
    "jpeg-bomb": (lambda: multipart([("image", jpeg_with_size(JPEG, 65000, 65000), "image/jpeg")]), 413),
    "ztxt-bomb": (lambda: multipart([("image", after_ihdr(PNG, chunk(b"zTXt", b"c\x00\x00" + _BIG_ZLIB)), "image/png")]), 200),
    "chroma-finer-than-luma": (lambda: multipart([("image", synthetic.cjpeg(synthetic.textured_photo(3072, 8, seed=1), "-sample", "1x1,2x1,1x1"), "image/jpeg")]), 200),
    "bad-dc-refinement-640x80": (lambda: multipart([("image", bad_dc_refinement(640, 80), "image/jpeg")]), 400),
    "bad-dc-refinement-3200x400": (lambda: multipart([("image", bad_dc_refinement(3200, 400), "image/jpeg")]), 400),
    "png16": (lambda: multipart([("image", synthetic.png16(np.full((9, 9, 3), 30000, np.uint16)), "image/png")]), 200),
    "cmyk": (lambda: multipart([("image", synthetic.cmyk_jpeg(RGB), "image/jpeg")]), 200),
    "absurd-exif": (lambda: multipart([("image", with_app1(JPEG, b"Exif\x00\x00" + ABSURD_EXIF["offset-past-end"]), "image/jpeg")]), 200),
    "png-broken-deflate": (lambda: multipart([("image", png_with_pixel_data(64, 48, UNDECODABLE_PIXEL_DATA["broken-deflate"], True), "image/png")]), 400),
    "png-bad-filter": (lambda: multipart([("image", png_with_pixel_data(64, 48, UNDECODABLE_PIXEL_DATA["bad-filter-type-5"], True), "image/png")]), 400),
    "png-idat-too-short": (lambda: multipart([("image", png_with_pixel_data(64, 48, UNDECODABLE_PIXEL_DATA["idat-too-short-complete-stream"], False), "image/png")]), 400),
    "1x700": (lambda: multipart([("image", synthetic.png(RGB[:1, :1].repeat(700, axis=0)), "image/png")]), 200),
    "wrong-boundary": (lambda: (part("image", PNG) + END, {"Content-Type": "multipart/form-data; boundary=zz"}), 422),
    "huge-part-header": (lambda: (MULTIPART_ABUSE["huge-part-header"][0], {"Content-Type": FORM}), 422),
    "many-parts": (lambda: (MULTIPART_ABUSE["too-many-parts"][0], {"Content-Type": FORM}), 422),
    "non-multipart": (lambda: (b"hello", {"Content-Type": "text/plain"}), 422),
}  # fmt: skip


def test_hostile_inputs_through_gunicorn(service: LiveServer) -> None:
    """Each input gets its status with a JSON body, /health answers after it, and no worker
    was replaced (same pids throughout)."""
    workers = children(service.process.pid)
    assert len(workers) == 2
    for name, (make, status) in LIVE_CASES.items():
        body, headers = make()
        got, response_headers, payload = service.request("POST", UPLOAD + "?edge_mode=all", body, headers)
        if status == -1:
            assert got in (200, 400), name
        else:
            assert got == status, (name, payload[:200])
        assert response_headers["content-type"].startswith("application/json"), name
        assert "detail" in json.loads(payload) or got == 200, name
        assert service.request("GET", "/health")[0] == 200, name
        assert children(service.process.pid) == workers, f"a worker was replaced after {name}"


def test_json_abuse_through_gunicorn(service: LiveServer) -> None:
    workers = children(service.process.pid)
    for name in ("nesting-over-limit", "nesting-100000", "string", "url-object"):
        body, expected = JSON_ABUSE[name]
        got, _, payload = service.request("POST", BY_URL, body, {"Content-Type": "application/json"})
        assert (got, json.loads(payload)) == (422, expected), name
        assert service.request("GET", "/health")[0] == 200
    assert children(service.process.pid) == workers
