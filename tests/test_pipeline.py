"""`image_insights.analyze()` end to end: every kind of JPEG and PNG it must read, the size it
analyses at, the DCT scale a JPEG is decoded at, what is left to Pillow and why, its typed
errors, and agreement with the reference pipeline (tests/support/reference.py: full decode, RGB,
Lanczos, NumPy statistics)."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import features

from image_insights import (
    AnalysisTimeout,
    CorruptImage,
    EmptyImage,
    ImageInsightsError,
    ImageTooLarge,
    InternalError,
    _core,
    analyze,
)
from image_insights._core import analysis_size
from image_insights.config import Settings
from image_insights import pipeline
from image_insights.pipeline import prepare
from tests.support import synthetic
from tests.support.reference import HISTOGRAM_LABELS, reference_analyze, reference_pixels

ALL_METRICS = "brightness,median,histogram"
EDGE_MODES = ("left_right", "top_bottom", "all")
#: The real photos the benchmarks also use; they live outside the repository, never in it.
REAL_PHOTOS_DIR = Path(__file__).parents[1].parent / "shared" / "images"

PHOTO = synthetic.textured_photo(300, 200, seed=11)  # under 512 px: analysed as decoded


def full_analysis(data: bytes, edge_mode: str = "all") -> dict[str, Any]:
    return analyze(data, ALL_METRICS, edge_mode)


def assert_results_close(
    actual: dict[str, Any],
    expected: dict[str, Any],
    *,
    luminance: float,
    median: float,
    percent: float,
    score: int,
) -> None:
    """Same fields, same sizes, numbers within the given absolute tolerances."""
    assert actual.keys() == expected.keys()
    assert (actual["width"], actual["height"]) == (expected["width"], expected["height"])
    assert actual["algorithm"] == expected["algorithm"] == "rec709"
    for field in ("average_luminance", "edge_average_luminance"):
        if field in expected:
            assert actual[field] == pytest.approx(expected[field], abs=luminance), field
    for field in ("brightness_score", "edge_brightness_score"):
        if field in expected:
            assert abs(actual[field] - expected[field]) <= score, field
    if "median_luminance" in expected:
        assert actual["median_luminance"] == pytest.approx(expected["median_luminance"], abs=median)
    if "histogram" in expected:
        assert [b["range"] for b in actual["histogram"]] == list(HISTOGRAM_LABELS)
        for got, want in zip(actual["histogram"], expected["histogram"], strict=True):
            assert got["percent"] == pytest.approx(want["percent"], abs=percent), got["range"]
    assert actual.get("edge_mode") == expected.get("edge_mode")


#: Rounded to 2 decimals from float64 means computed two ways: equal but for a tie.
EXACT = {"luminance": 0.011, "median": 0.0, "percent": 0.0, "score": 0}
#: JPEG DCT-domain downscaling versus a full decode: a slightly different image.
DOWNSCALED = {"luminance": 0.5, "median": 2.0, "percent": 1.0, "score": 1}


def analysed_pixels(data: bytes) -> np.ndarray:
    """The pixels the statistics of `analyze(data)` are computed on, as (h, w) or (h, w, 3):
    the decoded image, at the analysis size (PNG, no alpha)."""
    width, height, layout, pixels = _core.decode_png(data, 10**9)
    channels = len(layout)
    target = analysis_size(width, height)
    if target != (width, height):
        pixels = _core.resize(pixels, width, height, layout, *target)
        width, height = target
    array = np.frombuffer(pixels, dtype=np.uint8).reshape(height, width, channels)
    return array[..., 0] if channels == 1 else array


# --- formats ------------------------------------------------------------------------------

FORMATS = {
    "jpeg-baseline": lambda: synthetic.jpeg(PHOTO),
    "jpeg-progressive": lambda: synthetic.jpeg(PHOTO, progressive=True),
    "jpeg-grey": lambda: synthetic.jpeg(synthetic.to_grey(PHOTO)),
    "jpeg-cmyk": lambda: synthetic.cmyk_jpeg(PHOTO),
    "png-rgb": lambda: synthetic.png(PHOTO),
    "png-rgba": lambda: synthetic.png(synthetic.with_alpha(PHOTO)),
    "png-grey": lambda: synthetic.png(synthetic.to_grey(PHOTO)),
    "png-grey-alpha": lambda: synthetic.png(synthetic.with_alpha(synthetic.to_grey(PHOTO))),
    "png-bilevel": lambda: synthetic.png(synthetic.to_grey(PHOTO) > 128),
    "png-palette": lambda: synthetic.palette_png(PHOTO),
    "png-palette-transparent": lambda: synthetic.palette_png(PHOTO, transparent_index=3),
    # Levels between multiples of 257, so the 16 -> 8 bit scaling has to round.
    "png-16-grey": lambda: synthetic.png16(PHOTO[..., 1].astype(np.uint16) * 256 + 77),
    "png-16-rgb": lambda: synthetic.png16(PHOTO.astype(np.uint16) * 257),
    "png-16-rgba": lambda: synthetic.png16(synthetic.with_alpha(PHOTO).astype(np.uint16) * 257),
}


@pytest.mark.parametrize("kind", FORMATS)
def test_every_format_matches_the_reference_pipeline(kind: str) -> None:
    data = FORMATS[kind]()
    result = full_analysis(data)
    assert (result["width"], result["height"]) == (300, 200)
    assert_results_close(result, reference_analyze(data, ALL_METRICS, "all"), **EXACT)
    assert sum(b["percent"] for b in result["histogram"]) == pytest.approx(100, abs=0.5)


def test_alpha_is_dropped_not_composited() -> None:
    """An RGBA PNG analyses exactly as its RGB channels alone, whatever the alpha."""
    rgb = full_analysis(synthetic.png(PHOTO))
    assert full_analysis(synthetic.png(synthetic.with_alpha(PHOTO, seed=1))) == rgb
    assert full_analysis(synthetic.png(synthetic.with_alpha(PHOTO, seed=2))) == rgb


def test_transparent_palette_entry_keeps_its_colour() -> None:
    """Marking a palette entry transparent changes nothing: alpha is dropped."""
    opaque = full_analysis(synthetic.palette_png(PHOTO))
    assert full_analysis(synthetic.palette_png(PHOTO, transparent_index=0)) == opaque


@pytest.mark.parametrize("channels", [1, 2, 3, 4], ids=["grey", "grey-alpha", "rgb", "rgba"])
def test_16_bit_samples_scale_instead_of_saturating(channels: int) -> None:
    """32896 / 65535 is exactly the middle, 128 / 255: 16-bit mid-grey is luminance 128,
    not 255 as clipping the raw value to 8 bits would give."""
    shape = (20, 30) if channels == 1 else (20, 30, channels)
    samples = np.full(shape, 32896, dtype=np.uint16)
    result = full_analysis(synthetic.png16(samples))
    assert result["average_luminance"] == 128.0
    assert result["median_luminance"] == 128.0
    assert result["brightness_score"] == 50


def test_16_bit_grey_rounds_to_the_nearest_8_bit_level() -> None:
    """Each 16-bit level v becomes round(v x 255 / 65535): 385 -> 1 and 386 -> 2 sit either
    side of 385.5 = 1.5 x 257, 65535 -> 255."""
    levels = np.array([[0, 128, 129, 385, 386, 32896, 65407, 65535]], dtype=np.uint16)
    expected = [0, 0, 1, 1, 2, 128, 255, 255]
    assert analysed_pixels(synthetic.png16(levels)).ravel().tolist() == expected


def test_16_bit_rgb_gradient_follows_the_samples() -> None:
    """A 16-bit gradient over the whole range: every sample scaled, v / 257 rounded."""
    ramp = np.linspace(0, 65535, 256 * 3).astype(np.uint16).reshape(16, 16, 3)
    expected = np.floor(ramp / 257.0 + 0.5).astype(np.uint8)
    assert np.array_equal(analysed_pixels(synthetic.png16(ramp)), expected)


def test_cmyk_jpeg_reads_as_its_rgb_source() -> None:
    expected = full_analysis(synthetic.png(PHOTO))
    assert_results_close(full_analysis(synthetic.cmyk_jpeg(PHOTO)), expected, **DOWNSCALED)


def test_edges_of_a_framed_image_as_worked_out_by_hand() -> None:
    """100 x 50, white side strips (ew = 10), grey 100 top and bottom rows (eh = 5), black
    inside: the contract's strip rules give these means exactly."""
    frame = np.zeros((50, 100), dtype=np.uint8)
    frame[:5, :] = frame[-5:, :] = 100
    frame[:, :10] = frame[:, -10:] = 255
    data = synthetic.png(frame)
    assert analyze(data, edge_mode="left_right")["edge_average_luminance"] == 255.0
    # Two bands of 5 x 100: 20 white and 80 grey pixels per row.
    top_bottom = analyze(data, edge_mode="top_bottom")["edge_average_luminance"]
    assert top_bottom == round((20 * 255 + 80 * 100) / 100, 2)
    # Sides 2 x 10 x 50 white, bands limited to the 80 middle columns: 2 x 5 x 80 grey.
    everything = analyze(data, edge_mode="all")
    assert everything["edge_average_luminance"] == round((1000 * 255 + 800 * 100) / 1800, 2)
    assert everything["edge_brightness_score"] == round((1000 * 255 + 800 * 100) / 1800 / 255 * 100)
    assert everything["edge_mode"] == "all"


