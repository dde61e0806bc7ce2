"""WebP, AVIF, HEIC, GIF and TIFF through `image_insights.analyze` and the service, against a
second decoder (tests/support/formats.py: libvips, or the format's reference tool).

Each file is written by a real encoder; the second decoder's pixels go through the
reference pipeline (tests/support/reference.py) and the service's numbers must match them:
exactly for lossless files, within the contract's downscaled tolerance for lossy ones (the
two decoders' colour conversions round differently). The same picture stored losslessly in
each format gives identical numbers; animations report their frames and are measured on the
first; deeper samples become round(v * 255 / (2^b - 1)); `formats` and `ACCEPTED_FORMATS`
narrow what is read.

Everything is generated here; files live in memory or in temporary folders.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

import image_insights
from image_insights import CorruptImage
from tests.support import formats, synthetic
from tests.support.hostile import BY_URL, CORRUPT, UPLOAD
from tests.support.http_helpers import multipart
from tests.support.live_server import LiveServer, running_service
from tests.support.reference import reference_analyze
from tests.test_pipeline import DOWNSCALED, EXACT, assert_results_close

ALL_METRICS = "brightness,median,histogram"
#: Every metric of the service: identical pictures must agree on all of them.
EVERY_METRIC = "brightness,median,histogram,contrast,sharpness,entropy,colorfulness,colors"
#: The contract's downscaled tolerance, which lossy decoders are held to.
LOSSY = DOWNSCALED
#: The service's media types in the 415 body's order.
#: Today's body for bytes of another format (the service with ACCEPTED_FORMATS=jpeg,png).
NOT_AN_IMAGE = {"detail": {"error": CORRUPT, "details": "not a JPEG or PNG image"}}
ALLOWED_TYPES = ["image/jpeg", "image/png", "image/webp", "image/avif", "image/heic",
                 "image/heif", "image/gif", "image/tiff"]  # fmt: skip
MEDIA_TYPE = {"webp": "image/webp", "avif": "image/avif", "heif": "image/heic",
              "gif": "image/gif", "tiff": "image/tiff"}  # fmt: skip
#: The Python packages the service's decoder of a format comes from.
SERVICE_DECODER = {"avif": "pillow_avif", "heif": "pillow_heif"}

PHOTO = synthetic.textured_photo(300, 200, seed=11)  # under 512 px: analysed as decoded
PHOTO16 = PHOTO.astype(np.uint16) * 256 + np.uint16(97)  # levels between multiples of 257
PALETTE_PHOTO = formats.palette_picture(PHOTO)
#: Frames after the first, far from it, so that measuring another frame would show.
OTHER_FRAMES = [np.full_like(PHOTO, 250), np.full_like(PHOTO, 5)]


def supported(fmt: str) -> None:
    """Skips when an encoder or the second decoder of `fmt` is missing here, or the package
    the service decodes it with; fails when that package is there but the library does not
    list the format."""
    missing = formats.missing_tools(fmt)
    if missing:
        pytest.skip(f"encoder missing: {', '.join(missing)}")
    if (why := formats.decoder_missing(fmt)) is not None:
        pytest.skip(why)
    if fmt in SERVICE_DECODER:
        pytest.importorskip(SERVICE_DECODER[fmt], reason=f"the service's {fmt} decoder")
    assert fmt in image_insights.SUPPORTED_FORMATS


def grey(pixels: np.ndarray) -> np.ndarray:
    """The grey picture of RGB `pixels`: Rec. 709 for 8 bits, the green channel for 16."""
    return synthetic.to_grey(pixels) if pixels.dtype == np.uint8 else pixels[..., 1].copy()


def alpha(pixels: np.ndarray) -> np.ndarray:
    """`pixels` with an alpha channel that varies across the picture."""
    if pixels.dtype == np.uint8:
        return synthetic.with_alpha(pixels)
    ramp = np.linspace(0, 65535, pixels.shape[1], dtype=np.uint16)
    return np.dstack([pixels, np.broadcast_to(ramp, pixels.shape[:2])])


#: name -> (format, file, tolerance, frames)
Variant = tuple[str, Callable[[], bytes], dict[str, Any], int]
VARIANTS: dict[str, Variant] = {
    "webp-lossy": ("webp", lambda: formats.webp_lossy(PHOTO), LOSSY, 1),
    "webp-lossy-alpha": ("webp", lambda: formats.webp_lossy(alpha(PHOTO)), LOSSY, 1),
    "webp-lossless": ("webp", lambda: formats.webp_lossless(PHOTO), EXACT, 1),
    "webp-lossless-alpha": ("webp", lambda: formats.webp_lossless(alpha(PHOTO)), EXACT, 1),
    "webp-lossless-grey": ("webp", lambda: formats.webp_lossless(grey(PHOTO)), EXACT, 1),
    "webp-animated": ("webp", lambda: formats.webp_animated([PHOTO, *OTHER_FRAMES]), EXACT, 3),
    "webp-animated-lossy": (
        "webp", lambda: formats.webp_animated([PHOTO, *OTHER_FRAMES], lossless=False), LOSSY, 3),
    "avif-8": ("avif", lambda: formats.avif(PHOTO), LOSSY, 1),
    "avif-8-alpha": ("avif", lambda: formats.avif(alpha(PHOTO)), LOSSY, 1),
    "avif-8-lossless": ("avif", lambda: formats.avif(PHOTO, lossless=True), EXACT, 1),
    "avif-10": ("avif", lambda: formats.avif(PHOTO16, 10), LOSSY, 1),
    "avif-10-lossless": ("avif", lambda: formats.avif(PHOTO16, 10, lossless=True), EXACT, 1),
    "avif-12": ("avif", lambda: formats.avif(PHOTO16, 12), LOSSY, 1),
    "avif-12-lossless": ("avif", lambda: formats.avif(PHOTO16, 12, lossless=True), EXACT, 1),
    "avif-12-alpha": ("avif", lambda: formats.avif(alpha(PHOTO16), 12), LOSSY, 1),
    "heic-8": ("heif", lambda: formats.heic(PHOTO), LOSSY, 1),
    "heic-8-alpha": ("heif", lambda: formats.heic(alpha(PHOTO)), LOSSY, 1),
    "heic-8-lossless": ("heif", lambda: formats.heic(PHOTO, lossless=True), EXACT, 1),
    "heic-10": ("heif", lambda: formats.heic(PHOTO16, 10), LOSSY, 1),
    "heic-10-lossless": ("heif", lambda: formats.heic(PHOTO16, 10, lossless=True), EXACT, 1),
    "gif": ("gif", lambda: formats.gif(PALETTE_PHOTO), EXACT, 1),
    "gif-transparent": ("gif", lambda: formats.gif(PALETTE_PHOTO, transparent_index=3), EXACT, 1),
    "gif-animated": (
        "gif", lambda: formats.gif_animated([PALETTE_PHOTO, *OTHER_FRAMES]), EXACT, 3),
    "tiff-rgb": ("tiff", lambda: formats.tiff([PHOTO]), EXACT, 1),
    "tiff-rgba": ("tiff", lambda: formats.tiff([alpha(PHOTO)]), EXACT, 1),
    "tiff-grey": ("tiff", lambda: formats.tiff([grey(PHOTO)]), EXACT, 1),
    "tiff-grey-alpha": ("tiff", lambda: formats.tiff([alpha(grey(PHOTO))]), EXACT, 1),
    "tiff-strips-of-7-rows": ("tiff", lambda: formats.tiff([PHOTO], rows_per_strip=7), EXACT, 1),
    "tiff-16-rgb": ("tiff", lambda: formats.tiff([PHOTO16]), EXACT, 1),
    "tiff-16-rgba": ("tiff", lambda: formats.tiff([alpha(PHOTO16)]), EXACT, 1),
    "tiff-16-grey": ("tiff", lambda: formats.tiff([grey(PHOTO16)]), EXACT, 1),
    "tiff-16-lzw-big-endian": (
        "tiff", lambda: formats.tiff_compressed([PHOTO16], "lzw-predictor", True), EXACT, 1),
    "tiff-multi-page": ("tiff", lambda: formats.tiff([PHOTO, *OTHER_FRAMES]), EXACT, 3),
    **{
        f"tiff-{name}": ("tiff", partial(formats.tiff_compressed, [PHOTO], name),
                         LOSSY if name == "jpeg" else EXACT, 1)
        for name in formats.COMPRESSIONS if name != "none"
    },
    "tiff-deflate-rgba-big-endian": (
        "tiff", lambda: formats.tiff_compressed([alpha(PHOTO)], "deflate", True), EXACT, 1),
}  # fmt: skip

_FILES: dict[str, bytes] = {}


def variant_file(name: str) -> bytes:
    """The file of a variant, written once per test session."""
    if name not in _FILES:
        _FILES[name] = VARIANTS[name][1]()
    return _FILES[name]


def reference_of(data: bytes, fmt: str, edge_mode: str = "all") -> dict[str, Any]:
    """The reference pipeline's answer for the second decoder's pixels of `data`."""
    pixels = formats.decode(data, fmt).rgb8()
    return reference_analyze(synthetic.png(pixels), ALL_METRICS, edge_mode)


def without_extras(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("frames", "color_profile")}


# --- the second decoders themselves -----------------------------------------------------------


def source_of(name: str) -> np.ndarray:
    """The 8-bit RGB picture a variant's first frame was encoded from."""
    deep = any(mark in name for mark in ("-10", "-12", "-16"))
    picture = PALETTE_PHOTO if name.startswith("gif") else PHOTO16 if deep else PHOTO
    if "grey" in name:
        picture = grey(picture)
    samples = picture if picture.ndim == 3 else picture[..., None]
    return formats.Decoded(samples, 16 if deep else 8, "source").rgb8()


