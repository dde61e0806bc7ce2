"""Every row of the API contract through Falcon's TestClient, bodies compared exactly."""

from __future__ import annotations

import dataclasses
import struct
import threading
import zlib
from typing import Any

import falcon.testing
import pytest

import image_insights
from image_insights import _core, pipeline
from image_insights.analyzer import Analyzer
from image_insights.app import create_app
from image_insights.config import Settings
from image_insights.pipeline import prepare
from tests.support import synthetic
from tests.support.http_helpers import encode, gradient, multipart
from tests.support.origin import running_origin

UPLOAD = "/v1/image/analysis"
BY_URL = "/v1/image/analysis/url"
MAX = 5_242_880
# The contract's three first, in its order; then the additive metrics.
VALID_METRICS = ["brightness", "median", "histogram",
                 "contrast", "sharpness", "entropy", "colorfulness", "colors", "text",
                 "placeholder"]  # fmt: skip
VALID_MODES = ["left_right", "top_bottom", "all"]
# The contract's two first, then the additive formats' (ACCEPTED_FORMATS unset: all of them;
# ACCEPTED_FORMATS=jpeg,png gives the contract's two alone, tests/test_formats.py).
ALLOWED = ["image/jpeg", "image/png", "image/webp", "image/avif", "image/heic", "image/heif",
           "image/gif", "image/tiff"]  # fmt: skip
LABELS = ["0-24", "25-50", "51-75", "76-101", "102-127",
          "128-152", "153-178", "179-203", "204-229", "230-255"]  # fmt: skip


def upload(
    client: falcon.testing.TestClient,
    content: bytes,
    content_type: str | None = "image/png",
    field: str = "image",
    **params: str,
) -> falcon.testing.Result:
    body, headers = multipart([(field, content, content_type)])
    return client.simulate_post(UPLOAD, body=body, headers=headers, params=params)


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with almost no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))  # fmt: skip


# --- service information -------------------------------------------------------------------