# --- the analysis size --------------------------------------------------------------------


def contract_size(width: int, height: int) -> tuple[int, int]:
    """The contract's words, literally: longer side at most 512, w > h: new_w = 512,
    new_h = int(h * (512 / w)); else the mirror; each at least 1."""
    if max(width, height) <= 512:
        return width, height
    if width > height:
        return 512, max(1, int(height * (512 / width)))
    return max(1, int(width * (512 / height))), 512


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((536, 354), (512, 338)),
        ((5000, 3330), (512, 340)),
        ((3330, 5000), (340, 512)),
        ((512, 512), (512, 512)),
        ((513, 513), (512, 512)),
        ((1, 1), (1, 1)),
        ((100000, 1), (512, 1)),
        ((1, 100000), (1, 512)),
        ((1025, 2), (512, 1)),
        ((30, 4000), (3, 512)),
    ],
)
def test_analysis_size_examples(size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert analysis_size(*size) == expected == contract_size(*size)


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 60000), st.integers(1, 60000))
def test_analysis_size_is_the_contract_formula(width: int, height: int) -> None:
    new_width, new_height = analysis_size(width, height)
    assert (new_width, new_height) == contract_size(width, height)
    assert 1 <= new_width <= 512 and 1 <= new_height <= 512
    assert (new_width, new_height) == (width, height) or max(new_width, new_height) == 512