@pytest.mark.parametrize("name", VARIANTS)
def test_second_decoder_reads_the_source_picture(name: str) -> None:
    """The references are right before anything is compared with them: the second decoder's
    first frame is the encoded picture, exactly for lossless 8- and 16-bit files, close for
    lossy ones and for the encoders that reduce 16-bit input to 10 or 12 bits (each rounds
    its own way) or, as x265 does, convert losslessly coded samples on the way in."""
    fmt, _, tolerance, _ = VARIANTS[name]
    if formats.missing_tools(fmt) or formats.decoder_missing(fmt):
        pytest.skip(formats.decoder_missing(fmt) or f"encoder missing for {fmt}")
    decoded = formats.decode(variant_file(name), fmt).rgb8().astype(np.int64)
    error = np.abs(decoded - source_of(name).astype(np.int64))
    if tolerance is EXACT and fmt not in ("avif", "heif") or name == "avif-8-lossless":
        assert error.max() == 0
    elif tolerance is EXACT:
        assert error.max() <= 1
    else:
        assert error.mean() < 6


# --- agreement with the reference pipeline ------------------------------------------------------


@pytest.mark.parametrize("name", VARIANTS)
def test_every_variant_matches_the_second_decoder(name: str) -> None:
    fmt, _, tolerance, frame_count = VARIANTS[name]
    supported(fmt)
    data = variant_file(name)
    result = image_insights.analyze(data, ALL_METRICS, "all")
    assert (result["width"], result["height"]) == (300, 200)
    assert_results_close(without_extras(result), reference_of(data, fmt), **tolerance)
    assert "color_profile" not in result  # untagged or sRGB-tagged files are taken as sRGB
    if frame_count > 1:
        assert result["frames"] == {"count": frame_count, "analyzed": "first"}
    else:
        assert "frames" not in result