def test_root(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/")
    assert result.status_code == 200
    assert result.json == {
        "service": "image-insights-api",
        "version": image_insights.__version__,
        "status": "healthy",
    }


def test_health(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/health")
    assert result.json == {
        "status": "healthy",
        "service": "image-insights-api",
        "version": image_insights.__version__,
    }
    assert result.headers["content-type"].startswith("application/json")


def test_unknown_path_and_method(client: falcon.testing.TestClient) -> None:
    assert client.simulate_get("/nope").json == {"detail": "Not Found"}
    result = client.simulate_get(UPLOAD)
    assert result.status_code == 405
    assert result.json == {"detail": "Method Not Allowed"}


# --- successful analyses ---------------------------------------------------------------------


def test_default_metric_is_brightness(client: falcon.testing.TestClient, png_bytes: bytes) -> None:
    result = upload(client, png_bytes)
    assert result.status_code == 200
    body = result.json
    assert set(body) == {
        "brightness_score", "average_luminance", "width", "height", "algorithm", "cached",
        "processing_time_ms",
    }  # fmt: skip
    expected = image_insights.analyze(png_bytes)
    assert body["brightness_score"] == expected["brightness_score"]
    assert body["average_luminance"] == expected["average_luminance"]
    assert (body["width"], body["height"], body["algorithm"]) == (64, 48, "rec709")
    assert body["cached"] is False
    assert isinstance(body["processing_time_ms"], float)
    assert round(body["processing_time_ms"], 2) == body["processing_time_ms"]


@pytest.mark.parametrize("metrics", ["", ",", " , ,", None])
def test_empty_metrics_mean_brightness(
    client: falcon.testing.TestClient, png_bytes: bytes, metrics: str | None
) -> None:
    params = {} if metrics is None else {"metrics": metrics}
    body = upload(client, png_bytes, **params).json
    assert "brightness_score" in body and "median_luminance" not in body


def test_every_field(client: falcon.testing.TestClient, jpeg_bytes: bytes) -> None:
    body = upload(
        client, jpeg_bytes, "image/jpeg", metrics=" Histogram,,MEDIAN , brightness", edge_mode=" ALL "
    ).json
    expected = image_insights.analyze(jpeg_bytes, "brightness,median,histogram", "all")
    for name, value in expected.items():
        assert body[name] == value, name
    assert body["edge_mode"] == "all"
    assert [bucket["range"] for bucket in body["histogram"]] == LABELS
    assert sum(bucket["percent"] for bucket in body["histogram"]) == pytest.approx(100, abs=0.5)
    assert isinstance(body["edge_brightness_score"], int)
    assert 0 <= body["brightness_score"] <= 100


@pytest.mark.parametrize("mode", VALID_MODES)
def test_edge_modes(client: falcon.testing.TestClient, png_bytes: bytes, mode: str) -> None:
    body = upload(client, png_bytes, edge_mode=mode.upper()).json
    expected = image_insights.analyze(png_bytes, edge_mode=mode)
    assert body["edge_mode"] == mode
    assert body["edge_average_luminance"] == expected["edge_average_luminance"]
    assert body["edge_brightness_score"] == expected["edge_brightness_score"]


def test_original_size_is_reported(client: falcon.testing.TestClient) -> None:
    large = encode(gradient(1100, 300), "PNG")
    body = upload(client, large).json
    assert (body["width"], body["height"]) == (1100, 300)


@pytest.mark.parametrize("declared", ["image/JPEG", "image/jpeg; q=1", " Image/Jpeg "])
def test_declared_type_is_case_insensitive_without_parameters(
    client: falcon.testing.TestClient, jpeg_bytes: bytes, declared: str
) -> None:
    assert upload(client, jpeg_bytes, declared.strip()).status_code == 200


def test_bytes_are_sniffed_whatever_the_declared_type(
    client: falcon.testing.TestClient, jpeg_bytes: bytes
) -> None:
    """A JPEG declared as PNG is still a JPEG."""
    assert upload(client, jpeg_bytes, "image/png").status_code == 200


# --- the cache -------------------------------------------------------------------------------


def test_repeat_is_served_from_cache(client: falcon.testing.TestClient, png_bytes: bytes) -> None:
    first = upload(client, png_bytes, metrics="median,brightness").json
    second = upload(client, png_bytes, metrics="brightness, median").json
    assert (first["cached"], second["cached"]) == (False, True)
    for name in ("brightness_score", "average_luminance", "median_luminance", "width"):
        assert first[name] == second[name]
    # Other options are another entry.
    assert upload(client, png_bytes, metrics="median").json["cached"] is False


def test_cache_can_be_disabled(settings: Settings, png_bytes: bytes) -> None:
    client = falcon.testing.TestClient(
        create_app(dataclasses.replace(settings, cache_enabled=False))
    )
    assert [upload(client, png_bytes).json["cached"] for _ in range(2)] == [False, False]


# --- 422 -------------------------------------------------------------------------------------

MISSING_IMAGE = {"detail": [{"type": "missing", "loc": ["body", "image"], "msg": "Field required"}]}


def test_missing_image_part(client: falcon.testing.TestClient, png_bytes: bytes) -> None:
    result = upload(client, png_bytes, field="file")
    assert result.status_code == 422
    assert result.json == MISSING_IMAGE


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"just text", "text/plain"),
        (b"", None),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
        (b"no boundary", "multipart/form-data"),
    ],
)
def test_body_that_is_not_a_form(
    client: falcon.testing.TestClient, body: bytes, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    result = client.simulate_post(UPLOAD, body=body, headers=headers)
    assert result.status_code == 422
    assert result.json == MISSING_IMAGE


def test_422_wins_over_everything(client: falcon.testing.TestClient) -> None:
    result = upload(client, b"", "image/bmp", field="other", metrics="nope", edge_mode="nope")
    assert result.json == MISSING_IMAGE


# --- 400 metrics / edge_mode -----------------------------------------------------------------


def test_invalid_metrics(client: falcon.testing.TestClient, png_bytes: bytes) -> None:
    result = upload(client, png_bytes, metrics="brightness, Contrast2 ,,sharp")
    assert result.status_code == 400
    assert result.json == {
        "detail": {
            "error": "Invalid metrics requested",
            "invalid_metrics": ["contrast2", "sharp"],
            "valid_metrics": VALID_METRICS,
        }
    }


def test_invalid_edge_mode(client: falcon.testing.TestClient, png_bytes: bytes) -> None:
    result = upload(client, png_bytes, edge_mode=" Diagonal")
    assert result.status_code == 400
    assert result.json == {
        "detail": {
            "error": "Invalid edge_mode requested",
            "received": " Diagonal",
            "valid_modes": VALID_MODES,
        }
    }


def test_metrics_error_wins_over_edge_mode_and_type(client: falcon.testing.TestClient) -> None:
    result = upload(client, b"", "image/bmp", metrics="x", edge_mode="y")
    assert result.json["detail"]["error"] == "Invalid metrics requested"
    result = upload(client, b"", "image/bmp", edge_mode="y")
    assert result.json["detail"]["error"] == "Invalid edge_mode requested"


# --- 415 / 413 / empty / corrupt -------------------------------------------------------------


@pytest.mark.parametrize("declared", ["image/bmp", "text/plain", "application/octet-stream"])
def test_unsupported_type(
    client: falcon.testing.TestClient, png_bytes: bytes, declared: str
) -> None:
    result = upload(client, png_bytes, declared)
    assert result.status_code == 415
    assert result.json == {
        "detail": {
            "error": "Unsupported image type",
            "allowed_types": ALLOWED,
            "received_type": declared,
        }
    }


def test_part_without_content_type_is_text_plain(
    client: falcon.testing.TestClient, png_bytes: bytes
) -> None:
    result = upload(client, png_bytes, None)
    assert result.status_code == 415
    assert result.json["detail"]["received_type"] == "text/plain"


def test_415_wins_over_413(client: falcon.testing.TestClient) -> None:
    assert upload(client, b"x" * (MAX + 1), "image/bmp").status_code == 415


@pytest.mark.parametrize("size", [MAX + 1, MAX + 1000])
def test_oversize_part_read_in_full(client: falcon.testing.TestClient, size: int) -> None:
    result = upload(client, b"\x89PNG" + b"\x00" * (size - 4))
    assert result.status_code == 413
    assert result.json == {
        "detail": {
            "error": "Image exceeds maximum allowed size (5MB)",
            "max_size_bytes": MAX,
            "received_size_bytes": size,
        }
    }


def test_exactly_the_limit_is_not_too_large(client: falcon.testing.TestClient) -> None:
    result = upload(client, b"\x89PNG" + b"\x00" * (MAX - 4))
    assert result.status_code == 400  # read in full, then refused as corrupt, not 413
    assert result.json["detail"]["error"] == "Invalid or corrupted image file"


def test_oversize_body_refused_from_content_length(client: falcon.testing.TestClient) -> None:
    body, headers = multipart([("image", b"\x00" * (MAX + 200_000), "image/png")])
    result = client.simulate_post(UPLOAD, body=body, headers=headers)
    assert result.status_code == 413
    detail = result.json["detail"]
    assert detail["received_size_bytes"] == len(body) > MAX
    assert detail["max_size_bytes"] == MAX


def test_empty_upload(client: falcon.testing.TestClient) -> None:
    result = upload(client, b"")
    assert result.status_code == 400
    assert result.json == {"detail": {"error": "Empty image file"}}


@pytest.mark.parametrize(
    "content",
    [b"not an image", b"GIF89a" + b"\x00" * 40, b"\xff\xd8\xff\xe0" + b"\x00" * 30, b"BM" + b"\x00" * 60],
    ids=["text", "gif", "truncated-jpeg", "bmp"],
)
def test_corrupt_image(client: falcon.testing.TestClient, content: bytes) -> None:
    result = upload(client, content)
    assert result.status_code == 400
    detail = result.json["detail"]
    assert set(detail) == {"error", "details"}
    assert detail["error"] == "Invalid or corrupted image file"
    assert isinstance(detail["details"], str) and detail["details"]
    assert "Traceback" not in detail["details"]


def test_decompression_bomb(client: falcon.testing.TestClient) -> None:
    result = upload(client, png_declaring(30000, 30000))
    assert result.status_code == 413
    assert result.json == {
        "detail": {
            "error": "Image dimensions exceed the maximum allowed pixel count",
            "max_pixels": 50_000_000,
            "received_pixels": 900_000_000,
        }
    }


def test_pixel_limit_comes_from_settings(settings: Settings, png_bytes: bytes) -> None:
    client = falcon.testing.TestClient(
        create_app(dataclasses.replace(settings, max_image_pixels=1000))
    )
    detail = upload(client, png_bytes).json["detail"]
    assert (detail["max_pixels"], detail["received_pixels"]) == (1000, 64 * 48)


# --- 500 / 504 -------------------------------------------------------------------------------


def test_unexpected_error_is_generic(settings: Settings, png_bytes: bytes) -> None:
    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("secret internals /etc/passwd")

    client = falcon.testing.TestClient(
        create_app(settings, analyzer=Analyzer(settings, pipeline=broken))
    )
    result = upload(client, png_bytes)
    assert result.status_code == 500
    request_id = result.headers["x-request-id"]
    assert result.json == {"error": "Internal server error", "details": request_id}
    assert "secret" not in result.text and "Traceback" not in result.text


def test_a_panic_in_the_core_is_a_generic_500(settings: Settings, png_bytes: bytes) -> None:
    """A bug in the core (a Rust panic) ends that request as the contract's 500, and the
    same app goes on answering."""

    def panicking(*args: Any, **kwargs: Any) -> Any:
        return pipeline._run_core(_core._panic, "index out of bounds: secret internals")

    client = falcon.testing.TestClient(
        create_app(settings, analyzer=Analyzer(settings, pipeline=panicking))
    )
    result = upload(client, png_bytes)
    assert result.status_code == 500
    assert result.json == {"error": "Internal server error",
                           "details": result.headers["x-request-id"]}  # fmt: skip
    assert "secret" not in result.text and "panic" not in result.text
    assert client.simulate_get("/health").status_code == 200


def test_processing_timeout(settings: Settings, png_bytes: bytes) -> None:
    """An image left to Pillow whose decode hangs: the request stops waiting at 2 s."""
    release = threading.Event()
    real = prepare(png_bytes)

    class Stuck:
        stats = None
        fallback = "damaged"
        analysis = real.analysis

        def decode_with_pillow(self, timeout: float | None = None) -> Any:
            release.wait(10)
            return real.stats

        def result(self, stats: Any) -> dict[str, Any]:
            return real.result(stats)

    client = falcon.testing.TestClient(
        create_app(settings, analyzer=Analyzer(settings, pipeline=lambda *a, **k: Stuck()))
    )
    try:
        result = upload(client, png_bytes)
    finally:
        release.set()
    assert result.status_code == 504
    assert result.json == {"detail": {"error": "Image processing timed out", "timeout_seconds": 2}}


def test_the_core_stops_at_the_deadline(settings: Settings) -> None:
    """The core's own work checks the time left between rows: no time left, a 504."""
    no_time = dataclasses.replace(settings, processing_timeout_seconds=1e-9)
    client = falcon.testing.TestClient(create_app(no_time))
    big = synthetic.jpeg(synthetic.textured_photo(2000, 1500, seed=1))
    result = upload(client, big, "image/jpeg")
    assert result.status_code == 504
    assert result.json["detail"]["error"] == "Image processing timed out"


# --- headers: request id, CORS ---------------------------------------------------------------


def test_request_id_echoed_when_sane(client: falcon.testing.TestClient) -> None:
    assert client.simulate_get("/health", headers={"X-Request-ID": "abc-123"}).headers[
        "x-request-id"
    ] == "abc-123"


@pytest.mark.parametrize("sent", ["", "has space", "x" * 200, "<script>"])
def test_request_id_generated_otherwise(client: falcon.testing.TestClient, sent: str) -> None:
    generated = client.simulate_get("/health", headers={"X-Request-ID": sent}).headers[
        "x-request-id"
    ]
    assert generated != sent and len(generated) == 32


def test_cors_preflight(client: falcon.testing.TestClient) -> None:
    result = client.simulate_options(
        UPLOAD,
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert result.status_code == 200
    assert result.headers["access-control-allow-origin"] == "https://example.org"
    assert "POST" in result.headers["access-control-allow-methods"]


def test_cors_on_simple_request(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/health", headers={"Origin": "https://a.example"})
    assert result.headers["access-control-allow-origin"] == "https://a.example"


def test_cors_preflight_varies_on_origin(client: falcon.testing.TestClient) -> None:
    result = client.simulate_options(
        BY_URL,
        headers={"Origin": "https://a.example", "Access-Control-Request-Method": "POST"},
    )
    assert result.headers["access-control-allow-origin"] == "https://a.example"
    assert result.headers["vary"] == "Origin"


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/", 200),
        ("GET", "/health", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/nope", 404),
        ("DELETE", "/health", 405),
        ("POST", UPLOAD, 422),
        ("POST", BY_URL, 422),
        ("GET", "/static/ui.css", 200),
    ],
)
def test_every_answer_varies_on_origin(
    client: falcon.testing.TestClient, method: str, path: str, status: int
) -> None:
    """Answers that echo the Origin, errors among them, and those to requests without one
    (which lack the CORS headers) all say that they depend on it."""
    for headers in ({"Origin": "https://a.example"}, {}):
        result = client.simulate_request(method, path, headers=headers)
        assert result.status_code == status
        assert result.headers["vary"] == "Origin", (path, headers)
        echoed = result.headers.get("access-control-allow-origin")
        assert echoed == headers.get("Origin"), (path, headers)


def test_errors_with_an_origin_vary_on_it(settings: Settings, png_bytes: bytes) -> None:
    def broken(*args: object, **kwargs: object) -> dict[str, Any]:
        raise RuntimeError("boom")

    client = falcon.testing.TestClient(
        create_app(settings, analyzer=Analyzer(settings, pipeline=broken))
    )
    body, headers = multipart([("image", png_bytes, "image/png")])
    result = client.simulate_post(UPLOAD, body=body, headers={**headers, "Origin": "https://b.example"})
    assert result.status_code == 500
    assert result.headers["access-control-allow-origin"] == "https://b.example"
    assert result.headers["vary"] == "Origin"


# --- URL endpoint ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        (b"{", [{"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error"}]),
        (b"", [{"type": "missing", "loc": ["body"], "msg": "Field required"}]),
        (b"[1, 2]", [{"type": "model_attributes_type", "loc": ["body"],
                      "msg": "Input should be a valid dictionary or object to extract fields from"}]),
        (b"{}", [{"type": "missing", "loc": ["body", "url"], "msg": "Field required"}]),
        (b'{"url": 5}', [{"type": "string_type", "loc": ["body", "url"],
                          "msg": "Input should be a valid string"}]),
        (b'{"url": "http://x", "metrics": ["a"]}', [{"type": "string_type",
                          "loc": ["body", "metrics"], "msg": "Input should be a valid string"}]),
    ],
    ids=["not-json", "empty", "not-object", "no-url", "url-not-string", "metrics-not-string"],
)  # fmt: skip
def test_url_body_validation(
    client: falcon.testing.TestClient, body: bytes, expected: list[dict[str, Any]]
) -> None:
    result = client.simulate_post(BY_URL, body=body, headers={"Content-Type": "application/json"})
    assert result.status_code == 422
    assert result.json == {"detail": expected}