def analysis_size_of(width: int, height: int, jpeg: bool) -> tuple[int, int]:
    """A JPEG is decoded at `decode_denominator`'s scale: when that image is at most 512
    px it is analysed as it is, else it is resized to the contract's size."""
    denominator = _core.decode_denominator(width, height) if jpeg else 1
    scaled = (-(-width // denominator), -(-height // denominator))
    return scaled if max(scaled) <= 512 else contract_size(width, height)


@pytest.mark.parametrize(
    ("width", "height"),
    [(1030, 700), (700, 1030), (2048, 1360), (1920, 1280), (3100, 400), (4000, 30), (513, 513),
     (1, 1)],
)  # fmt: skip
@pytest.mark.parametrize("encode", [synthetic.jpeg, synthetic.png], ids=["jpeg", "png"])
def test_pixels_analysed_at_the_contract_size(width: int, height: int, encode) -> None:
    """At the contract's size, or a JPEG's scaled size from 416 to 512 px (the threshold
    study in docs/ALGORITHM.md)."""
    data = encode(synthetic.textured_photo(width, height, seed=width + height))
    stats = prepare(data).stats
    assert stats is not None
    expected = analysis_size_of(width, height, jpeg=encode is synthetic.jpeg)
    assert (stats.width, stats.height) == expected
    result = analyze(data)
    assert (result["width"], result["height"]) == (width, height)


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
@pytest.mark.parametrize(("width", "height"), [(2048, 1360), (1360, 2048)])
def test_downscaled_jpeg_is_close_to_the_full_decode(width, height, progressive) -> None:
    data = synthetic.jpeg(synthetic.textured_photo(width, height, seed=3), progressive=progressive)
    for edge_mode in EDGE_MODES:
        expected = reference_analyze(data, ALL_METRICS, edge_mode)
        assert_results_close(full_analysis(data, edge_mode), expected, **DOWNSCALED)


def test_undownscaled_png_equals_the_reference_exactly() -> None:
    """No resizing, no draft: both pipelines see the same pixels, so every field agrees."""
    data = synthetic.png(PHOTO)
    reference, _, _ = reference_pixels(data)
    assert np.array_equal(analysed_pixels(data), reference)
    for edge_mode in EDGE_MODES:
        expected = reference_analyze(data, ALL_METRICS, edge_mode)
        assert_results_close(full_analysis(data, edge_mode), expected, **EXACT)


def test_downscaled_png_equals_the_reference() -> None:
    """The same decoded pixels, and the core's Lanczos3 gives Pillow's pixels exactly
    (tests/test_resize_core.py): every field agrees."""
    data = synthetic.png(synthetic.textured_photo(1100, 700, seed=5))
    assert np.array_equal(analysed_pixels(data), reference_pixels(data)[0])
    assert_results_close(full_analysis(data), reference_analyze(data, ALL_METRICS, "all"), **EXACT)


# --- fields -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metrics", "edge_mode", "fields"),
    [
        (None, None, {"brightness_score", "average_luminance"}),
        ("median", None, {"median_luminance"}),
        ("histogram", "top_bottom", {"histogram", "edge_brightness_score",
                                      "edge_average_luminance", "edge_mode"}),
        (" Median , BRIGHTNESS,,", None, {"median_luminance", "brightness_score",
                                         "average_luminance"}),
    ],
)  # fmt: skip
def test_only_the_asked_fields_are_returned(metrics, edge_mode, fields) -> None:
    result = analyze(synthetic.png(PHOTO), metrics, edge_mode)
    assert set(result) == fields | {"width", "height", "algorithm"}


# --- errors -------------------------------------------------------------------------------

JPEG_BYTES = synthetic.jpeg(PHOTO)
PNG_BYTES = synthetic.png(PHOTO)

CORRUPT = {
    "junk": b"this is not an image at all" * 10,
    "jpeg-truncated": JPEG_BYTES[: len(JPEG_BYTES) // 2],
    "jpeg-signature-only": JPEG_BYTES[:3],
    "png-truncated": PNG_BYTES[: len(PNG_BYTES) // 2],
    "png-signature-only": PNG_BYTES[:8],
    "png-without-pixels": synthetic.png_header_only(10, 10),
    "png-zero-width": synthetic.png_header_only(0, 10),
    "gif-cut": synthetic.gif(PHOTO)[:40],
    "bmp": synthetic.bmp(PHOTO),
}


def test_empty_bytes_are_an_empty_image() -> None:
    with pytest.raises(EmptyImage):
        analyze(b"")


@pytest.mark.parametrize("kind", CORRUPT)
def test_undecodable_bytes_are_a_corrupt_image(kind: str) -> None:
    with pytest.raises(CorruptImage) as caught:
        analyze(CORRUPT[kind])
    reason = caught.value.reason
    assert reason and len(reason) <= 200 and "\n" not in reason
    assert not isinstance(caught.value, OSError)  # typed, not Pillow's own error


def test_bmp_is_refused_by_its_signature_and_gif_when_only_jpeg_and_png_are() -> None:
    """Pillow could decode both; BMP is no accepted format, GIF is one unless narrowed."""
    with pytest.raises(CorruptImage, match="^not a JPEG, PNG, WebP, AVIF, HEIF, GIF or TIFF"):
        analyze(CORRUPT["bmp"])
    gif = synthetic.gif(PHOTO)
    assert analyze(gif)["width"] == PHOTO.shape[1]
    with pytest.raises(CorruptImage, match="^not a JPEG or PNG image$"):
        analyze(gif, formats="jpeg,png")


def test_a_header_declaring_too_many_pixels_is_refused_before_decoding() -> None:
    bomb = synthetic.png_header_only(30000, 30000)  # a few dozen bytes, 900 megapixels
    with pytest.raises(ImageTooLarge) as caught:
        analyze(bomb)
    assert (caught.value.pixels, caught.value.max_pixels) == (900_000_000, 50_000_000)


def test_the_pixel_limit_is_a_parameter() -> None:
    with pytest.raises(ImageTooLarge):
        analyze(PNG_BYTES, max_pixels=300 * 200 - 1)
    assert analyze(PNG_BYTES, max_pixels=300 * 200)["width"] == 300


def test_every_error_shares_one_base_class() -> None:
    for error in (EmptyImage, CorruptImage, ImageTooLarge, AnalysisTimeout, InternalError):
        assert issubclass(error, ImageInsightsError)


def test_a_panic_in_the_core_is_an_exception_not_the_end_of_the_process() -> None:
    """A panic must never unwind into Python as PyO3's PanicException (a BaseException that
    passes every `except Exception`, so a gunicorn worker dies): the core raises its
    InternalError, the pipeline's InternalError, and goes on working."""
    with pytest.raises(_core.InternalError, match="a test panic"):
        _core._panic("a test panic")
    with pytest.raises(InternalError, match="a test panic"):
        pipeline._run_core(_core._panic, "a test panic")
    assert analyze(PNG_BYTES)["width"] == 300


def test_no_time_left_is_an_analysis_timeout() -> None:
    with pytest.raises(AnalysisTimeout):
        pipeline.analyze(synthetic.jpeg(synthetic.textured_photo(2000, 1500, seed=1)), timeout=1e-9)


# --- JPEGs: the DCT scale, and what is left to Pillow ----------------------------------------

#: A size at each scale: full (at most 512, and 800 whose half is under 416), 1/2, 1/4, 1/8.
SCALED_SIZES = [(536, 354), (800, 533), (1200, 800), (1920, 1280), (3000, 2000), (3400, 2400)]


@pytest.mark.parametrize("size", SCALED_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_the_core_decodes_as_libjpeg_does_at_every_scale(
    size: tuple[int, int], progressive: bool
) -> None:
    """The core's reader and libjpeg through Pillow decode to the same pixels at the same
    scale (tests/test_jpeg_reader.py), so the whole analysis is equal, field for field."""
    data = synthetic.jpeg(synthetic.textured_photo(*size, seed=size[0]), progressive=progressive)
    assert prepare(data).fallback is None
    without = prepare(data, jpeg_reader=False)
    assert without.fallback == "disabled"
    for edge_mode in EDGE_MODES:
        assert full_analysis(data, edge_mode) == analyze(
            data, ALL_METRICS, edge_mode, jpeg_reader=False
        )


def test_scaled_jpegs_stay_close_to_the_full_decode() -> None:
    """The drift the threshold study bounds (docs/ALGORITHM.md): DCT scaling to at least
    416 px against a full decode and Lanczos to 512."""
    for size in SCALED_SIZES:
        data = synthetic.jpeg(synthetic.textured_photo(*size, seed=size[1]), quality=90)
        expected = reference_analyze(data, ALL_METRICS, "all")
        assert_results_close(full_analysis(data), expected, **DOWNSCALED)


def test_the_scale_is_the_smallest_covering_the_threshold() -> None:
    assert _core.DCT_SCALING_MIN_SIDE == 416
    # ceil(side / d) >= 416: from 831 px at 1/2, 1661 px at 1/4, 3321 px at 1/8.
    cases = {(536, 354): 1, (830, 500): 1, (831, 500): 2, (1660, 900): 2, (1661, 900): 4,
             (3320, 2000): 4, (3321, 2000): 8, (2000, 5000): 8}  # fmt: skip
    for (width, height), denominator in cases.items():
        assert _core.decode_denominator(width, height) == denominator, (width, height)


needs_cjpeg = pytest.mark.skipif(
    shutil.which("cjpeg") is None, reason="cjpeg (libjpeg-turbo-progs) is not installed"
)


def test_cmyk_is_left_to_pillow() -> None:
    data = synthetic.cmyk_jpeg(synthetic.textured_photo(1600, 900, seed=4))
    assert prepare(data).fallback == "cmyk"
    assert_results_close(
        full_analysis(data), analyze(synthetic.png(synthetic.textured_photo(1600, 900, seed=4)),
                                     ALL_METRICS, "all"), **DOWNSCALED
    )  # fmt: skip


@needs_cjpeg
def test_arithmetic_coding_is_left_to_pillow_at_the_same_scale() -> None:
    pixels = synthetic.textured_photo(1920, 1280, seed=6)
    arithmetic, huffman = synthetic.cjpeg(pixels, "-arithmetic"), synthetic.cjpeg(pixels)
    assert prepare(arithmetic).fallback == "coding"
    # The same coefficients, entropy-coded two ways: the same analysis.
    assert full_analysis(arithmetic) == full_analysis(huffman)


@needs_cjpeg
def test_an_incomplete_progression_is_left_to_pillow(tmp_path: Path) -> None:
    """Coefficients never sent: libjpeg smooths the blocks, the core would not."""
    script = tmp_path / "scans.txt"
    script.write_text("0,1,2: 0-0, 0, 0;\n0: 1-5, 0, 0;\n")
    data = synthetic.cjpeg(synthetic.textured_photo(900, 600, seed=2), "-scans", str(script))
    assert prepare(data).fallback == "smoothing"
    result = full_analysis(data)
    assert (result["width"], result["height"]) == (900, 600)


def test_damaged_jpegs_are_left_to_pillow_or_refused_never_a_crash() -> None:
    data = synthetic.jpeg(synthetic.textured_photo(3200, 2000, seed=9), quality=90)
    rng = np.random.default_rng(0)
    cases = [data[: len(data) // 2], data[: len(data) - 2], data[:700] + b"\xff\xd9"]
    for _ in range(6):
        damaged = bytearray(data)
        for at in rng.integers(200, len(data), size=8):
            damaged[at] = int(rng.integers(0, 256))
        cases.append(bytes(damaged))
    reasons = set()
    for case in cases:
        try:
            reasons.add(prepare(case).fallback)
            result = analyze(case, ALL_METRICS)
        except CorruptImage:
            continue
        assert result["width"] == 3200
    assert "damaged" in reasons


def test_the_setting_switches_the_reader_off() -> None:
    assert Settings().jpeg_fast_path is True
    assert Settings.from_env({"JPEG_FAST_PATH": "false"}).jpeg_fast_path is False


# --- the imaging library ------------------------------------------------------------------


def test_pillow_simd_is_installed_and_plain_pillow_is_not() -> None:
    simd = importlib.metadata.distribution("pillow-simd")
    assert any(str(path) == "PIL/__init__.py" for path in simd.files or ())
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("pillow")


def test_pil_is_built_with_libjpeg_turbo() -> None:
    assert features.check_feature("libjpeg_turbo")


# --- real photos (outside the repository) -------------------------------------------------


def _real_photos() -> list[Any]:
    if not REAL_PHOTOS_DIR.is_dir():
        reason = f"{REAL_PHOTOS_DIR} is absent: the real photos are not part of the repository"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-real-photos")]
    return [pytest.param(path, id=path.name) for path in sorted(REAL_PHOTOS_DIR.glob("*.jp*g"))]


@pytest.mark.parametrize("path", _real_photos())
def test_real_photo_is_close_to_the_reference_pipeline(path: Path) -> None:
    data = path.read_bytes()
    assert full_analysis(data) == analyze(data, ALL_METRICS, "all", jpeg_reader=False)
    declared = re.search(r"(\d+)x(\d+)", path.name)
    for edge_mode in EDGE_MODES:
        result = full_analysis(data, edge_mode)
        assert_results_close(result, reference_analyze(data, ALL_METRICS, edge_mode), **DOWNSCALED)
    if declared:
        assert (result["width"], result["height"]) == tuple(map(int, declared.groups()))