@pytest.mark.parametrize("edge_mode", ["left_right", "top_bottom"])
@pytest.mark.parametrize("name", ["webp-lossy", "avif-10", "heic-8", "gif", "tiff-16-rgb"])
def test_edge_modes_match_the_second_decoder(name: str, edge_mode: str) -> None:
    fmt, _, tolerance, _ = VARIANTS[name]
    supported(fmt)
    data = variant_file(name)
    result = image_insights.analyze(data, ALL_METRICS, edge_mode)
    assert_results_close(without_extras(result), reference_of(data, fmt, edge_mode), **tolerance)


def test_large_webp_is_resized_as_its_png_is() -> None:
    """Past 512 px the decoded pixels go through the same resize as a PNG's."""
    supported("webp")
    photo = synthetic.textured_photo(1200, 800, seed=4)
    expected = image_insights.analyze(synthetic.png(photo), EVERY_METRIC, "all")
    assert image_insights.analyze(formats.webp_lossless(photo), EVERY_METRIC, "all") == expected


# --- one picture, every lossless format -------------------------------------------------------

LOSSLESS = {
    "png": lambda p: synthetic.png(p),
    "webp-lossless": lambda p: formats.webp_lossless(p),
    "tiff": lambda p: formats.tiff([p]),
    "tiff-lzw": lambda p: formats.tiff_compressed([p], "lzw"),
    "tiff-deflate-predictor": lambda p: formats.tiff_compressed([p], "deflate-predictor"),
    "tiff-packbits": lambda p: formats.tiff_compressed([p], "packbits"),
    "gif": lambda p: formats.gif(p),
}