def test_url_empty(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post(BY_URL, json={"url": "  "})
    assert result.status_code == 400
    assert result.json == {"detail": {"error": "URL cannot be empty"}}


@pytest.mark.parametrize("url", ["ftp://example.com/a.png", "file:///etc/passwd", "example.com/a.png"])
def test_url_scheme(client: falcon.testing.TestClient, url: str) -> None:
    result = client.simulate_post(BY_URL, json={"url": url})
    assert result.status_code == 400
    assert result.json == {
        "detail": {"error": "Invalid URL scheme", "detail": "URL must start with http:// or https://"}
    }


PRIVATE = {
    "detail": {
        "error": "Invalid URL",
        "detail": "URLs pointing to private or local network addresses are not allowed",
    }
}


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/a.png", "http://[::1]/a.png", "http://10.1.2.3/a.png",
     "http://169.254.169.254/latest", "http://0x7f000001/", "http://internal.test/a.png"],
)  # fmt: skip
def test_url_private(settings: Settings, url: str) -> None:
    def resolver(host: str, port: int) -> list[str]:
        return {"internal.test": ["192.168.1.10"]}.get(host, ["203.0.113.5"])

    client = falcon.testing.TestClient(create_app(dataclasses.replace(settings, resolver=resolver)))
    result = client.simulate_post(BY_URL, json={"url": url})
    assert result.status_code == 400
    assert result.json == PRIVATE


