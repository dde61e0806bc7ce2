"""GET /ui end to end: Debian's Chromium, driven by Playwright, against the real service under
gunicorn. No downloaded browser, no network beyond loopback."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from PIL import Image

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
#: The caption colours the API names, as the browser computes them.
COMPUTED_TEXT_COLOUR = {"white": "rgb(255, 255, 255)", "black": "rgb(0, 0, 0)"}


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


def save_screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    """The whole page as a PNG under the test's `output` folder, for a person to look at."""
    output = tmp_path / "output"
    output.mkdir(exist_ok=True)
    path = output / name
    page.screenshot(path=str(path), full_page=True)
    return path


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
    assert save_screenshot(page, tmp_path, "ui-result.png").stat().st_size > 10_000


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
    save_screenshot(page, tmp_path, "ui-error.png")


def test_unsupported_type_names_what_was_sent(page: Any, tmp_path: Path) -> None:
    (tmp_path / "icon.bmp").write_bytes(b"BM" + b"\0" * 30)
    page.set_input_files("#file-input", str(tmp_path / "icon.bmp"))
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert error.inner_text() == (
        "Unsupported image type: received image/bmp; allowed: image/jpeg, image/png, "
        "image/webp, image/avif, image/heic, image/heif, image/gif, image/tiff."
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


def light_over_dark(width: int = 320, height: int = 200) -> Image.Image:
    """Top half near-white; bottom half near-black with mid-grey stripes on a tenth of its rows,
    so the bottom's brightest patches keep white text from AA without a scrim."""
    image = Image.new("RGB", (width, height), (236, 236, 232))
    image.paste((18, 20, 24), (0, height // 2, width, height))
    for y in range(height // 2, height, 10):
        image.paste((150, 150, 150), (0, y, width, y + 1))
    return image


def open_options(page: Any) -> None:
    options = page.locator("details.options")
    if options.get_attribute("open") is None:
        options.locator("summary").click()


def choose_metrics(page: Any, *names: str) -> None:
    """Ticks metric boxes the page offers from /openapi.json (they arrive after the page loads)."""
    open_options(page)
    for name in names:
        page.locator(f'#metric-choices input[value="{name}"]').check()


def enter_regions(page: Any, value: str) -> None:
    open_options(page)
    page.locator("#regions-input").fill(value)


def computed(locator: Any, prop: str) -> str:
    return str(locator.evaluate(f"node => getComputedStyle(node).{prop}"))


def figure(card: Any, name: str) -> str:
    return str(card.locator(f'[data-figure="{name}"]').inner_text()).strip()


def assert_caption_follows(area: Any, text: dict[str, Any]) -> None:
    """The caption in the recommended colour; the scrim layer exactly when the API asks for one."""
    caption = area.locator(".caption")
    assert caption.inner_text() == "Readable caption"
    assert computed(caption, "color") == COMPUTED_TEXT_COLOUR[text["recommended_color"]]
    scrim = area.locator(".scrim")
    if text["scrim"] is None:
        assert scrim.count() == 0
    else:
        assert scrim.count() == 1
        assert computed(scrim, "backgroundColor") == COMPUTED_TEXT_COLOUR[text["scrim"]["color"]]
        opacity = float(computed(scrim, "opacity"))
        assert opacity == pytest.approx(text["scrim"]["opacity_aa"], abs=1e-6)


def assert_card_shows(card: Any, text: dict[str, Any]) -> None:
    chosen = text[text["recommended_color"]]
    assert figure(card, "recommended_color") == text["recommended_color"]
    assert figure(card, "worst_contrast") == f"{chosen['worst_contrast']:.2f} : 1"
    assert figure(card, "contrast") == f"{chosen['contrast']:.2f} : 1"
    assert figure(card, "aa") == ("✓ passes" if text["aa"] else "✗ fails")
    assert figure(card, "aa_large") == ("✓ passes" if text["aa_large"] else "✗ fails")
    assert figure(card, "worst_apca") == f"{chosen['worst_apca']:.1f}".replace("-", "−")
    assert ("none needed" in figure(card, "scrim")) == (text["scrim"] is None)


def test_upload_shows_captions_over_regions_and_the_placeholder(
    page: Any, service: LiveServer, tmp_path: Path
) -> None:
    data = encode(light_over_dark(), "PNG")
    image_path = tmp_path / "light-over-dark.png"
    image_path.write_bytes(data)
    query = {
        "metrics": f"{ALL_METRICS},text,placeholder",
        "edge_mode": "all",
        "regions": "top:50;bottom:50",
    }
    status, api = api_upload(service, data, "image/png", urlencode(query))
    assert status == 200, api
    top, bottom = api["regions"]
    # The two halves need different captions, and only the striped one a scrim: both paths run.
    assert (top["name"], bottom["name"]) == ("top", "bottom")
    assert top["text"]["recommended_color"] == "black" and top["text"]["scrim"] is None
    assert bottom["text"]["recommended_color"] == "white" and bottom["text"]["scrim"] is not None

    choose_metrics(page, "text", "placeholder")
    enter_regions(page, "top:50;bottom:50")
    with page.expect_response("**/v1/image/analysis?*") as answer:
        page.set_input_files("#file-input", str(image_path))
    assert parse_qs(urlsplit(answer.value.url).query) == {k: [v] for k, v in query.items()}
    received = answer.value.json()
    volatile = {"cached", "processing_time_ms"}
    assert {k: v for k, v in received.items() if k not in volatile} == {
        k: v for k, v in api.items() if k not in volatile
    }
    page.locator('#stage .area[data-region="bottom"]').wait_for()
    page.locator("#result").wait_for(state="visible")
    assert page.locator("#error").is_hidden()

    # The regions, outlined and named, where the API says they are on the picture.
    areas = page.locator("#stage .area.outlined")
    assert areas.count() == 2
    assert page.locator("#stage .area-label").all_inner_texts() == ["top", "bottom"]
    stage_image = page.locator("#stage .stage-image")
    assert stage_image.get_attribute("src").startswith("blob:")
    page.wait_for_function("() => document.querySelector('#stage .stage-image').naturalWidth > 0")
    picture = stage_image.bounding_box()
    for region in api["regions"]:
        area = page.locator(f'#stage .area[data-region="{region["name"]}"]')
        box = area.bounding_box()
        assert box["x"] - picture["x"] == pytest.approx(region["x"] * picture["width"], abs=1)
        assert box["y"] - picture["y"] == pytest.approx(region["y"] * picture["height"], abs=1)
        assert box["width"] == pytest.approx(region["w"] * picture["width"], abs=1)
        assert box["height"] == pytest.approx(region["h"] * picture["height"], abs=1)
        assert_caption_follows(area, region["text"])
        card = page.locator(f'#text-figures .text-card[data-region="{region["name"]}"]')
        assert_card_shows(card, region["text"])
        assert figure(card, "brightness_score") == str(region["brightness_score"])

    # The whole image's figures, once, with its own small picture and caption.
    whole = page.locator('#text-figures .text-card[data-region="whole image"]')
    assert_card_shows(whole, api["text"])
    assert_caption_follows(whole.locator(".area"), api["text"])
    assert page.locator("#text-figures .text-card").count() == 3

    # The placeholder is the server's own rendering, shown in the picture's shape.
    placeholder = page.locator("#placeholder-image")
    page.wait_for_function(
        "() => { const img = document.getElementById('placeholder-image');"
        " return img.complete && img.naturalWidth > 0; }"
    )
    assert placeholder.get_attribute("src") == api["placeholder"]["thumbhash_data_url"]
    shown = placeholder.bounding_box()
    assert shown["width"] / shown["height"] == pytest.approx(api["width"] / api["height"], rel=0.02)
    assert page.locator("#blurhash").inner_text() == api["placeholder"]["blurhash"]
    assert api["placeholder"]["average_color"] in page.locator("#placeholder-average").inner_text()

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert save_screenshot(page, tmp_path, "ui-text-over-image.png").stat().st_size > 10_000


def test_invalid_regions_show_the_reason(page: Any, service: LiveServer, tmp_path: Path) -> None:
    data = encode(gradient(64, 48), "PNG")
    (tmp_path / "small.png").write_bytes(data)
    query = urlencode({"metrics": "text", "regions": "top;nowhere:5"})
    status, api = api_upload(service, data, "image/png", query)
    assert status == 400
    detail = api["detail"]
    assert detail["error"] == "Invalid regions requested"

    choose_metrics(page, "text")
    enter_regions(page, "top;nowhere:5")
    page.set_input_files("#file-input", str(tmp_path / "small.png"))
    error = page.locator("#error")
    error.wait_for(state="visible")
    text = error.inner_text()
    assert text.startswith("Invalid regions requested: ")
    assert detail["reason"] in text
    assert all(f"“{item}”" in text for item in detail["invalid_regions"])
    assert ", ".join(detail["valid_forms"]) in text
    assert page.locator("#result").is_hidden()
    save_screenshot(page, tmp_path, "ui-invalid-regions.png")


def test_url_regions_go_in_the_json_body(page: Any, origin_server: Origin) -> None:
    """No image of a linked URL is loaded: the regions are drawn on a box of its shape."""
    choose_metrics(page, "text")
    enter_regions(page, "band=0.1,0.6,0.8,0.3")
    page.locator("#url-input").fill(f"{origin_server.base}/image.png")
    with page.expect_response("**/v1/image/analysis/url") as answer:
        page.locator("#url-form button").click()
    assert answer.value.request.post_data_json["regions"] == "band=0.1,0.6,0.8,0.3"
    api = answer.value.json()
    assert answer.value.status == 200, api
    page.locator('#stage .area[data-region="band"]').wait_for()
    assert page.locator("#stage .stage-image").count() == 0
    picture = page.locator("#stage .stage-box").bounding_box()
    shape = api["width"] / api["height"]
    assert picture["width"] / picture["height"] == pytest.approx(shape, rel=0.02)
    band = page.locator('#stage .area[data-region="band"]')
    assert band.bounding_box()["width"] == pytest.approx(0.8 * picture["width"], abs=1)
    assert_caption_follows(band, api["regions"][0]["text"])
    assert page.locator("#placeholder-figure").is_hidden()