@pytest.mark.parametrize("name", [n for n in LOSSLESS if n != "png"])
def test_same_picture_in_lossless_formats_gives_identical_numbers(name: str) -> None:
    """A picture of 64 colours (GIF stores it exactly too) as PNG and as `name`: every
    metric, every number identical."""
    supported(name.split("-")[0])
    expected = image_insights.analyze(LOSSLESS["png"](PALETTE_PHOTO), EVERY_METRIC, "all")
    got = image_insights.analyze(LOSSLESS[name](PALETTE_PHOTO), EVERY_METRIC, "all")
    assert got == expected


@pytest.mark.parametrize("name", ["webp-lossless", "tiff", "tiff-lzw"])
def test_photo_with_alpha_in_lossless_formats_gives_identical_numbers(name: str) -> None:
    """Alpha is dropped, not composited, in every format as in PNG."""
    supported(name.split("-")[0])
    picture = synthetic.with_alpha(PHOTO, seed=3)
    expected = image_insights.analyze(synthetic.png(picture), EVERY_METRIC, "all")
    assert image_insights.analyze(LOSSLESS[name](picture), EVERY_METRIC, "all") == expected


# --- animations and pages ----------------------------------------------------------------------

FIRST_FRAME_CASES: dict[str, Callable[[Sequence[np.ndarray]], bytes]] = {
    "webp": lambda frames: formats.webp_animated(frames),
    "gif": lambda frames: formats.gif_animated(frames),
    "tiff": lambda frames: formats.tiff(frames),
}


@pytest.mark.parametrize("count", [2, 7])
@pytest.mark.parametrize("fmt", FIRST_FRAME_CASES)
def test_animation_is_measured_on_its_first_frame(fmt: str, count: int) -> None:
    """The numbers of the first frame alone, saved as PNG; `frames` counts them all."""
    supported(fmt)
    rng = np.random.default_rng(count)
    frames = [PALETTE_PHOTO] + [
        np.full_like(PALETTE_PHOTO, int(level)) for level in rng.integers(0, 256, count - 1)
    ]
    result = image_insights.analyze(FIRST_FRAME_CASES[fmt](frames), EVERY_METRIC, "all")
    assert result.pop("frames") == {"count": count, "analyzed": "first"}
    assert result == image_insights.analyze(synthetic.png(PALETTE_PHOTO), EVERY_METRIC, "all")


def test_single_frame_files_carry_no_frames_field() -> None:
    for fmt, make in FIRST_FRAME_CASES.items():
        supported(fmt)
        assert "frames" not in image_insights.analyze(make([PALETTE_PHOTO]))


@pytest.mark.parametrize("fmt", ["webp", "gif"])
def test_five_thousand_frames_are_counted(fmt: str) -> None:
    supported(fmt)
    one_pixel = formats.webp_lossless(PHOTO[:1, :1])
    data = (formats.gif_of_1x1_frames(5000) if fmt == "gif"
            else formats.webp_of_1x1_frames(5000, one_pixel))  # fmt: skip
    result = image_insights.analyze(data)
    assert result["frames"] == {"count": 5000, "analyzed": "first"}
    assert (result["width"], result["height"]) == (1, 1)


# --- deeper samples ----------------------------------------------------------------------------


def contract_8bit(value: int, bits: int) -> int:
    """round(v * 255 / (2^b - 1)), halves up, in integers."""
    maximum = (1 << bits) - 1
    return (value * 255 * 2 + maximum) // (2 * maximum)


#: 16-bit levels where rounding, truncating (v >> 8 or v // 257) and clipping disagree.
LEVELS_16 = [129, 386, 32896, 65150, 65535]


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("level", LEVELS_16)
def test_16_bit_tiff_rounds_to_8_bits(level: int, channels: int) -> None:
    supported("tiff")
    shape = (6, 10) if channels == 1 else (6, 10, channels)
    result = image_insights.analyze(formats.tiff([np.full(shape, level, np.uint16)]), ALL_METRICS)
    assert result["average_luminance"] == contract_8bit(level, 16)
    assert result["median_luminance"] == contract_8bit(level, 16)