def test_url_options_validated_before_the_url(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post(BY_URL, json={"url": "", "metrics": "bogus"})
    assert result.json["detail"]["error"] == "Invalid metrics requested"
    result = client.simulate_post(BY_URL, json={"url": "", "edge_mode": "bogus"})
    assert result.json["detail"]["error"] == "Invalid edge_mode requested"


@pytest.fixture
def origin(png_bytes: bytes, jpeg_bytes: bytes):  # type: ignore[no-untyped-def]
    with running_origin(png_bytes, jpeg_bytes) as server:
        yield server


@pytest.fixture
def url_client(settings: Settings, origin: Any) -> falcon.testing.TestClient:
    allowed = dataclasses.replace(settings, url_fetch_allowlist=frozenset({f"127.0.0.1:{origin.port}"}))
    return falcon.testing.TestClient(create_app(allowed))


def post_url(client: falcon.testing.TestClient, url: str, **extra: str) -> falcon.testing.Result:
    return client.simulate_post(BY_URL, json={"url": url, **extra})


def test_url_analysis(url_client: falcon.testing.TestClient, origin: Any, jpeg_bytes: bytes) -> None:
    body = post_url(url_client, f"{origin.base}/image.jpg", metrics="brightness,median",
                    edge_mode="top_bottom").json  # fmt: skip
    expected = image_insights.analyze(jpeg_bytes, "brightness,median", "top_bottom")
    for name, value in expected.items():
        assert body[name] == value, name
    assert body["cached"] is False
    assert origin.host_headers[-1] == f"127.0.0.1:{origin.port}"


def test_url_cache_skips_the_download(url_client: falcon.testing.TestClient, origin: Any) -> None:
    url = f"{origin.base}/image.png"
    assert [post_url(url_client, url).json["cached"] for _ in range(3)] == [False, True, True]
    assert origin.hits["/image.png"] == 1


def test_uploading_the_text_of_a_cached_url_is_not_a_hit(
    url_client: falcon.testing.TestClient, origin: Any
) -> None:
    """Upload and URL results live in separate key spaces: the bytes of a URL's text, uploaded,
    are analysed as what they are (not an image), never answered with that URL's result."""
    url = f"{origin.base}/image.png"
    assert post_url(url_client, url).json["cached"] is False
    assert post_url(url_client, url).json["cached"] is True
    result = upload(url_client, url.encode())
    assert result.status_code == 400
    assert result.json == {
        "detail": {"error": "Invalid or corrupted image file",
                   "details": "not a JPEG, PNG, WebP, AVIF, HEIF, GIF or TIFF image"}
    }  # fmt: skip


def test_an_uploaded_image_is_not_a_hit_for_its_url(
    url_client: falcon.testing.TestClient, origin: Any, png_bytes: bytes
) -> None:
    assert upload(url_client, png_bytes).json["cached"] is False
    assert post_url(url_client, f"{origin.base}/image.png").json["cached"] is False
    assert upload(url_client, png_bytes).json["cached"] is True


@pytest.mark.parametrize(
    "path", ["/named/café.png", "/named/x.png?q=ü", "/named/日本 語.png?q=a b&r=ü", "/redirect-utf8"]
)
def test_url_with_non_ascii_characters(
    url_client: falcon.testing.TestClient, origin: Any, png_bytes: bytes, path: str
) -> None:
    result = post_url(url_client, origin.base + path, metrics="brightness")
    assert result.status_code == 200, result.text
    assert result.json["average_luminance"] == image_insights.analyze(png_bytes)["average_luminance"]


def test_url_with_an_idn_host(settings: Settings, origin: Any, png_bytes: bytes) -> None:
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    allowed = dataclasses.replace(settings, resolver=resolver,
                                  url_fetch_allowlist=frozenset({f"xn--bcher-kva.test:{origin.port}"}))  # fmt: skip
    client = falcon.testing.TestClient(create_app(allowed))
    result = post_url(client, f"http://Bücher.test:{origin.port}/named/ü.png")
    assert result.status_code == 200, result.text
    assert asked == ["xn--bcher-kva.test"]
    # Errors echo the host in its ASCII form, and nothing after it.
    missing = post_url(client, f"http://Bücher.test:{origin.port}/missing/ü?secret=ü")
    assert missing.json == {"detail": {"error": "Failed to download image from URL", "status_code": 404,
                                       "url": f"http://xn--bcher-kva.test:{origin.port}"}}  # fmt: skip


def test_url_content_type_case_insensitive(url_client: falcon.testing.TestClient, origin: Any) -> None:
    assert post_url(url_client, f"{origin.base}/upper.png").status_code == 200


def test_url_remote_status(url_client: falcon.testing.TestClient, origin: Any) -> None:
    result = post_url(url_client, f"{origin.base}/missing?token=secret")
    assert result.status_code == 400
    assert result.json == {
        "detail": {
            "error": "Failed to download image from URL",
            "status_code": 404,
            "url": f"http://127.0.0.1:{origin.port}",
        }
    }


def test_url_remote_type(url_client: falcon.testing.TestClient, origin: Any) -> None:
    result = post_url(url_client, f"{origin.base}/text")
    assert result.status_code == 415
    assert result.json == {
        "detail": {
            "error": "Unsupported image type from URL",
            "allowed_types": ALLOWED,
            "received_type": "text/html; charset=utf-8",
        }
    }


@pytest.mark.parametrize("path, size", [("/big-declared", 6 * 1024 * 1024), ("/big-streamed", None)])
def test_url_remote_too_large(
    url_client: falcon.testing.TestClient, origin: Any, path: str, size: int | None
) -> None:
    result = post_url(url_client, origin.base + path)
    assert result.status_code == 413
    detail = result.json["detail"]
    assert detail["error"] == "Image from URL exceeds maximum allowed size (5MB)"
    assert detail["max_size_bytes"] == MAX
    assert detail["received_size_bytes"] > MAX
    if size is not None:
        assert detail["received_size_bytes"] == size


def test_url_remote_empty(url_client: falcon.testing.TestClient, origin: Any) -> None:
    result = post_url(url_client, f"{origin.base}/empty")
    assert result.status_code == 400
    assert result.json == {"detail": {"error": "Downloaded image file is empty"}}


def test_url_connection_refused(url_client: falcon.testing.TestClient, origin: Any) -> None:
    origin.stop()
    result = post_url(url_client, f"{origin.base}/image.png")
    assert result.status_code == 400
    assert result.json == {
        "detail": {
            "error": "Failed to download image from URL",
            "detail": "connection refused",
            "url": f"http://127.0.0.1:{origin.port}",
        }
    }


def test_url_redirect_followed_within_allowlist(
    url_client: falcon.testing.TestClient, origin: Any
) -> None:
    result = post_url(url_client, f"{origin.base}/redirect?to=/image.png")
    assert result.status_code == 200


def test_url_redirect_to_unlisted_loopback_refused(
    url_client: falcon.testing.TestClient, origin: Any
) -> None:
    target = f"http://127.0.0.2:{origin.port}/image.png"
    result = post_url(url_client, f"{origin.base}/redirect?to={target}")
    assert result.json == PRIVATE
    assert "/image.png" not in origin.hits


def test_url_redirect_to_other_scheme_refused(
    url_client: falcon.testing.TestClient, origin: Any
) -> None:
    result = post_url(url_client, f"{origin.base}/redirect?to=file:///etc/passwd")
    assert result.status_code == 400
    assert result.json["detail"]["error"] == "Invalid URL scheme"


def test_url_redirect_loop(url_client: falcon.testing.TestClient, origin: Any) -> None:
    result = post_url(url_client, f"{origin.base}/loop")
    assert result.status_code == 400
    assert result.json == {
        "detail": {
            "error": "Failed to download image from URL",
            "detail": "too many redirects (more than 5)",
            "url": f"http://127.0.0.1:{origin.port}",
        }
    }
    assert origin.hits["/loop"] == 6


def test_url_download_timeout(url_client: falcon.testing.TestClient, origin: Any) -> None:
    result = post_url(url_client, f"{origin.base}/slow")
    assert result.status_code == 408
    assert result.json == {
        "detail": {
            "error": "Request timeout while downloading image",
            "url": f"http://127.0.0.1:{origin.port}",
        }
    }


# --- regions, text and placeholder (additive) ----------------------------------------------------


def test_regions_over_an_upload_equal_the_library(
    client: falcon.testing.TestClient, png_bytes: bytes
) -> None:
    spec = "top:30;Caption=0.1,0.6,0.8,0.3"
    result = upload(client, png_bytes, metrics="brightness,text", regions=spec)
    assert result.status_code == 200
    body = result.json
    expected = image_insights.analyze(png_bytes, "brightness,text", regions=spec)
    assert [r["name"] for r in body["regions"]] == ["top", "Caption"]
    assert body["regions"] == expected["regions"] and body["text"] == expected["text"]


def test_regions_and_components_that_are_not_answer_400(
    client: falcon.testing.TestClient, png_bytes: bytes
) -> None:
    forms = ["top", "bottom", "left", "right", "center", "top:25", "x,y,w,h", "name=x,y,w,h"]
    cases = {
        "top;middle": (["middle"], "a rectangle is four decimals x,y,w,h in 0-1"),
        "0.5,0.5,0.6,0.1": (["0.5,0.5,0.6,0.1"],
                            "a rectangle needs w and h above 0, x + w and y + h at most 1"),
        "top:0": (["top:0"], "a strip's size is a percentage above 0 and at most 100"),
        "bad name!=top": (["bad name!=top"], "a name is 1 to 32 letters, digits, '-' or '_'"),
        "top;a=top": (["top", "a=top"], None),
        "top;top:10": (["top", "top:10"], "region names must be unique"),
        ";".join(["top:1"] * 17): (["top:1"], "at most 16 regions"),
    }  # fmt: skip
    for spec, (invalid, reason) in cases.items():
        result = upload(client, png_bytes, regions=spec)
        if reason is None:  # distinct names: valid
            assert result.status_code == 200, (spec, result.json)
            continue
        assert result.status_code == 400, spec
        detail = result.json["detail"]
        assert detail == {"error": "Invalid regions requested", "invalid_regions": invalid,
                          "reason": reason, "valid_forms": forms, "max_regions": 16}, spec
    for components in ("10x3", "4x", "0x1", "four"):
        result = upload(client, png_bytes, metrics="placeholder", placeholder_components=components)
        assert result.status_code == 400
        assert result.json == {"detail": {"error": "Invalid placeholder_components requested",
                                          "received": components, "valid_range": "1x1 to 9x9"}}


def test_regions_as_a_list_in_the_url_body(
    url_client: falcon.testing.TestClient, origin: Any, jpeg_bytes: bytes
) -> None:
    result = url_client.simulate_post(BY_URL, json={
        "url": f"{origin.base}/image.jpg", "metrics": "brightness,placeholder",
        "regions": ["top", "bottom:25"], "placeholder_components": "3x3"})  # fmt: skip
    assert result.status_code == 200, result.json
    expected = image_insights.analyze(
        jpeg_bytes, "brightness,placeholder", regions="top;bottom:25", placeholder_components="3x3"
    )
    assert result.json["regions"] == expected["regions"]
    assert result.json["placeholder"] == expected["placeholder"]
    assert result.json["placeholder"]["blurhash_components"] == [3, 3]
    for regions in (3, [1, "top"], {"top": 1}):
        wrong = url_client.simulate_post(BY_URL, json={"url": f"{origin.base}/image.jpg",
                                                       "regions": regions})  # fmt: skip
        assert wrong.status_code == 422
        assert wrong.json["detail"][0]["loc"] == ["body", "regions"]


def test_the_cache_keeps_results_of_different_regions_apart(png_bytes: bytes) -> None:
    cached = falcon.testing.TestClient(create_app(Settings(cache_enabled=True)))
    first = upload(cached, png_bytes, metrics="brightness", regions="top")
    again = upload(cached, png_bytes, metrics="brightness", regions="top")
    other = upload(cached, png_bytes, metrics="brightness", regions="bottom")
    plain = upload(cached, png_bytes, metrics="brightness")
    assert (first.json["cached"], again.json["cached"]) == (False, True)
    assert other.json["cached"] is False and other.json["regions"][0]["name"] == "bottom"
    assert plain.json["cached"] is False and "regions" not in plain.json
