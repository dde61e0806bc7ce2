"""The URL download's one deadline and its bounds, against a local origin on 127.0.0.1 whose
hostile routes never finish an answer (tests/support/origin.py `/dribble/...`), with an injected
resolver where names are needed. Nothing leaves the machine.

Each hostile route would hold a download for as long as it likes if timeouts applied to each
socket read; the 408 proves the one deadline ended it (the origin keeps going far longer).
No assertion is on timing."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from image_insights.config import Settings
from image_insights.errors import DownloadError
from image_insights.fetch import Fetcher
from image_insights.http_errors import ApiError, render
from tests.support.http_helpers import encode, gradient, multipart
from tests.support.live_server import LiveServer
from tests.support.origin import Origin


def answer(error: DownloadError) -> ApiError:
    """The contract's answer to a download's failure."""
    rendered = render(error)
    assert rendered is not None, error
    return rendered

HOSTILE = ["status", "headers", "continue", "continue-fast", "chunk-size", "trailer",
           "trailers-fast", "silent"]  # fmt: skip


def fetcher_for(origin: Origin, **changes: object) -> Fetcher:
    settings = dataclasses.replace(
        Settings(), url_fetch_allowlist=frozenset({f"127.0.0.1:{origin.port}"}), **changes  # type: ignore[arg-type]
    )
    return Fetcher(settings)


def failure(fetch: Callable[[], bytes]) -> ApiError:
    with pytest.raises(DownloadError) as caught:
        fetch()
    return answer(caught.value)


def timeout_body(origin: Origin) -> dict[str, object]:
    return {"detail": {"error": "Request timeout while downloading image", "url": origin.base}}


@pytest.mark.parametrize("how", HOSTILE)
def test_one_deadline_covers_the_whole_answer(origin_server: Origin, how: str) -> None:
    error = failure(lambda: fetcher_for(origin_server).fetch(f"{origin_server.base}/dribble/{how}"))
    assert (error.status, error.body) == (408, timeout_body(origin_server))


def test_the_deadline_spans_every_redirect_hop(origin_server: Origin) -> None:
    url = f"{origin_server.base}/redirect?to=/redirect?to=/dribble/headers"
    error = failure(lambda: fetcher_for(origin_server).fetch(url))
    assert (error.status, error.body) == (408, timeout_body(origin_server))


def test_a_normal_answer_still_arrives(origin_server: Origin) -> None:
    assert fetcher_for(origin_server).fetch(f"{origin_server.base}/image.png") == origin_server.png


# --- concurrent downloads -------------------------------------------------------------------


def test_downloads_beyond_the_bound_are_answered_at_once(origin_server: Origin) -> None:
    fetcher = fetcher_for(origin_server, max_concurrent_downloads=2)
    slow = f"{origin_server.base}/dribble/headers"
    before = origin_server.hits.get("/dribble/headers", 0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        holding = [pool.submit(lambda: failure(lambda: fetcher.fetch(slow))) for _ in range(2)]
        # Wait until both have reached the origin, so both slots are taken.
        while origin_server.hits.get("/dribble/headers", 0) < before + 2:
            threading.Event().wait(0.02)
        busy = failure(lambda: fetcher.fetch(f"{origin_server.base}/image.png"))
        assert (busy.status, busy.body) == (400, {"detail": {
            "error": "Failed to download image from URL",
            "detail": "too many downloads in progress", "url": origin_server.base}})  # fmt: skip
        assert [f.result().status for f in holding] == [408, 408]
    # The slots are free again.
    assert fetcher.fetch(f"{origin_server.base}/image.png") == origin_server.png


# --- name lookups -----------------------------------------------------------------------------


@pytest.fixture
def hanging() -> Iterator[threading.Event]:
    """Released at the end of the test, so that the lookups hanging on it end too."""
    release = threading.Event()
    yield release
    release.set()


def test_hanging_lookups_do_not_keep_an_instant_one_waiting(
    origin_server: Origin, hanging: threading.Event
) -> None:
    started = threading.Semaphore(0)

    def resolver(host: str, port: int) -> list[str]:
        if host.startswith("hang"):
            started.release()
            hanging.wait(60)
            raise OSError("gave up")
        return ["127.0.0.1"]

    port = origin_server.port
    fetcher = Fetcher(dataclasses.replace(
        Settings(), resolver=resolver, url_fetch_allowlist=frozenset({f"instant.test:{port}"})))  # fmt: skip
    with ThreadPoolExecutor(max_workers=8) as pool:
        hung = [pool.submit(lambda i=i: failure(lambda: fetcher.fetch(f"http://hang{i}.test/a.png")))
                for i in range(8)]  # fmt: skip
        for _ in range(8):
            assert started.acquire(timeout=30)
        # Eight lookups hang (more than a pool of four threads would hold): an instant one answers.
        assert fetcher.fetch(f"http://instant.test:{port}/image.png") == origin_server.png
        errors = [f.result() for f in hung]
    # Each hanging lookup ended its own request at the deadline: 408, not a wait without end.
    assert {(e.status, e.body["detail"]["error"]) for e in errors} == {
        (408, "Request timeout while downloading image")}  # fmt: skip


def test_lookups_beyond_the_bound_are_refused_at_once(hanging: threading.Event) -> None:
    started = threading.Semaphore(0)

    def resolver(host: str, port: int) -> list[str]:
        started.release()
        hanging.wait(60)
        raise OSError("gave up")

    fetcher = Fetcher(dataclasses.replace(Settings(), resolver=resolver, max_concurrent_lookups=3))
    with ThreadPoolExecutor(max_workers=3) as pool:
        hung = [pool.submit(lambda i=i: failure(lambda: fetcher.fetch(f"http://hang{i}.test/")))
                for i in range(3)]  # fmt: skip
        for _ in range(3):
            assert started.acquire(timeout=30)
        # The three requests time out (408) while their lookups still hang and hold the slots.
        assert {f.result().status for f in hung} == {408}
    busy = failure(lambda: fetcher.fetch("http://another.test/a.png"))
    assert (busy.status, busy.body) == (400, {"detail": {
        "error": "Failed to download image from URL",
        "detail": "too many name lookups in progress", "url": "http://another.test"}})  # fmt: skip
    hanging.set()
    # The lookups end; their slots are free again (the resolver raises, as a failed lookup).
    for _ in range(100):
        error = failure(lambda: fetcher.fetch("http://another.test/a.png"))
        if error.body["detail"].get("detail") != "too many name lookups in progress":
            break
        threading.Event().wait(0.05)
    assert error.body["detail"]["detail"] == "could not resolve the host"


# --- real gunicorn: slow origins leave threads for everyone else ------------------------------


@pytest.fixture
def fetching_service(uncached_service: LiveServer) -> LiveServer:
    return uncached_service


@pytest.mark.integration
def test_slow_origins_cannot_take_the_threads_of_uploads_and_health(
    fetching_service: LiveServer, origin_server: Origin
) -> None:
    """200 downloads from origins that never finish their headers, all at once (far more
    than the workers' threads): each ends with 408 at its deadline or is answered at once
    with 400 when its worker's downloads are all taken; meanwhile /health and uploads are
    answered. Client timeouts are generous: the assertions are on answers only."""
    server = fetching_service
    slow_body = json.dumps({"url": f"{origin_server.base}/dribble/headers"}).encode()
    image = encode(gradient(64, 48), "PNG")
    upload_body, upload_headers = multipart([("image", image, "image/png")])

    def slow_fetch(_: int) -> int:
        return server.request("POST", "/v1/image/analysis/url", slow_body,
                              {"Content-Type": "application/json"}, timeout=120)[0]  # fmt: skip

    with ThreadPoolExecutor(max_workers=200) as pool:
        fetches = [pool.submit(slow_fetch, i) for i in range(200)]
        threading.Event().wait(0.5)  # let them take what they can
        health = [server.request("GET", "/health", timeout=60)[0] for _ in range(10)]
        uploads = [server.request("POST", "/v1/image/analysis", upload_body, upload_headers,
                                  timeout=60)[0] for _ in range(5)]  # fmt: skip
        statuses = [f.result() for f in fetches]
    assert health == [200] * 10
    assert uploads == [200] * 5
    assert set(statuses) <= {408, 400}, statuses
    # 2 workers x 16 downloads at most at once: most of the 200 are refused as busy.
    assert statuses.count(408) >= 1 and statuses.count(400) >= 1