#: (bits, level) where round(v * 255 / (2^b - 1)) and v >> (b - 8) disagree, and near the top.
DEEP_LEVELS = [(10, 3), (10, 7), (10, 513), (10, 1022), (12, 9), (12, 2050), (12, 4094)]


@pytest.mark.parametrize(("bits", "level"), DEEP_LEVELS)
def test_10_and_12_bit_avif_round_to_8_bits(bits: int, level: int) -> None:
    """A uniform lossless AVIF: avifenc stores round(p * (2^b - 1) / 65535) of the 16-bit
    input p, chosen so that it is `level`; the second decoder confirms the stored level."""
    supported("avif")
    wide = round(level * 65535 / ((1 << bits) - 1))
    data = formats.avif(np.full((8, 12, 3), wide, np.uint16), bits, lossless=True)
    stored = formats.decode(data, "avif")
    assert stored.bits == bits and np.all(stored.samples == level)
    result = image_insights.analyze(data, ALL_METRICS)
    assert result["average_luminance"] == result["median_luminance"] == contract_8bit(level, bits)


@pytest.mark.parametrize("level", [3, 7, 513, 1022])
def test_10_bit_heic_rounds_to_8_bits(level: int) -> None:
    """A uniform lossless 10-bit HEIC, whatever level heif-enc stored for the 16-bit input
    (the second decoder says which): the service's number is that level rounded."""
    supported("heif")
    data = formats.heic(np.full((16, 16, 3), level << 6, np.uint16), 10, lossless=True)
    stored = formats.decode(data, "heif")
    assert stored.bits == 10
    (value,) = np.unique(stored.samples)
    result = image_insights.analyze(data, ALL_METRICS)
    assert result["average_luminance"] == result["median_luminance"] == contract_8bit(
        int(value), 10)  # fmt: skip


# --- narrowing the formats -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["webp", "avif", "heif", "gif", "tiff"])
def test_formats_outside_the_list_are_corrupt(fmt: str) -> None:
    """`formats=("jpeg", "png")` reads as the service did before it knew other formats."""
    supported(fmt)
    data = {"webp": lambda: variant_file("webp-lossless"), "avif": lambda: variant_file("avif-8"),
            "heif": lambda: variant_file("heic-8"), "gif": lambda: variant_file("gif"),
            "tiff": lambda: variant_file("tiff-rgb")}[fmt]()  # fmt: skip
    with pytest.raises(CorruptImage):
        image_insights.analyze(data, formats=("jpeg", "png"))
    assert image_insights.analyze(data, formats=(fmt, "png"))["width"] == 300
    with pytest.raises(CorruptImage):
        image_insights.analyze(synthetic.png(PHOTO), formats=(fmt,))


def test_supported_formats_lists_the_contract_names() -> None:
    names = image_insights.SUPPORTED_FORMATS
    assert names[:2] == ("jpeg", "png")
    assert set(names) <= {"jpeg", "png", "webp", "avif", "heif", "gif", "tiff"}
    assert list(names) == [n for n in ("jpeg", "png", "webp", "avif", "heif", "gif", "tiff")
                           if n in names]  # fmt: skip


# --- over HTTP, through gunicorn --------------------------------------------------------------


