"""Hostile images through the upload endpoint (Falcon's TestClient, cache off): truncated and
corrupted JPEGs and PNGs, bodies that are not JPEG or PNG, decompression bombs, and odd but
valid images, whose numbers must be right. Each gets the contract's status and body.

Everything is generated here; nothing is downloaded or written to disk.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zlib

import falcon.testing
import numpy as np
import pytest
from PIL import Image

import image_insights
from tests.support import synthetic
from tests.support.hostile import (
    ABSURD_EXIF,
    ALL_METRICS,
    BIG_ZLIB,
    CORRUPT,
    EDGE_MODES,
    EMPTY,
    GREY_ROWS,
    JPEG,
    NOT_AN_IMAGE,
    NOT_IMAGES,
    ADDITIVE_FORMATS,
    OTHER_FORMATS,
    PNG,
    RGB,
    SIGNATURE_ONLY,
    UNDECODABLE_PIXEL_DATA,
    after_ihdr,
    assert_corrupt,
    assert_valid_200,
    bad_dc_refinement,
    bomb,
    chunk,
    cut_points,
    jpeg_with_size,
    png_chunks,
    png_with_pixel_data,
    scramble,
    upload,
    with_app1,
    ycck_jpeg,
)
from tests.support.reference import reference_stats


# --- truncation and corruption ---------------------------------------------------------------


@pytest.mark.parametrize("cut", cut_points(len(JPEG)))
def test_truncated_jpeg(uncached_client: falcon.testing.TestClient, cut: int) -> None:
    # Even without only its EOI marker, a JPEG is refused: libjpeg reports the early end.
    assert_corrupt(upload(uncached_client, JPEG[:cut], "image/jpeg"))


def _last_idat_end(data: bytes) -> int:
    return max(offset + size for offset, kind, size in png_chunks(data) if kind == b"IDAT")


@pytest.mark.parametrize("cut", cut_points(len(PNG)))
def test_truncated_png(uncached_client: falcon.testing.TestClient, cut: int) -> None:
    result = upload(uncached_client, PNG[:cut])
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
    uncached_client: falcon.testing.TestClient, large_jpeg: bytes, fraction: float
) -> None:
    assert_corrupt(
        upload(uncached_client, large_jpeg[: int(len(large_jpeg) * fraction)], "image/jpeg")
    )


@pytest.mark.parametrize("seed", range(12))
def test_corrupted_entropy_data(uncached_client: falcon.testing.TestClient, seed: int) -> None:
    """libjpeg decodes damaged scan data with warnings, as every browser does: the answer is
    either a well-formed 200 for the original size or the corrupt-image 400, never a 500."""
    result = upload(uncached_client, scramble(JPEG, seed, 1 + seed * 10), "image/jpeg")
    if result.status_code == 200:
        assert_valid_200(result, 64, 48)
    else:
        assert_corrupt(result)


@pytest.mark.parametrize("fill", [b"\x00", b"\xff", b"\xd9"])
def test_entropy_data_overwritten(uncached_client: falcon.testing.TestClient, fill: bytes) -> None:
    start = JPEG.find(b"\xff\xda") + 20
    damaged = JPEG[:start] + fill * (len(JPEG) - 2 - start) + JPEG[-2:]
    result = upload(uncached_client, damaged, "image/jpeg")
    if result.status_code == 200:
        assert_valid_200(result, 64, 48)
    else:
        assert_corrupt(result)


@pytest.mark.parametrize("seed", range(4))
def test_corrupted_large_jpeg(
    uncached_client: falcon.testing.TestClient, large_jpeg: bytes, seed: int
) -> None:
    result = upload(uncached_client, scramble(large_jpeg, seed, 50), "image/jpeg")
    if result.status_code == 200:
        assert_valid_200(result, 3200, 2000)
    else:
        assert_corrupt(result)


def test_png_bad_header_crc(uncached_client: falcon.testing.TestClient) -> None:
    damaged = bytearray(PNG)
    damaged[29] ^= 0xFF  # the IHDR chunk's CRC
    assert_corrupt(upload(uncached_client, bytes(damaged)))


def test_png_damaged_pixel_data(uncached_client: falcon.testing.TestClient) -> None:
    """A flipped byte inside IDAT (its CRC no longer matches and the zlib stream breaks)."""
    offset, _, size = next(c for c in png_chunks(PNG) if c[1] == b"IDAT")
    damaged = bytearray(PNG)
    for position in range(offset + 8 + size // 3, offset + 8 + size // 3 + 8):
        damaged[position] ^= 0x5A
    assert_corrupt(upload(uncached_client, bytes(damaged)))


@pytest.mark.parametrize("kind", [b"IHDR", b"IDAT", b"IEND", b"tEXt"])
def test_png_bad_crc(uncached_client: falcon.testing.TestClient, kind: bytes) -> None:
    """Every chunk's CRC is checked, even where only the CRC itself is wrong: Pillow checks
    neither IDAT's CRC nor zlib's checksum, and would answer a damaged IDAT
    (test_png_damaged_pixel_data) with the numbers of garbage pixels."""
    data = after_ihdr(PNG, chunk(b"tEXt", b"k\x00v"))
    offset, _, size = next(c for c in png_chunks(data) if c[1] == kind)
    damaged = bytearray(data)
    damaged[offset + size - 1] ^= 0xFF
    result = upload(uncached_client, bytes(damaged))
    assert result.status_code == 400
    assert result.json == {"detail": {"error": CORRUPT, "details": f"bad CRC in {kind.decode()} chunk"}}


def test_png_chunk_length_past_the_end(uncached_client: falcon.testing.TestClient) -> None:
    assert_corrupt(upload(uncached_client, PNG[:33] + struct.pack(">I", 0x7FFFFFFF) + b"tEXtabc"))


@pytest.mark.parametrize("exif_after", [False, True], ids=["no-exif", "exif-after-idat"])
@pytest.mark.parametrize("name", UNDECODABLE_PIXEL_DATA)
def test_png_pixel_data_that_does_not_decode(
    uncached_client: falcon.testing.TestClient, name: str, exif_after: bool
) -> None:
    """All CRCs valid, the pixel data broken: the contract's 400, never 200 with the numbers
    of a half-decoded raster (reading the EXIF of a PNG decodes its pixels, and that
    failure is a corrupt image, not "no EXIF")."""
    data = png_with_pixel_data(64, 48, UNDECODABLE_PIXEL_DATA[name], exif_after)
    assert_corrupt(upload(uncached_client, data, metrics="brightness,median"))
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


def test_png_pixel_data_short_of_an_interlaced_image(
    uncached_client: falcon.testing.TestClient,
) -> None:
    # Adam7 passes of a 64x48 RGB image, one pass's worth short.
    full = interlaced_length(64, 48, 3)
    stream = zlib.compress(b"\x00" * (full - 7 * (1 + 8 * 3)))
    assert_corrupt(upload(uncached_client, png_with_pixel_data(64, 48, stream, False, interlace=1)))


@pytest.mark.parametrize("exif_after", [False, True], ids=["no-exif", "exif-after-idat"])
def test_png_pixel_data_that_decodes_is_answered(
    uncached_client: falcon.testing.TestClient, exif_after: bool
) -> None:
    """The control: the same PNG with intact pixel data (with trailing bytes after the
    stream, which decoders ignore) is the uniform grey it is, turned by its EXIF."""
    for idat in (zlib.compress(GREY_ROWS), zlib.compress(GREY_ROWS) + b"extra"):
        data = png_with_pixel_data(64, 48, idat, exif_after)
        result = upload(uncached_client, data, metrics="brightness")
        assert result.status_code == 200, result.text
        assert result.json["average_luminance"] == 200.0
        assert result.json.get("orientation") == (6 if exif_after else None)


# --- not images ------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "IMAGE/PNG; x=1"])
@pytest.mark.parametrize("name", NOT_IMAGES)
def test_not_an_image_under_allowed_types(
    uncached_client: falcon.testing.TestClient, name: str, content_type: str
) -> None:
    result = upload(uncached_client, NOT_IMAGES[name], content_type)
    assert result.status_code == 400
    assert result.json == NOT_AN_IMAGE


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png"])
@pytest.mark.parametrize("name", SIGNATURE_ONLY)
def test_signature_only(
    uncached_client: falcon.testing.TestClient, name: str, content_type: str
) -> None:
    assert_corrupt(upload(uncached_client, SIGNATURE_ONLY[name], content_type))


@pytest.mark.parametrize("name", OTHER_FORMATS)
def test_other_formats_sent_as_png(uncached_client: falcon.testing.TestClient, name: str) -> None:
    result = upload(uncached_client, OTHER_FORMATS[name](), "image/png")
    assert result.status_code == 400
    assert result.json == NOT_AN_IMAGE


@pytest.mark.parametrize("name", ADDITIVE_FORMATS)
def test_accepted_formats_sent_as_png_are_read_by_their_bytes(
    uncached_client: falcon.testing.TestClient, name: str
) -> None:
    result = upload(uncached_client, ADDITIVE_FORMATS[name](), "image/png")
    assert result.status_code == 200, result.text
    assert (result.json["width"], result.json["height"]) == (RGB.shape[1], RGB.shape[0])


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png"])
def test_zero_bytes(uncached_client: falcon.testing.TestClient, content_type: str) -> None:
    result = upload(uncached_client, b"", content_type)
    assert result.status_code == 400
    assert result.json == EMPTY


# --- decompression bombs ---------------------------------------------------------------------


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
    uncached_client: falcon.testing.TestClient, data: bytes, pixels: int
) -> None:
    content_type = "image/jpeg" if data.startswith(b"\xff\xd8") else "image/png"
    result = upload(uncached_client, data, content_type)
    assert result.status_code == 413
    assert result.json == bomb(pixels)


def test_png_declaring_zero_size(uncached_client: falcon.testing.TestClient) -> None:
    assert_corrupt(upload(uncached_client, synthetic.png_header_only(0, 0)))


def test_jpeg_under_the_limit_without_the_pixels(
    uncached_client: falcon.testing.TestClient,
) -> None:
    """7000 x 7000 declared, a 64 x 48 scan: decoded as far as the data goes, within the
    limit, or refused; never a crash."""
    result = upload(uncached_client, jpeg_with_size(JPEG, 7000, 7000), "image/jpeg")
    if result.status_code == 200:
        assert_valid_200(result, 7000, 7000)
    else:
        assert_corrupt(result)


@pytest.mark.parametrize(
    "extra",
    [
        chunk(b"zTXt", b"comment\x00\x00" + BIG_ZLIB),
        chunk(b"iCCP", b"icc\x00\x00" + BIG_ZLIB),
        chunk(b"iTXt", b"comment\x00\x01\x00\x00\x00" + BIG_ZLIB),
    ],
    ids=["zTXt", "iCCP", "iTXt"],
)
def test_png_metadata_bomb(uncached_client: falcon.testing.TestClient, extra: bytes) -> None:
    """A 64 MiB zlib bomb in a metadata chunk costs neither memory nor time: text chunks are
    never inflated, and an ICC profile only up to 1 MB (a larger one is dropped). The image
    is analysed as it is."""
    result = upload(uncached_client, after_ihdr(PNG, extra))
    assert result.status_code == 200, result.text
    assert result.json["average_luminance"] == image_insights.analyze(PNG)["average_luminance"]


def test_png_large_plain_text_chunk(uncached_client: falcon.testing.TestClient) -> None:
    result = upload(uncached_client, after_ihdr(PNG, chunk(b"tEXt", b"k\x00" + b"a" * 4_000_000)))
    assert result.status_code == 200
    assert result.json["average_luminance"] == image_insights.analyze(PNG)["average_luminance"]


# --- odd but valid images: the numbers must be right -----------------------------------------


def expected_fields(rgb: np.ndarray) -> dict[str, float]:
    """Mean and median of an (h, w, 3) uint8 image of at most 512 px (no resize), exactly."""
    stats = reference_stats(rgb, "RGB")
    return {"average_luminance": round(stats.mean, 2), "median_luminance": round(stats.median, 2)}


def numbers(result: falcon.testing.Result) -> dict[str, float]:
    assert result.status_code == 200, result.text
    return {k: result.json[k] for k in ("average_luminance", "median_luminance")}


def test_png16_grey_scales_not_saturates(uncached_client: falcon.testing.TestClient) -> None:
    samples = (np.arange(64 * 48, dtype=np.uint32).reshape(48, 64) * 21).astype(np.uint16)
    eight = np.floor(samples / 257 + 0.5).astype(np.uint8)
    result = upload(uncached_client, synthetic.png16(samples), metrics="brightness,median")
    assert numbers(result) == expected_fields(np.repeat(eight[..., None], 3, axis=2))


@pytest.mark.parametrize("channels", [3, 4, 2])
def test_png16_colour_scales_not_saturates(
    uncached_client: falcon.testing.TestClient, channels: int
) -> None:
    rng = np.random.default_rng(channels)
    samples = rng.integers(0, 65536, size=(48, 64, channels), dtype=np.uint16)
    result = upload(uncached_client, synthetic.png16(samples), metrics="brightness,median")
    colour = samples[..., :3] if channels >= 3 else np.repeat(samples[..., :1], 3, axis=2)
    # Each channel to 8 bits, by rounding or by the high byte: within one level either way.
    expected = expected_fields(np.floor(colour / 257 + 0.5).astype(np.uint8))
    got = numbers(result)
    for name, value in expected.items():
        assert abs(got[name] - value) <= 1.0, (name, got, expected)


def test_png16_extremes(uncached_client: falcon.testing.TestClient) -> None:
    white = np.full((8, 8, 3), 65535, np.uint16)
    result = upload(uncached_client, synthetic.png16(white), metrics="brightness,median")
    assert numbers(result) == {"average_luminance": 255.0, "median_luminance": 255.0}


def test_cmyk_jpeg_matches_its_rgb_source(uncached_client: falcon.testing.TestClient) -> None:
    result = upload(uncached_client, synthetic.cmyk_jpeg(RGB), "image/jpeg")
    body = assert_valid_200(result, 64, 48)
    assert abs(body["average_luminance"] - expected_fields(RGB)["average_luminance"]) < 3


def test_ycck_jpeg(uncached_client: falcon.testing.TestClient) -> None:
    result = upload(
        uncached_client, ycck_jpeg(), "image/jpeg", metrics=ALL_METRICS, edge_mode="all"
    )
    body = assert_valid_200(result, 64, 48)
    assert abs(sum(bucket["percent"] for bucket in body["histogram"]) - 100) < 1


def test_palette_with_transparency_drops_alpha(uncached_client: falcon.testing.TestClient) -> None:
    data = synthetic.palette_png(RGB, transparent_index=0)
    image = Image.open(io.BytesIO(data))
    assert image.mode == "P" and "transparency" in image.info
    rgb = np.asarray(image.convert("RGB"))
    assert numbers(upload(uncached_client, data, metrics="brightness,median")) == (
        expected_fields(rgb)
    )


def test_grey_alpha(uncached_client: falcon.testing.TestClient) -> None:
    grey = synthetic.to_grey(RGB)
    data = synthetic.png(synthetic.with_alpha(grey))
    assert Image.open(io.BytesIO(data)).mode == "LA"
    expected = expected_fields(np.repeat(grey[..., None], 3, axis=2))
    assert numbers(upload(uncached_client, data, metrics="brightness,median")) == expected


def test_rgba(uncached_client: falcon.testing.TestClient) -> None:
    data = synthetic.png(synthetic.with_alpha(RGB))
    assert numbers(upload(uncached_client, data, metrics="brightness,median")) == (
        expected_fields(RGB)
    )


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
    uncached_client: falcon.testing.TestClient, progressive: bool, width: int, height: int
) -> None:
    """libjpeg's arithmetic decoder cannot suspend for more data: it must be given the whole
    file, not 64 KiB pieces. The answer is that of the same coefficients Huffman-coded, which
    the core decodes itself at the same scale (1/2 and 1/8 here)."""
    args = ["-arithmetic", "-quality", "95", *(["-progressive"] if progressive else [])]
    data = synthetic.cjpeg(synthetic.textured_photo(width, height, seed=8), *args)
    assert len(data) > 64 * 1024 and (b"\xff\xc9" in data or b"\xff\xca" in data)  # SOF9, SOF10
    result = upload(uncached_client, data, "image/jpeg", metrics=ALL_METRICS, edge_mode="all")
    assert result.status_code == 200, result.text
    twin = image_insights.analyze(huffman_twin(data), ALL_METRICS, "all")
    for name, expected in twin.items():
        assert result.json[name] == expected, name


@pytest.mark.parametrize("width, height", [(640, 80), (3200, 400)], ids=["full", "1/8"])
def test_invalid_scan_parameters_are_refused_at_every_size(
    uncached_client: falcon.testing.TestClient, width: int, height: int
) -> None:
    """The answer must not depend on the scale the image is read at."""
    data = bad_dc_refinement(width, height)
    with pytest.raises(OSError):
        Image.open(io.BytesIO(data)).load()
    assert_corrupt(upload(uncached_client, data, "image/jpeg"))


def test_animated_png_uses_the_first_frame(uncached_client: falcon.testing.TestClient) -> None:
    buffer = io.BytesIO()
    frames = [Image.fromarray(RGB), Image.fromarray(255 - RGB), Image.fromarray(RGB // 2)]
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:], duration=100)
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).n_frames == 3
    assert numbers(upload(uncached_client, data, metrics="brightness,median")) == (
        expected_fields(RGB)
    )


@pytest.mark.parametrize("name", ABSURD_EXIF)
def test_absurd_exif(uncached_client: falcon.testing.TestClient, name: str) -> None:
    """Orientation is metadata: a broken EXIF block is ignored, and the image is analysed as
    stored (the core reads EXIF itself; Pillow's "Corrupt EXIF data" warnings, which are
    errors under pytest and `python -W error`, never come into it)."""
    data = with_app1(JPEG, b"Exif\x00\x00" + ABSURD_EXIF[name])
    result = upload(uncached_client, data, "image/jpeg", metrics="brightness,median")
    assert numbers(result) == numbers(
        upload(uncached_client, JPEG, "image/jpeg", metrics="brightness,median")
    )
    assert "orientation" not in result.json


TINY = [(1, 1), (1, 2), (2, 1), (1, 9), (9, 1), (1, 700), (700, 1), (3, 3)]


@pytest.mark.parametrize("mode", EDGE_MODES)
@pytest.mark.parametrize("width, height", TINY)
def test_tiny_images_under_every_edge_mode(
    uncached_client: falcon.testing.TestClient, width: int, height: int, mode: str
) -> None:
    rgb = synthetic.textured_photo(max(width, 4), max(height, 4), seed=width * 31 + height)
    rgb = np.ascontiguousarray(rgb[:height, :width])
    data = synthetic.png(rgb)
    result = upload(uncached_client, data, metrics=ALL_METRICS, edge_mode=mode)
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
