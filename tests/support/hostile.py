"""Hostile inputs for the upload and URL endpoints, shared by test_hostile_images.py,
test_hostile_forms.py and test_hostile_over_gunicorn.py: the contract's error bodies, a small
generated photo as JPEG and PNG, surgery on their bytes (chunks, declared sizes, EXIF segments,
scrambled scans, undecodable pixel data, a bad DC refinement), bodies that are not JPEG or PNG,
abusive multipart forms and JSON bodies, and the upload through Falcon's TestClient with the
checks of its answer.

Everything is generated here; nothing is downloaded or written to disk.
"""

from __future__ import annotations

import io
import json
import random
import struct
import zlib
from collections.abc import Callable
from typing import Any

import falcon.testing
from PIL import Image

from tests.support import synthetic
from tests.support.http_helpers import multipart

UPLOAD = "/v1/image/analysis"
BY_URL = "/v1/image/analysis/url"
CORRUPT = "Invalid or corrupted image file"
#: Bytes of no accepted format, with every format accepted (ACCEPTED_FORMATS unset); with
#: ACCEPTED_FORMATS=jpeg,png the reason is "not a JPEG or PNG image" (tests/test_formats.py).
NOT_AN_IMAGE = {"detail": {"error": CORRUPT,
                           "details": "not a JPEG, PNG, WebP, AVIF, HEIF, GIF or TIFF image"}}
EMPTY = {"detail": {"error": "Empty image file"}}
MISSING_IMAGE = {"detail": [{"type": "missing", "loc": ["body", "image"], "msg": "Field required"}]}
BOMB = "Image dimensions exceed the maximum allowed pixel count"
ALL_METRICS = "brightness,median,histogram"
EDGE_MODES = ("left_right", "top_bottom", "all")


def bomb(pixels: int) -> dict[str, Any]:
    return {"detail": {"error": BOMB, "max_pixels": 50_000_000, "received_pixels": pixels}}


# --- inputs: images and surgery on their bytes -----------------------------------------------

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


def saved(fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(RGB).save(buffer, fmt, **options)
    return buffer.getvalue()


#: Formats no setting accepts.
OTHER_FORMATS: dict[str, Callable[[], bytes]] = {
    "bmp": lambda: synthetic.bmp(RGB),
    "svg": lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48">'
    b'<rect width="64" height="48" fill="#888"/></svg>',
}
#: Formats accepted besides the contract's JPEG and PNG (refused with ACCEPTED_FORMATS=jpeg,png).
ADDITIVE_FORMATS: dict[str, Callable[[], bytes]] = {
    "gif": lambda: synthetic.gif(RGB),
    "webp": lambda: saved("WEBP", lossless=True),
    "tiff": lambda: saved("TIFF"),
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


def scramble(data: bytes, seed: int, count: int) -> bytes:
    """`data` with `count` bytes of its entropy-coded scan replaced by random ones."""
    rng = random.Random(seed)
    start = data.find(b"\xff\xda") + 20
    damaged = bytearray(data)
    for _ in range(count):
        damaged[rng.randrange(start, len(data) - 2)] = rng.randrange(256)
    return bytes(damaged)


def png_with_pixel_data(
    width: int, height: int, idat: bytes, exif_after: bool, interlace: int = 0
) -> bytes:
    """An 8-bit RGB PNG with this IDAT payload, every CRC valid; with `exif_after`, an eXIf
    chunk (orientation 6) after the pixel data, where Pillow reads it only by decoding them."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, interlace)
    orientation_6 = tiff_ifd([(0x0112, 3, 1, struct.pack(">HH", 6, 0))])
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


BIG_ZLIB = zlib.compress(b"\x00" * (64 * 1024 * 1024), 9)


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


def tiff_ifd(entries: list[tuple[int, int, int, bytes]], big_endian: bool = True) -> bytes:
    """A TIFF header and one IFD of (tag, type, count, 4-byte value) entries."""
    order = ">" if big_endian else "<"
    head = (b"MM" if big_endian else b"II") + struct.pack(order + "HI", 42, 8)
    body = struct.pack(order + "H", len(entries))
    for tag, kind, count, value in entries:
        body += struct.pack(order + "HHI", tag, kind, count) + value
    return head + body + struct.pack(order + "I", 0)


ABSURD_EXIF = {
    "orientation-65535": tiff_ifd([(0x0112, 3, 1, struct.pack(">HH", 65535, 0))]),
    "orientation-0": tiff_ifd([(0x0112, 3, 1, struct.pack(">HH", 0, 0))]),
    "orientation-as-long": tiff_ifd([(0x0112, 4, 1, struct.pack(">I", 2**31))]),
    "orientation-count-1e9": tiff_ifd([(0x0112, 3, 10**9, struct.pack(">I", 16))]),
    "offset-past-end": b"MM\x00\x2a\xff\xff\xff\xf0",
    "entry-count-65535": b"MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\x00" * 100,
    "ifd-loop": tiff_ifd([(0x8769, 4, 1, struct.pack(">I", 8))]),
    "garbage": bytes(range(256)) * 4,
    "empty": b"",
    "64k-string": tiff_ifd([(0x010E, 2, 60_000, struct.pack(">I", 26))]) + b"A" * 60_000,
}


# --- multipart bodies ------------------------------------------------------------------------


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


# --- JSON bodies for the URL endpoint --------------------------------------------------------


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


# --- uploads through the TestClient ----------------------------------------------------------


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
