"""Hostile WebP, AVIF, HEIC, GIF and TIFF files: truncated at every kind of offset,
decompression bombs declaring huge sizes in their headers, animations of thousands of frames,
flipped bytes and wrong chunk lengths. Through `image_insights.analyze` each is a result, a
CorruptImage (the contract's 400) or an ImageTooLarge (its 413); through real gunicorn each
is one of those statuses with a JSON body, never a 5xx, and the workers that served them are
the same processes, still answering /health.

Every file is a small valid one written by a real encoder (tests/support/formats.py), then
edited byte by byte. Nothing is written to the repository.
"""

from __future__ import annotations

import io
import json
import random
import struct
from collections.abc import Callable, Iterator
from functools import partial

import numpy as np
import pytest

import image_insights
from image_insights import CorruptImage, ImageTooLarge
from tests.support import formats
from tests.support.hostile import RGB, UPLOAD, bomb, cut_points
from tests.support.http_helpers import multipart
from tests.support.live_server import LiveServer, running_service
from tests.support.procfs import children

#: The service's decoder of each format comes from these packages.
SERVICE_DECODER = {"avif": "pillow_avif", "heif": "pillow_heif"}
MEDIA_TYPE = {"webp": "image/webp", "avif": "image/avif", "heif": "image/heic",
              "gif": "image/gif", "tiff": "image/tiff"}  # fmt: skip
RGBA = np.dstack([RGB, np.arange(64 * 48, dtype=np.uint32).reshape(48, 64) % 256]).astype(
    np.uint8)  # fmt: skip


def need(fmt: str) -> None:
    """Skips when an encoder of `fmt` is missing here, or the package the service decodes
    it with."""
    if missing := formats.missing_tools(fmt):
        pytest.skip(f"encoder missing: {', '.join(missing)}")
    if fmt in SERVICE_DECODER:
        pytest.importorskip(SERVICE_DECODER[fmt], reason=f"the service's {fmt} decoder")
    assert fmt in image_insights.SUPPORTED_FORMATS


_FILES: dict[str, bytes] = {}

#: Small valid files (64 x 48) of each format and kind, the material of every edit below.
VALID: dict[str, tuple[str, Callable[[], bytes]]] = {
    "webp-lossy": ("webp", lambda: formats.webp_lossy(RGB)),
    "webp-lossy-alpha": ("webp", lambda: formats.webp_lossy(RGBA)),
    "webp-lossless": ("webp", lambda: formats.webp_lossless(RGB)),
    "webp-animated": ("webp", lambda: formats.webp_animated([RGB, RGB[::-1].copy()])),
    "avif": ("avif", lambda: formats.avif(RGB)),
    "avif-10-alpha": ("avif", lambda: formats.avif(RGBA.astype(np.uint16) * 257, 10)),
    "heic": ("heif", lambda: formats.heic(RGB)),
    "heic-10": ("heif", lambda: formats.heic(RGB.astype(np.uint16) * 257, 10)),
    "gif": ("gif", lambda: formats.gif(formats.palette_picture(RGB))),
    "gif-animated": ("gif", lambda: formats.gif_animated(
        [formats.palette_picture(RGB), np.full_like(RGB, 9)])),
    "tiff": ("tiff", lambda: formats.tiff([RGB])),
    "tiff-lzw": ("tiff", lambda: formats.tiff_compressed([RGB], "lzw")),
    "tiff-deflate": ("tiff", lambda: formats.tiff_compressed([RGB], "deflate")),
    "tiff-packbits": ("tiff", lambda: formats.tiff_compressed([RGB], "packbits")),
    "tiff-jpeg": ("tiff", lambda: formats.tiff_compressed([RGB], "jpeg")),
    "tiff-16": ("tiff", lambda: formats.tiff([RGB.astype(np.uint16) * 257])),
    "tiff-pages": ("tiff", lambda: formats.tiff([RGB, RGB[::-1].copy()])),
}  # fmt: skip


