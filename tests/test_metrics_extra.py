"""The metrics beyond brightness against independent NumPy/SciPy references (property
tests over random images, every layout), and through analyze() and HTTP."""

from __future__ import annotations

import io
from typing import Any

import falcon.testing
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import image_insights
from image_insights import _core
from tests.support.http_helpers import encode, gradient, multipart
from tests.support.reference_extras import (
    LAYOUT_CHANNELS,
    colorfulness,
    contrast,
    dominant_colours,
    edge_colours,
    entropy_bits,
    luminance,
    mean_colour,
    rgb_and_opaque,
    sharpness,
)


@st.composite
def images(draw: st.DrawFn) -> tuple[np.ndarray, str]:
    layout = draw(st.sampled_from(list(LAYOUT_CHANNELS)))
    height = draw(st.integers(1, 24))
    width = draw(st.integers(1, 24))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # Few distinct levels make ties, clusters and transparent pixels common.
    palette = rng.integers(0, 256, size=(draw(st.integers(1, 6)), LAYOUT_CHANNELS[layout]))
    if layout in ("LA", "RGBA"):
        palette[rng.random(len(palette)) < 0.3, -1] = 0
    pixels = palette[rng.integers(0, len(palette), size=(height, width))].astype(np.uint8)
    return pixels, layout


@settings(max_examples=300, deadline=None)
@given(images())
def test_core_matches_references(case: tuple[np.ndarray, str]) -> None:
    pixels, layout = case
    h, w = pixels.shape[:2]
    stats = _core.pixel_statistics(pixels, w, h, layout, colors=True, sharpness=True)
    rgb, opaque = rgb_and_opaque(pixels, layout)
    lum = luminance(rgb)

    expected = contrast(lum)
    assert stats.contrast_rms == pytest.approx(expected["contrast_rms"], abs=1e-9)
    assert stats.p5 == pytest.approx(expected["p5"], abs=1e-9)
    assert stats.p95 == pytest.approx(expected["p95"], abs=1e-9)
    assert stats.sharpness == pytest.approx(sharpness(lum), abs=1e-9)
    assert stats.entropy_bits == pytest.approx(entropy_bits(lum), abs=1e-9)

    expected_colorfulness = colorfulness(rgb, opaque)
    if expected_colorfulness is None:
        assert stats.colorfulness is None
    else:
        assert stats.colorfulness == pytest.approx(expected_colorfulness, abs=1e-9)
    assert stats.opaque_pixel_count == int(opaque.sum())
    assert stats.average_color == mean_colour(rgb, opaque)
    assert stats.edge_colors == edge_colours(rgb, opaque)
    assert stats.dominant_colors == dominant_colours(rgb, opaque)


def test_sharpness_tells_blur_apart() -> None:
    sharp = np.asarray(gradient(64, 64).convert("L"), dtype=np.uint8).copy()
    sharp[::4, :] = 255  # hard lines
    blurred = np.asarray(Image.fromarray(sharp).resize((16, 16)).resize((64, 64), Image.BILINEAR))
    s_sharp = _core.pixel_statistics(sharp, 64, 64, "L", sharpness=True).sharpness
    s_blur = _core.pixel_statistics(np.ascontiguousarray(blurred), 64, 64, "L", sharpness=True).sharpness
    assert s_sharp is not None and s_blur is not None and s_sharp > 5 * s_blur


def test_large_image_sums_stay_exact() -> None:
    """White and black halves over 3000 x 2000: sums of squares far beyond u64 per row run."""
    pixels = np.zeros((2000, 3000, 3), np.uint8)
    pixels[:, :1500] = 255
    stats = _core.pixel_statistics(pixels, 3000, 2000, "RGB", colors=True, sharpness=True)
    assert stats.contrast_rms == pytest.approx(127.5, abs=1e-9)
    assert stats.entropy_bits == pytest.approx(1.0, abs=1e-12)
    assert stats.p5 == 0 and stats.p95 == 255
    assert stats.colorfulness == pytest.approx(0.0, abs=1e-9)


ALL_NEW = "brightness,contrast,sharpness,entropy,colorfulness,colors"