class FileOrigin:
    """A loopback server answering GET /<name> with the bytes and content type it holds."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                body, content_type = files.get(self.path.lstrip("/"), (b"", "text/plain"))
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def file_origin() -> Iterator[FileOrigin]:
    origin = FileOrigin()
    yield origin
    origin.close()


def _service(origin: FileOrigin, **env: str) -> Iterator[LiveServer]:
    settings = {"CACHE_ENABLED": "false", "ENABLE_DETAILED_LOGGING": "false",
                "URL_FETCH_ALLOWLIST": f"127.0.0.1:{origin.port}", **env}  # fmt: skip
    with running_service(settings) as server:
        yield server


@pytest.fixture(scope="module")
def every_format_service(file_origin: FileOrigin) -> Iterator[LiveServer]:
    yield from _service(file_origin)


@pytest.fixture(scope="module")
def jpeg_png_service(file_origin: FileOrigin) -> Iterator[LiveServer]:
    yield from _service(file_origin, ACCEPTED_FORMATS="jpeg,png")


def post(server: LiveServer, data: bytes, content_type: str) -> tuple[int, Any]:
    body, headers = multipart([("image", data, content_type)])
    status, _, payload = server.request("POST", UPLOAD + "?edge_mode=all", body, headers)
    return status, json.loads(payload)


def post_url(server: LiveServer, url: str) -> tuple[int, Any]:
    body = json.dumps({"url": url, "edge_mode": "all"}).encode()
    status, _, payload = server.request("POST", BY_URL, body, {"Content-Type": "application/json"})
    return status, json.loads(payload)


HTTP_CASES = {"webp": "webp-lossy", "avif": "avif-10", "heif": "heic-8", "gif": "gif-animated",
              "tiff": "tiff-lzw"}  # fmt: skip


@pytest.mark.integration
@pytest.mark.parametrize("fmt", HTTP_CASES)
def test_each_format_over_http(
    every_format_service: LiveServer, file_origin: FileOrigin, fmt: str
) -> None:
    """Uploaded under its media type, under another one (the bytes decide), and by URL: the
    library's answer each time."""
    supported(fmt)
    data = variant_file(HTTP_CASES[fmt])
    expected = image_insights.analyze(data, "brightness", "all")
    file_origin.files[fmt] = (data, MEDIA_TYPE[fmt])
    for declared in (MEDIA_TYPE[fmt], "image/jpeg"):
        status, body = post(every_format_service, data, declared)
        assert status == 200, body
        assert {k: body[k] for k in expected} == expected
    status, body = post_url(every_format_service, file_origin.url(fmt))
    assert status == 200, body
    assert {k: body[k] for k in expected} == expected


@pytest.mark.integration
def test_heif_media_type_is_accepted(every_format_service: LiveServer) -> None:
    supported("heif")
    status, body = post(every_format_service, variant_file("heic-8"), "image/heif")
    assert status == 200, body


@pytest.mark.integration
def test_415_lists_every_type_in_order(
    every_format_service: LiveServer, file_origin: FileOrigin
) -> None:
    for fmt in MEDIA_TYPE:
        supported(fmt)
    status, body = post(every_format_service, synthetic.bmp(PHOTO), "image/bmp")
    assert (status, body) == (415, {"detail": {"error": "Unsupported image type",
                                               "allowed_types": ALLOWED_TYPES,
                                               "received_type": "image/bmp"}})  # fmt: skip
    file_origin.files["page.txt"] = (b"hello", "text/plain")
    status, body = post_url(every_format_service, file_origin.url("page.txt"))
    assert (status, body) == (415, {"detail": {"error": "Unsupported image type from URL",
                                               "allowed_types": ALLOWED_TYPES,
                                               "received_type": "text/plain"}})  # fmt: skip


@pytest.mark.integration
@pytest.mark.parametrize("fmt", HTTP_CASES)
def test_jpeg_png_only_is_todays_service(
    jpeg_png_service: LiveServer, file_origin: FileOrigin, fmt: str
) -> None:
    """`ACCEPTED_FORMATS=jpeg,png`: the 415 of before for the new media types (by upload and
    by URL), the 400 of before for their bytes declared as JPEG, JPEG and PNG as ever."""
    if not shutil.which(formats.ENCODER_TOOLS[fmt][0]):
        pytest.skip(f"encoder missing: {formats.ENCODER_TOOLS[fmt][0]}")
    data = variant_file(HTTP_CASES[fmt])
    status, body = post(jpeg_png_service, data, MEDIA_TYPE[fmt])
    assert (status, body) == (415, {"detail": {"error": "Unsupported image type",
                                               "allowed_types": ["image/jpeg", "image/png"],
                                               "received_type": MEDIA_TYPE[fmt]}})  # fmt: skip
    assert post(jpeg_png_service, data, "image/jpeg") == (400, NOT_AN_IMAGE)
    file_origin.files[f"only-{fmt}"] = (data, MEDIA_TYPE[fmt])
    status, body = post_url(jpeg_png_service, file_origin.url(f"only-{fmt}"))
    assert (status, body) == (415, {"detail": {"error": "Unsupported image type from URL",
                                               "allowed_types": ["image/jpeg", "image/png"],
                                               "received_type": MEDIA_TYPE[fmt]}})  # fmt: skip
    file_origin.files[f"as-jpeg-{fmt}"] = (data, "image/jpeg")
    assert post_url(jpeg_png_service, file_origin.url(f"as-jpeg-{fmt}")) == (400, NOT_AN_IMAGE)
    status, body = post(jpeg_png_service, synthetic.png(PHOTO), "image/png")
    assert status == 200 and "frames" not in body