def valid(name: str) -> bytes:
    if name not in _FILES:
        _FILES[name] = VALID[name][1]()
    return _FILES[name]


def expect_corrupt(data: bytes) -> None:
    with pytest.raises(CorruptImage) as caught:
        image_insights.analyze(data, "brightness,median,histogram", "all")
    reason = caught.value.reason
    assert isinstance(reason, str) and 0 < len(reason) <= 200 and "Traceback" not in reason


def expect_corrupt_or_whole(data: bytes, width: int = 64, height: int = 48) -> None:
    """A decoder may read damaged compressed data, as browsers do: then the answer is for
    the whole image, of the original size; otherwise the corrupt-image error."""
    try:
        result = image_insights.analyze(data, "brightness,median,histogram", "all")
    except CorruptImage:
        return
    assert (result["width"], result["height"]) == (width, height)
    assert 0 <= result["average_luminance"] <= 255


# --- truncation ---------------------------------------------------------------------------------


def truncation_cases() -> list[tuple[str, int]]:
    """(file, kept fraction class) pairs: header only, half, all but the last bytes."""
    return [(name, kind) for name in VALID for kind in (0, 1, 2, 3, 4)]


def cut_of(data: bytes, kind: int) -> int:
    return {0: 12, 1: 40, 2: len(data) // 2, 3: len(data) - 8, 4: len(data) - 1}[kind]


def trailer_only(name: str, cut: int, data: bytes) -> bool:
    """Whether only a trailer is cut: the GIF's last byte (";") or the animation's last
    frame, whose absence leaves the first frame whole."""
    return name.startswith("gif") and cut >= len(data) - 1


@pytest.mark.parametrize(("name", "kind"), truncation_cases())
def test_truncated(name: str, kind: int) -> None:
    fmt, _ = VALID[name]
    need(fmt)
    data = valid(name)
    cut = cut_of(data, kind)
    if trailer_only(name, cut, data):
        expect_corrupt_or_whole(data[:cut])
    elif name.endswith(("animated", "pages")) and kind >= 2:
        # Where the cut leaves the first frame whole, the first frame is what is measured.
        expect_corrupt_or_whole(data[:cut])
    else:
        expect_corrupt(data[:cut])


@pytest.mark.parametrize("name", ["webp-lossy", "avif", "heic", "gif", "tiff-lzw"])
def test_truncated_everywhere(name: str) -> None:
    """Forty cuts from the first byte to the last: never anything but the two outcomes."""
    fmt, _ = VALID[name]
    need(fmt)
    data = valid(name)
    for cut in cut_points(len(data)):
        expect_corrupt_or_whole(data[:cut])


# --- bombs --------------------------------------------------------------------------------------


def vp8l_of_size(data: bytes, width: int, height: int) -> bytes:
    """A lossless WebP whose VP8L header declares width x height (14 bits each, minus one)."""
    (offset,) = [o for o, kind, _ in formats.riff_chunks(data) if kind == b"VP8L"]
    (bits,) = struct.unpack_from("<I", data, offset + 9)
    bits = (bits & ~0x0FFFFFFF) | (width - 1) | ((height - 1) << 14)
    return data[: offset + 9] + struct.pack("<I", bits) + data[offset + 13 :]


def vp8x_of_size(data: bytes, width: int, height: int, frame_too: bool = True) -> bytes:
    """An extended WebP whose VP8X canvas (24 bits each, minus one) and, with `frame_too`,
    whose VP8 key frame header (14 bits each) declare width x height."""
    edited = bytearray(data)
    for offset, kind, _ in formats.riff_chunks(data):
        if kind == b"VP8X":
            edited[offset + 12 : offset + 18] = (width - 1).to_bytes(3, "little") + (
                height - 1).to_bytes(3, "little")  # fmt: skip
        elif kind == b"VP8 " and frame_too:
            # frame tag (3 bytes), start code 9d 01 2a, then width and height (scale bits 0)
            assert data[offset + 11 : offset + 14] == b"\x9d\x01\x2a"
            edited[offset + 14 : offset + 18] = struct.pack("<HH", width, height)
    return bytes(edited)


def gif_image_of_size(data: bytes, width: int, height: int) -> bytes:
    """A GIF whose logical screen and first image descriptor declare width x height."""
    (offset,) = [o for o, kind in formats.gif_blocks(data) if kind == "image"][:1]
    edited = bytearray(formats.gif_screen(data, width, height))
    edited[offset + 5 : offset + 9] = struct.pack("<HH", width, height)
    return bytes(edited)


def tiff_of_size(width: int, height: int) -> bytes:
    """A TIFF declaring width x height whose single strip is a few bytes of the real image."""
    def declare(_: int, tags: dict[int, list[int]]) -> None:
        tags[256], tags[257], tags[278], tags[279] = [width], [height], [height], [64]

    return formats.tiff([RGB[:1, :8]], page_tags=declare)


BOMBS: dict[str, tuple[str, Callable[[], bytes], int]] = {
    "webp-vp8l-16384x16384": (
        "webp", lambda: vp8l_of_size(valid("webp-lossless"), 16384, 16384), 16384 * 16384),
    "webp-vp8x-16383x16383": (
        "webp", lambda: vp8x_of_size(valid("webp-lossy-alpha"), 16383, 16383), 16383 * 16383),
    "gif-screen-65535x65535": (
        "gif", lambda: formats.gif_screen(valid("gif"), 65535, 65535), 65535 * 65535),
    "gif-image-65535x65535": (
        "gif", lambda: gif_image_of_size(valid("gif"), 65535, 65535), 65535 * 65535),
    "tiff-100000x100000": ("tiff", lambda: tiff_of_size(100_000, 100_000), 10**10),
    "tiff-lzw-100000x100000": (
        "tiff", lambda: formats.tiff_set(formats.tiff_set(valid("tiff-lzw"), 256, 100_000),
                                         257, 100_000), 10**10),
    "tiff-16-bit-8000x8000": ("tiff", lambda: formats.tiff_set(formats.tiff_set(
        valid("tiff-16"), 256, 8000), 257, 8000), 64_000_000),
    "avif-ispe-60000x60000": (
        "avif", lambda: formats.with_ispe(valid("avif"), 60000, 60000), 60000 * 60000),
    "avif-alpha-ispe-60000x60000": (
        "avif", lambda: formats.with_ispe(valid("avif-10-alpha"), 60000, 60000), 60000 * 60000),
    "heic-ispe-60000x60000": (
        "heif", lambda: formats.with_ispe(valid("heic"), 60000, 60000), 60000 * 60000),
    "heic-10-ispe-60000x60000": (
        "heif", lambda: formats.with_ispe(valid("heic-10"), 60000, 60000), 60000 * 60000),
}  # fmt: skip


@pytest.mark.parametrize("name", BOMBS)
def test_bomb_is_refused_before_decoding(name: str) -> None:
    fmt, make, pixels = BOMBS[name]
    need(fmt)
    with pytest.raises(ImageTooLarge) as caught:
        image_insights.analyze(make())
    assert (caught.value.pixels, caught.value.max_pixels) == (pixels, 50_000_000)


def test_webp_canvas_larger_than_its_frame() -> None:
    """A VP8X canvas of 16383 x 16383 around a 64 x 48 frame: refused by its declared size
    or as inconsistent, never decoded into a canvas of that size."""
    need("webp")
    data = vp8x_of_size(valid("webp-lossy-alpha"), 16383, 16383, frame_too=False)
    with pytest.raises((ImageTooLarge, CorruptImage)):
        image_insights.analyze(data)


def test_tiff_bomb_under_a_raised_limit_is_not_decoded_whole() -> None:
    """With a limit above the declared 10 gigapixels the file is read for what it holds: a
    strip of 64 bytes is not that image, so it is corrupt, found without allocating it."""
    _, make, pixels = BOMBS["tiff-100000x100000"]
    need("tiff")
    with pytest.raises(CorruptImage):
        image_insights.analyze(make(), max_pixels=pixels)


# --- thousands of frames ------------------------------------------------------------------------


def gif_frames_on_screen(count: int, width: int, height: int) -> bytes:
    """`count` 1x1 frames on a logical screen of width x height (under the pixel limit):
    a decoder that composited every frame on the screen would do count x width x height
    work."""
    return formats.gif_screen(formats.gif_of_1x1_frames(count), width, height)


MANY_FRAMES: dict[str, tuple[str, Callable[[], bytes], tuple[int, int]]] = {
    "gif-5000-frames": ("gif", lambda: formats.gif_of_1x1_frames(5000), (1, 1)),
    "webp-5000-frames": ("webp", lambda: formats.webp_of_1x1_frames(
        5000, formats.webp_lossless(RGB[:1, :1])), (1, 1)),
    "gif-5000-frames-on-4000x4000": (
        "gif", lambda: gif_frames_on_screen(5000, 4000, 4000), (4000, 4000)),
    "tiff-3000-pages": ("tiff", lambda: formats.tiff([RGB[:2, :2]] * 3000), (2, 2)),
}  # fmt: skip


@pytest.mark.parametrize("name", MANY_FRAMES)
def test_thousands_of_frames(name: str) -> None:
    fmt, make, size = MANY_FRAMES[name]
    need(fmt)
    result = image_insights.analyze(make(), "brightness,median,histogram", "all")
    assert (result["width"], result["height"]) == size
    assert result["frames"]["analyzed"] == "first" and result["frames"]["count"] >= 3000


# --- corrupt chunks -----------------------------------------------------------------------------


def flipped(data: bytes, seed: int, count: int = 8) -> bytes:
    """`data` with `count` bytes in its middle third XORed with random non-zero values."""
    rng = random.Random(seed)
    damaged = bytearray(data)
    for _ in range(count):
        damaged[rng.randrange(len(data) // 3, 2 * len(data) // 3)] ^= rng.randrange(1, 256)
    return bytes(damaged)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("name", VALID)
def test_flipped_bytes_in_the_middle(name: str, seed: int) -> None:
    fmt, _ = VALID[name]
    need(fmt)
    expect_corrupt_or_whole(flipped(valid(name), seed))


def riff_length(data: bytes, kind: bytes, length: int) -> bytes:
    """A WebP whose first `kind` chunk (or the RIFF header, for b"RIFF") declares `length`."""
    at = 4 if kind == b"RIFF" else next(o for o, k, _ in formats.riff_chunks(data) if k == kind) + 4
    return data[:at] + struct.pack("<I", length) + data[at + 4 :]


def box_size(data: bytes, kind: bytes, size: int) -> bytes:
    """An ISOBMFF file whose first `kind` box declares `size`."""
    at = formats.isobmff_boxes(data, kind)[0]
    return data[:at] + struct.pack(">I", size) + data[at + 4 :]


def gif_code_size(data: bytes, size: int) -> bytes:
    """A GIF whose first image's LZW minimum code size is `size` (valid: 2 to 8)."""
    (offset,) = [o for o, kind in formats.gif_blocks(data) if kind == "image"][:1]
    flags = data[offset + 9]
    at = offset + 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    return data[:at] + bytes([size]) + data[at + 1 :]


def tiff_ifd_loop(data: bytes) -> bytes:
    """A TIFF whose first IFD names itself as the next one."""
    (ifd,) = struct.unpack_from("<I", data, 4)
    (count,) = struct.unpack_from("<H", data, ifd)
    at = ifd + 2 + 12 * count
    return data[:at] + struct.pack("<I", ifd) + data[at + 4 :]


def without_strip_offsets(_: int, tags: dict[int, list[int]]) -> None:
    del tags[273]


#: Files that do not decode: each must be CorruptImage.
CORRUPT: dict[str, tuple[str, Callable[[], bytes]]] = {
    "webp-riff-size-past-end": ("webp", lambda: riff_length(valid("webp-lossy"), b"RIFF", 2**31)),
    "webp-vp8-length-past-end": ("webp", lambda: riff_length(valid("webp-lossy"), b"VP8 ", 2**30)),
    "webp-vp8-length-zero": ("webp", lambda: riff_length(valid("webp-lossy"), b"VP8 ", 0)),
    "webp-vp8l-length-past-end": (
        "webp", lambda: riff_length(valid("webp-lossless"), b"VP8L", 2**31 - 2)),
    "webp-vp8l-length-short": ("webp", lambda: riff_length(valid("webp-lossless"), b"VP8L", 20)),
    "webp-vp8x-length-2": ("webp", lambda: riff_length(valid("webp-lossy-alpha"), b"VP8X", 2)),
    "webp-anmf-length-past-end": (
        "webp", lambda: riff_length(valid("webp-animated"), b"ANMF", 2**31)),
    "webp-vp8l-bad-signature": ("webp", lambda: (lambda d, o: d[:o] + b"\x00" + d[o + 1 :])(
        valid("webp-lossless"), 20)),
    "webp-no-image-chunk": ("webp", lambda: formats.riff(formats.riff_chunk(b"XMP ", b"x" * 10))),
    "avif-ftyp-size-past-end": ("avif", lambda: box_size(valid("avif"), b"ftyp", 2**31)),
    "avif-meta-size-too-small": ("avif", lambda: box_size(valid("avif"), b"meta", 9)),
    "avif-iloc-size-huge": ("avif", lambda: box_size(valid("avif"), b"iloc", 2**30)),
    "avif-ispe-0x0": ("avif", lambda: formats.with_ispe(valid("avif"), 0, 0)),
    "heic-meta-size-too-small": ("heif", lambda: box_size(valid("heic"), b"meta", 9)),
    "heic-iloc-size-huge": ("heif", lambda: box_size(valid("heic"), b"iloc", 2**30)),
    "heic-hvcc-size-too-small": ("heif", lambda: box_size(valid("heic"), b"hvcC", 10)),
    "gif-lzw-code-size-12": ("gif", lambda: gif_code_size(valid("gif"), 12)),
    "gif-header-only": ("gif", lambda: valid("gif")[:13]),
    "tiff-strip-past-end": ("tiff", lambda: formats.tiff_set(valid("tiff"), 273, 2**31)),
    "tiff-strip-byte-count-huge": ("tiff", lambda: formats.tiff_set(valid("tiff"), 279, 2**31)),
    "tiff-strip-byte-count-short": ("tiff", lambda: formats.tiff_set(valid("tiff"), 279, 100)),
    "tiff-width-0": ("tiff", lambda: formats.tiff_set(valid("tiff"), 256, 0)),
    "tiff-compression-unknown": ("tiff", lambda: formats.tiff_set(valid("tiff"), 259, 99)),
    "tiff-first-ifd-past-end": ("tiff", lambda: valid("tiff")[:4] + struct.pack("<I", 2**31)
                                + valid("tiff")[8:]),
    "tiff-no-strips": ("tiff", lambda: formats.tiff([RGB], page_tags=without_strip_offsets)),
}  # fmt: skip


@pytest.mark.parametrize("name", CORRUPT)
def test_corrupt_structure(name: str) -> None:
    fmt, make = CORRUPT[name]
    need(fmt)
    expect_corrupt(make())


#: Files a decoder may read or refuse, both within the spec's latitude: a box size of 0 runs
#: to the end of the file, a last box may claim more than is left, an ispe box a decoder does
#: not consult, a GIF screen smaller than its frame, an LZW code size decoders clamp, a
#: photometric interpretation libtiff reads as RGB. Each is the whole image or CorruptImage.
LENIENT: dict[str, tuple[str, Callable[[], bytes]]] = {
    "avif-meta-size-zero": ("avif", lambda: box_size(valid("avif"), b"meta", 0)),
    "avif-mdat-size-past-end": ("avif", lambda: box_size(valid("avif"), b"mdat", 2**31)),
    "heic-mdat-size-past-end": ("heif", lambda: box_size(valid("heic"), b"mdat", 2**31)),
    "heic-ispe-0x0": ("heif", lambda: formats.with_ispe(valid("heic"), 0, 0)),
    "gif-lzw-code-size-0": ("gif", lambda: gif_code_size(valid("gif"), 0)),
    "gif-screen-0x0": ("gif", lambda: formats.gif_screen(valid("gif"), 0, 0)),
    "tiff-photometric-unknown": ("tiff", lambda: formats.tiff_set(valid("tiff"), 262, 77)),
}  # fmt: skip


@pytest.mark.parametrize("name", LENIENT)
def test_lenient_structure(name: str) -> None:
    fmt, make = LENIENT[name]
    need(fmt)
    expect_corrupt_or_whole(make())


def test_tiff_ifd_loop_ends() -> None:
    """The first page names itself as the next: counting pages stops, the first page is
    measured (or the file is refused)."""
    need("tiff")
    data = tiff_ifd_loop(valid("tiff"))
    try:
        result = image_insights.analyze(data)
    except CorruptImage:
        return
    assert (result["width"], result["height"]) == (64, 48)


# --- through gunicorn ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service() -> Iterator[LiveServer]:
    env = {"CACHE_ENABLED": "false", "ENABLE_DETAILED_LOGGING": "false"}
    with running_service(env) as server:
        yield server


def half_of(name: str) -> bytes:
    return valid(name)[: len(valid(name)) // 2]


def flipped_valid(name: str) -> bytes:
    return flipped(valid(name), 1)


def live_cases() -> dict[str, tuple[str, Callable[[], bytes], set[int]]]:
    """name -> (format, file, statuses allowed): a representative subset of the above."""
    cases: dict[str, tuple[str, Callable[[], bytes], set[int]]] = {}
    for name, (fmt, _) in VALID.items():
        whole_first = {200, 400} if name.endswith(("animated", "pages")) else {400}
        cases[f"{name}-half"] = (fmt, partial(half_of, name), whole_first)
        cases[f"{name}-flipped"] = (fmt, partial(flipped_valid, name), {200, 400})
    for name, (fmt, make, _) in BOMBS.items():
        cases[name] = (fmt, make, {413})
    for name, (fmt, make, _) in MANY_FRAMES.items():
        cases[name] = (fmt, make, {200})
    for name, (fmt, make) in CORRUPT.items():
        cases[name] = (fmt, make, {400})
    for name, (fmt, make) in LENIENT.items():
        cases[name] = (fmt, make, {200, 400})
    cases["tiff-ifd-loop"] = ("tiff", lambda: tiff_ifd_loop(valid("tiff")), {200, 400})
    return cases


@pytest.mark.integration
@pytest.mark.parametrize("fmt", list(MEDIA_TYPE))
def test_hostile_files_through_gunicorn(service: LiveServer, fmt: str) -> None:
    """Each file gets its status with a JSON body (the 413's exactly the contract's), /health
    answers after it, and no worker was replaced."""
    need(fmt)
    workers = children(service.process.pid)
    assert len(workers) == 2
    for name, (case_fmt, make, statuses) in live_cases().items():
        if case_fmt != fmt:
            continue
        data = make()
        body, headers = multipart([("image", data, MEDIA_TYPE[fmt])])
        status, response_headers, payload = service.request(
            "POST", UPLOAD + "?metrics=brightness,median,histogram&edge_mode=all", body, headers)
        assert status in statuses, (name, status, payload[:200])
        assert response_headers["content-type"].startswith("application/json"), name
        answer = json.loads(payload)
        if status == 413:
            assert answer == bomb(BOMBS[name][2]), name
        elif status == 400:
            assert answer["detail"]["error"] == "Invalid or corrupted image file", name
        assert service.request("GET", "/health")[0] == 200, name
        assert children(service.process.pid) == workers, f"a worker was replaced after {name}"


def tiff_pages_sharing_strip_arrays(pages: int, strips: int) -> bytes:
    """A 1x1 grey TIFF followed by `pages` directories of 1 x `strips` images, each with
    `strips` strip offsets and byte counts, all pointing at the same two arrays: a page
    costs its decoder megabytes of tag values, and the file about a hundred bytes."""

    def ifd(entries: list[tuple[int, int, int, int]], following: int) -> bytes:
        body = struct.pack("<H", len(entries))
        for tag, kind, count, value in entries:
            body += struct.pack("<HHII", tag, kind, count, value)
        return body + struct.pack("<I", following)

    def tags(height: int, count: int, offsets: int, counts: int) -> list[tuple[int, int, int, int]]:
        return [(256, 4, 1, 1), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1),
                (262, 3, 1, 1), (273, 4, count, offsets), (277, 3, 1, 1), (278, 4, 1, 1),
                (279, 4, count, counts)]  # fmt: skip

    size = 2 + 12 * 9 + 4
    pixel = 8 + size
    offsets, counts = pixel + 4, pixel + 4 + 4 * strips
    first_page = counts + 4 * strips
    out = bytearray(b"II*\x00\x08\x00\x00\x00")
    out += ifd(tags(1, 1, pixel, 1), first_page) + b"\x80\x00\x00\x00"
    out += struct.pack(f"<{strips}I", *[pixel] * strips)
    out += struct.pack(f"<{strips}I", *[1] * strips)
    for index in range(pages):
        following = first_page + (index + 1) * size if index < pages - 1 else 0
        out += ifd(tags(strips, strips, offsets, counts), following)
    return bytes(out)


def test_tiff_pages_are_counted_from_the_directory_chain_alone() -> None:
    """Counting pages never reads their tags (a decoder's walk through these 3,000 pages
    read 2.4 GB of strip arrays: 8 s for a 1.1 MB file); the first page is measured."""
    result = image_insights.analyze(tiff_pages_sharing_strip_arrays(3000, 100_000))
    assert result["frames"] == {"count": 3001, "analyzed": "first"}
    assert (result["width"], result["height"], result["average_luminance"]) == (1, 1, 128.0)


def test_an_avif_picture_larger_than_its_extents_is_held_to_its_own_size() -> None:
    """A 2048 x 2048 AV1 picture behind an `ispe` of 64 x 64: libavif would decode all of
    it (and crop), so its sequence header's size is the one held against the limit."""
    pytest.importorskip("pillow_avif", reason="pillow-avif-plugin encodes the AVIF")
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2048, 2048), (90, 100, 110)).save(out, "AVIF", quality=30, speed=10)
    lying = formats.with_ispe(out.getvalue(), 64, 64)
    with pytest.raises(ImageTooLarge) as caught:
        image_insights.analyze(lying, max_pixels=1_000_000)
    assert caught.value.pixels == 2048 * 2048
    honest = image_insights.analyze(out.getvalue(), max_pixels=5_000_000)
    assert (honest["width"], honest["height"]) == (2048, 2048)


def test_an_heic_picture_larger_than_its_extents_is_refused() -> None:
    pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif encodes the HEIC")
    from PIL import Image

    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (2048, 2048), (90, 100, 110))).save(out, quality=30)
    expect_corrupt(formats.with_ispe(out.getvalue(), 64, 64))
