"""Hostile images and bodies through real gunicorn, a representative subset of
test_hostile_images.py and test_hostile_forms.py: each gets its status with a JSON body, and
the worker that served it is still the same process and still serving.

Everything is generated here; nothing is downloaded or written to disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from tests.support import synthetic
from tests.support.hostile import (
    ABSURD_EXIF,
    BIG_ZLIB,
    BY_URL,
    END,
    FORM,
    JPEG,
    JSON_ABUSE,
    MULTIPART_ABUSE,
    PNG,
    RGB,
    UNDECODABLE_PIXEL_DATA,
    UPLOAD,
    after_ihdr,
    bad_dc_refinement,
    chunk,
    jpeg_with_size,
    part,
    png_with_pixel_data,
    scramble,
    with_app1,
)
from tests.support.http_helpers import multipart
from tests.support.live_server import LiveServer, running_service
from tests.support.procfs import children

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def service() -> Iterator[LiveServer]:
    env = {"CACHE_ENABLED": "false", "ENABLE_DETAILED_LOGGING": "false"}
    with running_service(env) as server:
        yield server


LIVE_CASES: dict[str, tuple[Callable[[], tuple[bytes, dict[str, str]]], int]] = {
    "truncated-jpeg": (lambda: multipart([("image", JPEG[: len(JPEG) // 2], "image/jpeg")]), 400),
    "truncated-png": (lambda: multipart([("image", PNG[:100], "image/png")]), 400),
    "scrambled-jpeg": (lambda: multipart([("image", scramble(JPEG, 3, 200), "image/jpeg")]), -1),
    "bmp-as-png": (lambda: multipart([("image", synthetic.bmp(RGB), "image/png")]), 400),
    "gif-as-png": (lambda: multipart([("image", synthetic.gif(RGB), "image/png")]), 200),
    "zero-bytes": (lambda: multipart([("image", b"", "image/png")]), 400),
    "png-bomb": (lambda: multipart([("image", synthetic.png_header_only(30000, 30000), "image/png")]), 413),
    "jpeg-bomb": (lambda: multipart([("image", jpeg_with_size(JPEG, 65000, 65000), "image/jpeg")]), 413),
    "ztxt-bomb": (lambda: multipart([("image", after_ihdr(PNG, chunk(b"zTXt", b"c\x00\x00" + BIG_ZLIB)), "image/png")]), 200),
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