def test_analyze_fields() -> None:
    data = encode(gradient(300, 200), "PNG")
    result = image_insights.analyze(data, ALL_NEW, "left_right")
    image = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(np.float64)
    lum = luminance(image)
    assert result["contrast_rms"] == round(float(lum.std()), 2)
    expected = contrast(lum)
    assert result["luminance_p5"] == round(expected["p5"], 2)
    assert result["luminance_p95"] == round(expected["p95"], 2)
    assert result["dynamic_range"] == round(expected["p95"] - expected["p5"], 2)
    assert result["entropy_bits"] == round(entropy_bits(lum), 3)
    assert set(result["edge_colors"]) == {"left", "right"}
    assert result["average_color"].startswith("#") and len(result["average_color"]) == 7
    assert 1 <= len(result["dominant_colors"]) <= 5
    assert sum(c["percent"] for c in result["dominant_colors"]) <= 100.5


def test_the_response_is_unchanged_without_new_names() -> None:
    data = encode(gradient(300, 200), "JPEG")
    result = image_insights.analyze(data, "brightness,median,histogram", "all")
    assert set(result) == {
        "brightness_score", "average_luminance", "median_luminance", "histogram",
        "edge_brightness_score", "edge_average_luminance", "edge_mode",
        "width", "height", "algorithm",
    }  # fmt: skip


def test_transparent_pixels_carry_no_colour() -> None:
    image = Image.new("RGBA", (40, 20), (255, 0, 0, 255))
    image.paste((0, 0, 255, 0), (20, 0, 40, 20))  # right half: transparent blue
    result = image_insights.analyze(encode(image, "PNG"), "brightness,colors", "left_right")
    assert result["average_color"] == "#ff0000"
    assert result["dominant_colors"] == [{"color": "#ff0000", "percent": 100.0}]
    assert result["edge_colors"] == {"left": "#ff0000", "right": None}
    # Luminance keeps the contract's rule: alpha is ignored, the blue still counts.
    assert result["average_luminance"] == image_insights.analyze(
        encode(image.convert("RGB"), "PNG")
    )["average_luminance"]


def exif_jpeg(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", quality=95, exif=exif.tobytes())


def test_orientation_turns_the_edges() -> None:
    # Stored: bright left column band, dark elsewhere. Orientation 6 (rotate 90° clockwise
    # to view): the stored left becomes the viewed top.
    image = Image.new("RGB", (200, 100), (20, 20, 20))
    image.paste((250, 250, 250), (0, 0, 20, 100))
    upright = image_insights.analyze(exif_jpeg(image, 1), "colors", "all")
    turned = image_insights.analyze(exif_jpeg(image, 6), "colors", "all")
    assert "orientation" not in upright and turned["orientation"] == 6
    assert (turned["width"], turned["height"]) == (200, 100)  # the stored size
    assert upright["edge_colors"]["left"] == turned["edge_colors"]["top"]
    assert upright["edge_colors"]["right"] == turned["edge_colors"]["bottom"]
    assert upright["average_color"] == turned["average_color"]


def upload(client: falcon.testing.TestClient, data: bytes, **params: str) -> Any:
    body, headers = multipart([("image", data, "image/jpeg")])
    return client.simulate_post("/v1/image/analysis", body=body, headers=headers, params=params)


def test_new_metrics_over_http(client: falcon.testing.TestClient) -> None:
    data = encode(gradient(300, 200), "JPEG")
    result = upload(client, data, metrics=ALL_NEW, edge_mode="top_bottom")
    assert result.status_code == 200
    expected = image_insights.analyze(data, ALL_NEW, "top_bottom")
    for name, value in expected.items():
        assert result.json[name] == value, name
    assert set(result.json["edge_colors"]) == {"top", "bottom"}


def test_new_names_are_valid_metrics(client: falcon.testing.TestClient) -> None:
    result = upload(client, b"x", metrics="contrast,bogus")
    assert result.json["detail"]["valid_metrics"] == [
        "brightness", "median", "histogram", "contrast", "sharpness", "entropy",
        "colorfulness", "colors", "text", "placeholder",
    ]  # fmt: skip
    assert result.json["detail"]["invalid_metrics"] == ["bogus"]
