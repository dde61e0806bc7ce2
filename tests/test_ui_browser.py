"""GET /ui end to end: Debian's Chromium, driven by Playwright, against the real service under
gunicorn. No downloaded browser, no network beyond loopback."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import image_insights
from tests.support.http_helpers import encode, gradient, multipart
from tests.support.live_server import LiveServer, running_service
from tests.support.origin import Origin

pytestmark = pytest.mark.integration

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 375, "height": 900}
ALL_METRICS = "brightness,median,histogram"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def service(origin_server: Origin, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    log_path = tmp_path_factory.mktemp("gunicorn-ui") / "gunicorn.log"
    env = {"URL_FETCH_ALLOWLIST": f"127.0.0.1:{origin_server.port}"}
    with running_service(env, log_path) as server:
        yield server


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    assert CHROMIUM.exists(), "install Debian's Chromium: scripts/apt-install.sh chromium chromium-driver"
    profile = tmp_path_factory.mktemp("chromium-profile")
    # Never look for, or fetch, a browser of Playwright's own.
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with playwright_sync.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=PHONE,
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: Any, service: LiveServer) -> Iterator[Any]:
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{service.base}/ui")
    yield page
    page.close()
    outside = [url for url in requested if not url.startswith((service.base, "blob:", "data:"))]
    assert outside == [], "the page must be self-contained"


def api_upload(service: LiveServer, data: bytes, content_type: str, query: str) -> tuple[int, Any]:
    body, headers = multipart([("image", data, content_type)])
    status, _, payload = service.request("POST", f"/v1/image/analysis?{query}", body, headers)
    return status, json.loads(payload)


def field(page: Any, name: str) -> str:
    return str(page.locator(f'#result [data-field="{name}"]').first.inner_text()).strip()


def shown_histogram(page: Any) -> dict[str, float]:
    percents = page.locator("#histogram .percent")
    return {
        percents.nth(i).get_attribute("data-range"): float(percents.nth(i).inner_text().rstrip("%"))
        for i in range(percents.count())
    }


def assert_page_shows(page: Any, api: dict[str, Any]) -> None:
    assert int(field(page, "brightness_score")) == api["brightness_score"]
    assert page.locator("#gauge").get_attribute("aria-valuenow") == str(api["brightness_score"])
    assert float(field(page, "average_luminance")) == api["average_luminance"]
    assert float(field(page, "median_luminance")) == api["median_luminance"]
    assert shown_histogram(page) == {b["range"]: b["percent"] for b in api["histogram"]}
    assert int(field(page, "edge_brightness_score")) == api["edge_brightness_score"]
    assert float(field(page, "edge_average_luminance")) == api["edge_average_luminance"]
    assert field(page, "edge_mode") == api["edge_mode"]
    assert (int(field(page, "width")), int(field(page, "height"))) == (api["width"], api["height"])
    assert float(field(page, "processing_time_ms")) >= 0


def test_upload_shows_the_numbers_the_api_returns(
    page: Any, service: LiveServer, tmp_path: Path
) -> None:
    data = encode(gradient(640, 400), "JPEG", quality=88)
    image_path = tmp_path / "gradient.jpg"
    image_path.write_bytes(data)

    page.set_input_files("#file-input", str(image_path))
    page.locator("#result").wait_for(state="visible")
    assert field(page, "cached") == "freshly computed"

    status, api = api_upload(service, data, "image/jpeg", f"metrics={ALL_METRICS}&edge_mode=all")
    assert status == 200
    assert {k: api[k] for k in image_insights.analyze(data)} == image_insights.analyze(data)
    assert_page_shows(page, api)
    assert page.locator("#error").is_hidden()

    # Readable at phone width: nothing wider than the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    output = tmp_path / "output"
    output.mkdir()
    page.screenshot(path=str(output / "ui-result.png"), full_page=True)
    assert (output / "ui-result.png").stat().st_size > 10_000


def test_corrupt_file_shows_the_api_error(page: Any, service: LiveServer, tmp_path: Path) -> None:
    broken = b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20
    (tmp_path / "broken.png").write_bytes(broken)
    status, api = api_upload(service, broken, "image/png", f"metrics={ALL_METRICS}&edge_mode=all")
    assert status == 400

    page.set_input_files("#file-input", str(tmp_path / "broken.png"))
    error = page.locator("#error")
    error.wait_for(state="visible")
    text = error.inner_text()
    assert text.startswith("Invalid or corrupted image file")
    assert api["detail"]["error"] in text and api["detail"]["details"] in text
    assert page.locator("#result").is_hidden()
    output = tmp_path / "output"
    output.mkdir()
    page.screenshot(path=str(output / "ui-error.png"), full_page=True)


def test_unsupported_type_names_what_was_sent(page: Any, tmp_path: Path) -> None:
    (tmp_path / "anim.gif").write_bytes(b"GIF89a" + b"\0" * 30)
    page.set_input_files("#file-input", str(tmp_path / "anim.gif"))
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert error.inner_text() == (
        "Unsupported image type: received image/gif; allowed: image/jpeg, image/png."
    )


def test_url_by_keyboard_only(page: Any, service: LiveServer, origin_server: Origin) -> None:
    # Tab from the top of the page to the URL field, type, press Enter.
    url_input = page.locator("#url-input")
    for _ in range(10):
        page.keyboard.press("Tab")
        if url_input.evaluate("node => node === document.activeElement"):
            break
    else:
        pytest.fail("the URL field cannot be reached with Tab")
    page.keyboard.type(f"{origin_server.base}/image.png")
    page.keyboard.press("Enter")
    page.locator("#result").wait_for(state="visible")
    expected = image_insights.analyze(origin_server.png, ALL_METRICS, "all")
    assert int(field(page, "brightness_score")) == expected["brightness_score"]
    assert float(field(page, "average_luminance")) == expected["average_luminance"]
    assert float(field(page, "median_luminance")) == expected["median_luminance"]
    assert shown_histogram(page) == {b["range"]: b["percent"] for b in expected["histogram"]}


def test_api_key_is_asked_once_and_sent(page: Any, tmp_path: Path) -> None:
    """As behind the Cloudflare Worker with a key set: 401 until X-API-Key is right."""
    seen: list[str | None] = []
    unauthorized = {
        "error": "Unauthorized",
        "message": "Missing or invalid API key. Please provide X-API-Key header.",
    }

    def guard(route: Any, request: Any) -> None:
        key = request.headers.get("x-api-key")
        seen.append(key)
        if key == "s3cret":
            route.continue_()
        else:
            route.fulfill(status=401, content_type="application/json", body=json.dumps(unauthorized))

    page.route("**/v1/image/analysis?*", guard)
    image_path = tmp_path / "small.png"
    image_path.write_bytes(encode(gradient(40, 30), "PNG"))

    page.set_input_files("#file-input", str(image_path))
    key_form = page.locator("#key-form")
    key_form.wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "key-input"
    page.keyboard.type("wrong")
    page.keyboard.press("Enter")
    page.locator("#key-message", has_text="refused").wait_for()
    page.keyboard.type("s3cret")
    page.keyboard.press("Enter")
    page.locator("#result").wait_for(state="visible")
    assert seen == [None, "wrong", "s3cret"]
    assert page.evaluate("sessionStorage.getItem('image-insights-api-key')") == "s3cret"

    # A second image: no question, the stored key goes along.
    image_path.write_bytes(encode(gradient(41, 30), "PNG"))
    with page.expect_response("**/v1/image/analysis?*") as answer:
        page.set_input_files("#file-input", str(image_path))
    assert answer.value.status == 200
    page.locator("#status", has_text="Analysed").wait_for()
    assert seen == [None, "wrong", "s3cret", "s3cret"]
    assert field(page, "width") == "41"
    assert key_form.is_hidden()


def test_edge_colours_and_later_metrics_are_shown(page: Any, tmp_path: Path) -> None:
    """Fields a newer API adds: edge colours as swatches, other colours, other numbers."""
    answer = {
        "brightness_score": 40, "average_luminance": 101.5, "edge_brightness_score": 12,
        "edge_average_luminance": 30.25, "edge_mode": "left_right",
        "edge_colors": {"left": "#112233", "right": "#ddeeff"},
        "sharpness": 12.5, "colorfulness": None, "average_color": "#808080",
        "dominant_colors": [{"color": "#ff0000", "percent": 41.2}],
        "width": 10, "height": 8, "algorithm": "rec709", "cached": True, "processing_time_ms": 0.5,
    }  # fmt: skip
    page.route("**/v1/image/analysis?*", lambda route, request: route.fulfill(json=answer))
    (tmp_path / "any.png").write_bytes(encode(gradient(10, 8), "PNG"))
    page.set_input_files("#file-input", str(tmp_path / "any.png"))
    page.locator("#result").wait_for(state="visible")

    edge = page.locator("#edge-colors .swatch")
    assert [edge.nth(i).inner_text().split() for i in range(edge.count())] == [
        ["left", "#112233"], ["right", "#ddeeff"]
    ]
    chip = page.locator("#edge-colors .chip").first
    assert chip.evaluate("node => getComputedStyle(node).backgroundColor") == "rgb(17, 34, 51)"
    assert field(page, "sharpness") == "12.5"
    assert field(page, "colorfulness") == "–"
    colours = page.locator("#colours .swatch")
    assert [colours.nth(i).inner_text().split() for i in range(colours.count())] == [
        ["average", "color", "#808080"], ["dominant", "colors", "#ff0000", "41.2%"]
    ]
    assert field(page, "cached") == "from the cache"
    assert page.locator("#histogram-block").is_hidden()
    assert page.locator("#numbers [data-field=median_luminance]").count() == 0
