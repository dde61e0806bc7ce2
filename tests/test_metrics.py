"""GET /metrics: Prometheus counters after known traffic, in process and on a live gunicorn
with two workers (multiprocess mode), and the metrics folder's life cycle."""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import falcon.testing
import pytest
from prometheus_client.parser import text_string_to_metric_families

from image_insights import errors, http_errors
from image_insights.app import create_app
from image_insights.config import Settings
from image_insights.monitoring import FALLBACK_REASONS, METHODS, OTHER, REFUSAL_REASONS, STATUSES
from tests.support import synthetic
from tests.support.http_helpers import encode, gradient, multipart
from tests.support.live_server import LiveServer, running_service
from tests.support.origin import Origin

UPLOAD = "/v1/image/analysis"
URL = "/v1/image/analysis/url"

#: (sample name, sorted label pairs) -> value
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def scrape(server: LiveServer) -> Samples:
    status, headers, body = server.request("GET", "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    return parse(body.decode())


def post_upload(
    conn: http.client.HTTPConnection, data: bytes, content_type: str, query: str = ""
) -> int:
    body, headers = multipart([("image", data, content_type)])
    conn.request("POST", UPLOAD + query, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def distinct_pngs(count: int) -> list[bytes]:
    return [encode(gradient(20 + index, 16), "PNG") for index in range(count)]


# --- in process (no PROMETHEUS_MULTIPROC_DIR) ----------------------------------------------


def test_in_process_scrape_counts_an_upload(
    client: falcon.testing.TestClient, png_bytes: bytes
) -> None:
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    body, headers = multipart([("image", png_bytes, "image/png")])
    assert client.simulate_post(UPLOAD, body=body, headers=headers).status_code == 200
    assert client.simulate_post(UPLOAD, body=body, headers=headers).json["cached"] is True
    result = client.simulate_get("/metrics")
    assert result.status_code == 200
    samples = parse(result.text)
    requests = "image_insights_http_requests_total"
    assert value(samples, requests, endpoint=UPLOAD, method="POST", status="200") == 2
    assert value(samples, "image_insights_cache_lookups_total", result="miss") == 1
    assert value(samples, "image_insights_cache_lookups_total", result="hit") == 1
    received = value(samples, "image_insights_image_bytes_received_total", source="upload")
    assert received == 2 * len(png_bytes)
    for stage in ("decode", "analysis"):
        assert value(samples, "image_insights_stage_duration_seconds_count", stage=stage) == 1


def test_decodes_are_counted_by_decoder_and_reason(settings: Settings) -> None:
    """What the core decodes, and what it leaves to Pillow, by the reason it gives."""
    rgb = synthetic.textured_photo(96, 64, seed=3)
    uploads = {
        "png": (synthetic.png(rgb), "image/png"),
        "jpeg": (synthetic.jpeg(rgb), "image/jpeg"),
        "cmyk": (synthetic.cmyk_jpeg(rgb), "image/jpeg"),
        "arithmetic": (synthetic.cjpeg(rgb, "-arithmetic"), "image/jpeg"),
    }
    client = falcon.testing.TestClient(create_app(settings))
    off = falcon.testing.TestClient(create_app(dataclasses.replace(settings, jpeg_fast_path=False)))
    for data, content_type in uploads.values():
        body, headers = multipart([("image", data, content_type)])
        assert client.simulate_post(UPLOAD, body=body, headers=headers).status_code == 200
    body, headers = multipart([("image", uploads["jpeg"][0], "image/jpeg")])
    assert off.simulate_post(UPLOAD, body=body, headers=headers).status_code == 200

    decodes = "image_insights_decodes_total"
    samples = parse(client.simulate_get("/metrics").text)
    assert value(samples, decodes, decoder="core", reason="none") == 2
    assert value(samples, decodes, decoder="pillow", reason="cmyk") == 1
    assert value(samples, decodes, decoder="pillow", reason="coding") == 1
    assert count_of(samples, decodes) == 4
    assert label_values(samples, decodes, "reason") <= FALLBACK_REASONS | {"none", OTHER}
    samples_off = parse(off.simulate_get("/metrics").text)
    assert value(samples_off, decodes, decoder="pillow", reason="disabled") == 1


def test_unknown_paths_share_one_label(client: falcon.testing.TestClient) -> None:
    for path in ("/nope", "/nope/again", "/x?y=1"):
        assert client.simulate_get(path).status_code == 404
    samples = parse(client.simulate_get("/metrics").text)
    requests = "image_insights_http_requests_total"
    assert value(samples, requests, endpoint="unmatched", method="GET", status="404") == 3
    assert not any("nope" in str(labels) for _, labels in samples)


def count_of(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name` over every series that has these labels, whatever its others."""
    return sum(
        number for (sample, pairs), number in samples.items()
        if sample == name and labels.items() <= dict(pairs).items()
    )  # fmt: skip


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(labels)[label] for sample, labels in samples if sample == name}


# The test client's WSGI validator warns about any method it does not know: that is the point.
@pytest.mark.filterwarnings("ignore:Unknown REQUEST_METHOD")
def test_made_up_methods_share_one_label(client: falcon.testing.TestClient) -> None:
    for index in range(300):
        client.simulate_request(f"BREW{index}", "/health")
        client.simulate_request(f"X-{index}", f"/nope/{index}")
    samples = parse(client.simulate_get("/metrics").text)
    requests = "image_insights_http_requests_total"
    assert label_values(samples, requests, "method") <= METHODS | {OTHER}
    assert label_values(samples, requests, "status") <= STATUSES
    assert count_of(samples, requests, endpoint="/health", method=OTHER) == 300
    assert count_of(samples, requests, endpoint="unmatched", method=OTHER) == 300
    # 300 made-up methods on two paths, then the scrape: at most a handful of series.
    assert len([key for key in samples if key[0] == requests]) <= 4


@pytest.mark.filterwarnings("ignore:Unknown REQUEST_METHOD")
def test_every_label_of_a_response_comes_from_its_fixed_set(
    client: falcon.testing.TestClient, png_bytes: bytes
) -> None:
    body, headers = multipart([("image", png_bytes, "image/png")])
    for method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW", "get"):
        client.simulate_request(method, UPLOAD, body=body, headers=headers)
    samples = parse(client.simulate_get("/metrics").text)
    requests = "image_insights_http_requests_total"
    assert label_values(samples, requests, "method") == {
        "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", OTHER
    }  # fmt: skip
    assert label_values(samples, requests, "status") <= STATUSES


def test_refusals_are_counted_by_their_code(settings: Settings, png_bytes: bytes) -> None:
    """The refusal label is the answer's stable code (errors.py, http_errors.py), from a
    fixed set, whatever the body's text."""
    client = falcon.testing.TestClient(create_app(settings))
    body, headers = multipart([("image", png_bytes, "image/png")])
    client.simulate_post(UPLOAD, body=body, headers=headers, params={"metrics": "nope"})
    client.simulate_post(UPLOAD, body=body, headers=headers, params={"edge_mode": "nope"})
    client.simulate_post(UPLOAD, body=b"", headers={"Content-Type": "text/plain"})
    bad, bad_headers = multipart([("image", b"not an image", "image/png")])
    client.simulate_post(UPLOAD, body=bad, headers=bad_headers)
    client.simulate_post(URL, json={"url": "ftp://x"})
    samples = parse(client.simulate_get("/metrics").text)
    refused = "image_insights_images_refused_total"
    for code in ("invalid_metrics", "invalid_edge_mode", "invalid_request", "corrupt_image",
                 "url_scheme"):  # fmt: skip
        assert value(samples, refused, reason=code) == 1, code
    assert label_values(samples, refused, "reason") <= REFUSAL_REASONS


def test_the_refusal_labels_are_the_codes_of_every_answer() -> None:
    rendered = {klass.code for klass in errors.error_classes() if http_errors.renderer(klass)}
    assert REFUSAL_REASONS == rendered | http_errors.WEB_CODES
    assert OTHER not in REFUSAL_REASONS


# --- live gunicorn, two workers --------------------------------------------------------------


@pytest.fixture(scope="module")
def metrics_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("prometheus")
    # A leftover of an earlier run: the config must clear it, or its counts would be summed.
    (folder / "counter_999999.db").write_bytes(b"\0" * 4096)
    return folder


@pytest.fixture(scope="module")
def metered_server(
    metrics_dir: Path, origin_server: Origin, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "URL_FETCH_ALLOWLIST": f"127.0.0.1:{origin_server.port}",
        "WEB_CONCURRENCY": "2",
    }
    log_path = tmp_path_factory.mktemp("gunicorn-metrics") / "gunicorn.log"
    with running_service(env, log_path) as server:
        yield server


def worker_pids(folder: Path) -> set[str]:
    return {m.group(1) for p in folder.iterdir() if (m := re.match(r"counter_(\d+)\.db$", p.name))}


@pytest.mark.integration
def test_live_counters_move_by_exactly_the_traffic(
    metered_server: LiveServer, metrics_dir: Path, origin_server: Origin
) -> None:
    assert "999999" not in worker_pids(metrics_dir), "stale file was not cleared"
    before = scrape(metered_server)

    # Distinct images over fresh connections, in parallel batches, until both workers have
    # answered (each writes its own file): every one is a cache miss.
    images: list[bytes] = []

    def one_upload(data: bytes) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", metered_server.port, timeout=30)
        try:
            return post_upload(conn, data, "image/png")
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        for batch in range(20):
            batch_images = [encode(gradient(20 + batch, 10 + i), "PNG") for i in range(8)]
            assert list(pool.map(one_upload, batch_images)) == [200] * 8
            images += batch_images
            if len(worker_pids(metrics_dir)) >= 2:
                break
    assert len(worker_pids(metrics_dir)) >= 2, "one worker answered every request"

    # One image three times on one keep-alive connection (so one worker, one cache):
    # one miss, then two hits.
    repeated = encode(gradient(333, 17), "PNG")
    conn = http.client.HTTPConnection("127.0.0.1", metered_server.port, timeout=30)
    try:
        statuses = [post_upload(conn, repeated, "image/png") for _ in range(3)]
        refusals = [
            post_upload(conn, b"\x89PNG\r\n\x1a\n not really", "image/png"),
            post_upload(conn, b"BM", "image/bmp"),
            post_upload(conn, repeated, "image/png", "?metrics=brightness,colour"),
        ]
    finally:
        conn.close()
    assert statuses == [200, 200, 200]
    assert refusals == [400, 415, 400]

    url_body = json.dumps({"url": f"{origin_server.base}/image.png"}).encode()
    status, _, _ = metered_server.request(
        "POST", URL, url_body, {"Content-Type": "application/json"}
    )
    assert status == 200

    after = scrape(metered_server)
    misses = len(images) + 1
    requests = "image_insights_http_requests_total"
    answered = delta(before, after, requests, endpoint=UPLOAD, method="POST", status="200")
    assert answered == misses + 2
    assert delta(before, after, requests, endpoint=UPLOAD, method="POST", status="400") == 2
    assert delta(before, after, requests, endpoint=UPLOAD, method="POST", status="415") == 1
    assert delta(before, after, requests, endpoint=URL, method="POST", status="200") == 1
    # The first scrape is counted by the time of the second.
    assert delta(before, after, requests, endpoint="/metrics", method="GET", status="200") == 1
    latency = "image_insights_http_request_duration_seconds_count"
    assert delta(before, after, latency, endpoint=UPLOAD) == misses + 2 + 3
    assert delta(before, after, latency, endpoint=URL) == 1

    lookups = "image_insights_cache_lookups_total"
    assert delta(before, after, lookups, result="miss") == misses + 1  # + the URL
    assert delta(before, after, lookups, result="hit") == 2

    received = "image_insights_image_bytes_received_total"
    corrupt_size = len(b"\x89PNG\r\n\x1a\n not really")
    uploaded = sum(map(len, images)) + 3 * len(repeated) + corrupt_size
    assert delta(before, after, received, source="upload") == uploaded
    assert delta(before, after, received, source="url") == len(origin_server.png)

    decodes = "image_insights_decodes_total"
    assert delta(before, after, decodes, decoder="core", reason="none") == misses + 1

    stages = "image_insights_stage_duration_seconds_count"
    assert delta(before, after, stages, stage="decode") == misses + 1
    assert delta(before, after, stages, stage="analysis") == misses + 1
    assert delta(before, after, "image_insights_stage_duration_seconds_sum", stage="decode") > 0

    refused = "image_insights_images_refused_total"
    assert delta(before, after, refused, reason="corrupt_image") == 1
    assert delta(before, after, refused, reason="unsupported_type") == 1
    assert delta(before, after, refused, reason="invalid_metrics") == 1
    assert sum(
        after[key] - before.get(key, 0.0) for key in after if key[0] == refused
    ) == 3


@pytest.mark.integration
def test_live_made_up_methods_add_no_series(metered_server: LiveServer) -> None:
    requests = "image_insights_http_requests_total"
    series_before = {key for key in scrape(metered_server) if key[0] == requests}
    conn = http.client.HTTPConnection("127.0.0.1", metered_server.port, timeout=30)
    try:
        for index in range(300):
            conn.request(f"BREW{index}", "/health")
            conn.getresponse().read()
    finally:
        conn.close()
    after = scrape(metered_server)
    new_series = {key for key in after if key[0] == requests} - series_before
    assert {dict(labels)["method"] for _, labels in new_series} <= {OTHER, "GET"}
    assert len(new_series) <= 2  # (/health, other, its status) and perhaps (/metrics, GET, 200)
    assert count_of(after, requests, endpoint="/health", method=OTHER) >= 300


@pytest.mark.integration
def test_metrics_folder_is_made_and_removed_by_the_config(tmp_path: Path) -> None:
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    log_path = tmp_path / "gunicorn.log"
    with running_service({}, log_path) as server:
        assert server.request("GET", "/health")[0] == 200
        assert scrape(server)  # multiprocess exposition answers
        match = re.search(r"metrics_dir=(\S+)", log_path.read_text())
        assert match, log_path.read_text()
        folder = Path(match.group(1))
        assert folder.is_dir()
        assert any(p.suffix == ".db" for p in folder.iterdir())
    assert not folder.exists()
