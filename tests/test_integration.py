"""The real service under gunicorn, over real sockets on loopback."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import image_insights
from tests.support.http_helpers import encode, gradient, multipart
from tests.support.live_server import LiveServer
from tests.support.origin import Origin

pytestmark = pytest.mark.integration

UPLOAD = "/v1/image/analysis?metrics=brightness,median,histogram&edge_mode=all"


def post_image(server: LiveServer, data: bytes, content_type: str, path: str = UPLOAD) -> tuple[int, dict[str, Any]]:
    body, headers = multipart([("image", data, content_type)])
    status, _, payload = server.request("POST", path, body, headers)
    return status, json.loads(payload)


def post_url(server: LiveServer, url: str) -> tuple[int, dict[str, Any], float]:
    body = json.dumps({"url": url, "metrics": "brightness,median", "edge_mode": "left_right"})
    started = time.monotonic()
    status, _, payload = server.request(
        "POST", "/v1/image/analysis/url", body.encode(), {"Content-Type": "application/json"}
    )
    return status, json.loads(payload), time.monotonic() - started


IMAGES = {
    "jpeg": (lambda: encode(gradient(800, 500), "JPEG", quality=85), "image/jpeg"),
    "progressive-jpeg": (lambda: encode(gradient(1200, 700), "JPEG", progressive=True), "image/jpeg"),
    "png": (lambda: encode(gradient(300, 200), "PNG"), "image/png"),
    "greyscale-png": (lambda: encode(gradient(300, 200, "L"), "PNG"), "image/png"),
    "greyscale-jpeg": (lambda: encode(gradient(300, 200, "L"), "JPEG"), "image/jpeg"),
    "rgba-png": (lambda: encode(gradient(300, 200, "RGBA"), "PNG"), "image/png"),
    "palette-png": (lambda: encode(gradient(300, 200).quantize(64), "PNG"), "image/png"),
}  # fmt: skip


@pytest.mark.parametrize("kind", IMAGES)
def test_upload(live_server: LiveServer, kind: str) -> None:
    make, content_type = IMAGES[kind]
    data = make()
    status, body = post_image(live_server, data, content_type)
    assert status == 200, body
    expected = image_insights.analyze(data, "brightness,median,histogram", "all")
    for name, value in expected.items():
        assert body[name] == value, name


def test_repeat_is_cached(live_server: LiveServer) -> None:
    data = encode(gradient(123, 77), "PNG")
    # Each worker has its own cache: repeat until the same worker answers twice.
    answers = [post_image(live_server, data, "image/png")[1]["cached"] for _ in range(8)]
    assert answers.count(False) <= 2 and True in answers


def test_url_endpoint(live_server: LiveServer, origin_server: Origin) -> None:
    status, body, _ = post_url(live_server, f"{origin_server.base}/image.jpg")
    assert status == 200, body
    expected = image_insights.analyze(origin_server.jpeg, "brightness,median", "left_right")
    for name, value in expected.items():
        assert body[name] == value, name


def test_url_redirect_to_unlisted_loopback_is_refused(
    live_server: LiveServer, origin_server: Origin
) -> None:
    before = origin_server.hits.get("/image.png", 0)
    target = f"http://127.0.0.2:{origin_server.port}/image.png"
    status, body, _ = post_url(live_server, f"{origin_server.base}/redirect?to={target}")
    assert status == 400
    assert body["detail"]["error"] == "Invalid URL"
    assert origin_server.hits.get("/image.png", 0) == before


def test_url_slow_origin_times_out(live_server: LiveServer, origin_server: Origin) -> None:
    status, body, elapsed = post_url(live_server, f"{origin_server.base}/slow")
    assert status == 408
    assert body["detail"]["error"] == "Request timeout while downloading image"
    # The origin would take 10 s; the deadline is 2 s. A loose bound proves it is enforced.
    assert elapsed < 5


@pytest.mark.parametrize(
    "path, status, error",
    [
        ("/big-declared", 413, "Image from URL exceeds maximum allowed size (5MB)"),
        ("/big-streamed", 413, "Image from URL exceeds maximum allowed size (5MB)"),
        ("/text", 415, "Unsupported image type from URL"),
    ],
)
def test_url_bad_origins(
    live_server: LiveServer, origin_server: Origin, path: str, status: int, error: str
) -> None:
    got, body, _ = post_url(live_server, origin_server.base + path)
    assert (got, body["detail"]["error"]) == (status, error)


def test_64_concurrent_requests(live_server: LiveServer) -> None:
    images = [encode(gradient(200 + i, 150), "JPEG") for i in range(64)]

    def one(data: bytes) -> tuple[int, dict[str, Any], bytes]:
        status, body = post_image(live_server, data, "image/jpeg")
        return status, body, data

    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(one, images))
    assert [status for status, _, _ in results] == [200] * 64
    for _, body, data in results:
        assert body["average_luminance"] == image_insights.analyze(data)["average_luminance"]
    assert live_server.request("GET", "/health")[0] == 200


def test_oversize_upload_refused_over_the_wire(live_server: LiveServer) -> None:
    data = b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024)
    status, body = post_image(live_server, data, "image/jpeg")
    assert status == 413
    assert body["detail"]["received_size_bytes"] > 5_242_880


def test_access_log_has_no_url_path_or_query(live_server: LiveServer, origin_server: Origin) -> None:
    post_url(live_server, f"{origin_server.base}/image.png?token=hunter2")
    time.sleep(0.2)
    log = live_server.log_path.read_text()  # type: ignore[attr-defined]
    assert "POST /v1/image/analysis/url 200" in log
    assert "hunter2" not in log and "/image.png" not in log


def test_docs_pages_and_assets(live_server: LiveServer) -> None:
    for path, marker in [("/docs", b"swagger-ui-bundle.js"), ("/redoc", b"redoc.standalone.js")]:
        status, headers, page = live_server.request("GET", path)
        assert status == 200 and headers["content-type"].startswith("text/html")
        assert marker in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        status, _, content = live_server.request("GET", f"/static/vendor/{asset}")
        assert status == 200 and len(content) > 10_000, asset


def test_malformed_setting_stops_start_naming_the_variable() -> None:
    import os
    import subprocess

    from tests.support.live_server import GUNICORN, ROOT, free_port

    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(free_port()), "CACHE_MAX_SIZE": "lots"}
    done = subprocess.run(
        [str(GUNICORN), "--config", "gunicorn.conf.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "CACHE_MAX_SIZE" in done.stderr
    assert "Traceback" not in done.stderr
