"""The JPEG DC path (issue 8) against libjpeg's own eighth-scale output.

Every JPEG here is generated: by Pillow (quality, sampling, progressive, optimised tables)
and by libjpeg-turbo's `cjpeg` / `jpegtran` (4:4:0, restart intervals, arithmetic coding).
The reference eighth-scale image is Pillow's `draft` at scale 1/8, or `djpeg -scale 1/8`
for images under 8 px on a side, where `draft` cannot reach that scale.
"""

from __future__ import annotations

import dataclasses
import io
import math
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import synthetic
from image_insights import _core, analyze, imaging
from image_insights.config import Settings

#: Issue 8's bars, per channel of the eighth-scale pixels...
MAX_MEAN_DIFFERENCE = 0.5
MAX_DIFFERENCE = 4
#: ...and on the statistics of the analysed image.
MAX_AVERAGE_DRIFT = 0.1
MAX_MEDIAN_DRIFT = 0.5
MAX_BUCKET_DRIFT = 0.3  # percentage points
METRICS = "brightness,median,histogram"
REAL_PHOTOS = Path(__file__).parents[1].parent / "shared" / "images"

needs_libjpeg_tools = pytest.mark.skipif(
    shutil.which("cjpeg") is None or shutil.which("djpeg") is None,
    reason="libjpeg-turbo-progs (cjpeg, djpeg, jpegtran) is not installed",
)


def photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    if width * height < 64:
        rng = np.random.default_rng(seed)
        return rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    return synthetic.textured_photo(width, height, seed=seed)


def pillow_jpeg(pixels: np.ndarray, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def cjpeg(pixels: np.ndarray, *args: str) -> bytes:
    """`cjpeg` on a PPM (or PGM for grey) of `pixels`."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PPM")
    return subprocess.run(
        ["cjpeg", *args], input=buffer.getvalue(), capture_output=True, check=True
    ).stdout


def jpegtran(data: bytes, *args: str) -> bytes:
    return subprocess.run(["jpegtran", *args], input=data, capture_output=True, check=True).stdout


def libjpeg_eighth(data: bytes) -> np.ndarray:
    """libjpeg's image at scale 1/8, as (h, w) or (h, w, 3) uint8."""
    image = Image.open(io.BytesIO(data))
    if min(image.size) >= 8:
        # Pillow picks the largest scale <= min(w // 1, h // 1): 1/8 here.
        image.draft("RGB" if image.mode != "L" else "L", (1, 1))
        image.load()
        return np.asarray(image)
    if shutil.which("djpeg") is None:
        pytest.skip("djpeg is needed for images under 8 px")
    out = subprocess.run(
        ["djpeg", "-scale", "1/8", "-pnm"], input=data, capture_output=True, check=True
    ).stdout
    return np.asarray(Image.open(io.BytesIO(out)))


def dc_eighth(data: bytes) -> np.ndarray:
    width, height, mode, pixels = _core.decode_jpeg_dc(data, 10**9)
    shape = (height, width) if mode == "L" else (height, width, 3)
    return np.frombuffer(pixels, dtype=np.uint8).reshape(shape)


def assert_close_to_libjpeg(data: bytes) -> None:
    expected = libjpeg_eighth(data).astype(np.int16)
    actual = dc_eighth(data).astype(np.int16)
    assert actual.shape == expected.shape
    difference = np.abs(actual - expected)
    per_channel = difference.reshape(-1, 1 if difference.ndim == 2 else 3)
    assert per_channel.mean(axis=0).max() <= MAX_MEAN_DIFFERENCE
    assert difference.max() <= MAX_DIFFERENCE
    assert_statistics_close(expected, actual)


def assert_statistics_close(expected: np.ndarray, actual: np.ndarray) -> None:
    """The analysis statistics of two versions of one image agree within issue 8's bars."""

    def stats(pixels: np.ndarray) -> _core.LuminanceStats:
        image = Image.fromarray(np.ascontiguousarray(pixels.astype(np.uint8)))
        return imaging.luminance_stats(image)

    a, b = stats(expected), stats(actual)
    assert round(a.mean / 255 * 100) == round(b.mean / 255 * 100)
    assert abs(a.mean - b.mean) <= MAX_AVERAGE_DRIFT
    assert abs(a.median - b.median) <= MAX_MEDIAN_DRIFT
    total = a.pixel_count
    for x, y in zip(a.buckets, b.buckets, strict=True):
        assert abs(x - y) / total * 100 <= MAX_BUCKET_DRIFT + EPSILON


#: (score, average, median, bucket) bars: libjpeg's eighth scale against ours, and the
#: 512-px analysis against the eighth-scale one when that is smaller (threshold study).
SAME_SIZE_BARS = (0, MAX_AVERAGE_DRIFT, MAX_MEDIAN_DRIFT, MAX_BUCKET_DRIFT)
SMALLER_BARS = (1, 0.25, 2.0, 1.5)
#: Rounded fields differ by float noise on top of their bar (0.3000000000000007).
EPSILON = 1e-9


def assert_analyses_close(a: dict, b: dict, bars: tuple[float, ...] = SAME_SIZE_BARS) -> None:
    score, average, median, bucket = bars
    assert abs(a["brightness_score"] - b["brightness_score"]) <= score
    assert abs(a["average_luminance"] - b["average_luminance"]) <= average + EPSILON
    assert abs(a["median_luminance"] - b["median_luminance"]) <= median + EPSILON
    for x, y in zip(a["histogram"], b["histogram"], strict=True):
        assert abs(x["percent"] - y["percent"]) <= bucket + EPSILON
    assert (a["width"], a["height"]) == (b["width"], b["height"])


# --- pixels against libjpeg --------------------------------------------------------------

SIZES = [(1, 1), (7, 9), (8, 8), (17, 33), (203, 131)]
#: Pillow's `subsampling`: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0.
SUBSAMPLINGS = [0, 1, 2]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("subsampling", SUBSAMPLINGS, ids=["444", "422", "420"])
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_pillow_encodings_match_libjpeg(
    size: tuple[int, int], subsampling: int, progressive: bool
) -> None:
    pixels = photo(*size, seed=size[0])
    for quality, optimize in [(30, False), (75, True), (95, False), (100, True)]:
        data = pillow_jpeg(
            pixels,
            quality=quality,
            subsampling=subsampling,
            progressive=progressive,
            optimize=optimize,
        )
        assert_close_to_libjpeg(data)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_greyscale_matches_libjpeg(size: tuple[int, int], progressive: bool) -> None:
    grey = synthetic.to_grey(photo(*size, seed=7))
    assert_close_to_libjpeg(pillow_jpeg(grey, quality=85, progressive=progressive))


@needs_libjpeg_tools
@pytest.mark.parametrize(
    "sample", ["1x1,1x1,1x1", "2x1,1x1,1x1", "2x2,1x1,1x1", "1x2,1x1,1x1"],
    ids=["444", "422", "420", "440"],
)  # fmt: skip
@pytest.mark.parametrize("restart", [None, "1", "3B", "1B"])
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_cjpeg_layouts_and_restart_intervals_match_libjpeg(
    sample: str, restart: str | None, progressive: bool
) -> None:
    pixels = photo(150, 97, seed=3)
    args = ["-quality", "80", "-sample", sample]
    args += ["-restart", restart] if restart else []
    args += ["-progressive"] if progressive else []
    assert_close_to_libjpeg(cjpeg(pixels, *args))


@needs_libjpeg_tools
@pytest.mark.parametrize("sample", ["2x2,2x1,1x1", "2x2,1x2,2x1", "1x1,2x2,1x1"])
@pytest.mark.parametrize("restart", [None, "2"])
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_unusual_layouts_match_libjpeg(
    sample: str, restart: str | None, progressive: bool
) -> None:
    """Chroma planes of different sizes, or a first component that is not the largest: the
    MCU walk's general loop rather than the one for luma blocks then one of each chroma."""
    args = ["-quality", "80", "-sample", sample]
    args += ["-restart", restart] if restart else []
    args += ["-progressive"] if progressive else []
    assert_close_to_libjpeg(cjpeg(photo(150, 97, seed=3), *args))


@needs_libjpeg_tools
@pytest.mark.parametrize("restart", ["1", "2B", "7B"])
def test_jpegtran_restart_intervals_match_libjpeg(restart: str) -> None:
    original = pillow_jpeg(photo(120, 88, seed=5), quality=70, progressive=True)
    for extra in ([], ["-progressive"], ["-optimize"]):
        assert_close_to_libjpeg(jpegtran(original, "-restart", restart, *extra))


def test_a_few_thousand_pixels_across_match_libjpeg() -> None:
    pixels = photo(2400, 1601, seed=11)
    assert_close_to_libjpeg(pillow_jpeg(pixels, quality=90, progressive=True))
    assert_close_to_libjpeg(pillow_jpeg(pixels, quality=60, subsampling=0))


@pytest.mark.slow
@pytest.mark.parametrize("quality", range(30, 101, 5))
@pytest.mark.parametrize("subsampling", SUBSAMPLINGS, ids=["444", "422", "420"])
def test_quality_sweep_matches_libjpeg(quality: int, subsampling: int) -> None:
    pixels = photo(640, 427, seed=quality)
    for progressive in (False, True):
        data = pillow_jpeg(pixels, quality=quality, subsampling=subsampling, progressive=progressive)
        assert_close_to_libjpeg(data)


# --- the pipeline ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def large_jpegs() -> dict[str, bytes]:
    """Large enough that the eighth-scale image exceeds 512 px (4400 px) or only reaches
    the threshold (3200 px)."""
    big = photo(4400, 2900, seed=21)
    mid = photo(3200, 2400, seed=22)
    return {
        "4400 progressive": pillow_jpeg(big, quality=90, progressive=True),
        "4400 baseline 444": pillow_jpeg(big, quality=85, subsampling=0),
        "3200 baseline": pillow_jpeg(mid, quality=90),
        "3200 grey": pillow_jpeg(synthetic.to_grey(mid), quality=90),
    }


@pytest.mark.parametrize(
    "name", ["4400 progressive", "4400 baseline 444", "3200 baseline", "3200 grey"]
)
def test_analyze_with_the_dc_path_matches_pillow_path(
    large_jpegs: dict[str, bytes], name: str
) -> None:
    data = large_jpegs[name]
    used = imaging.JPEG_FAST_PATH.used
    fast = analyze(data, METRICS, "all", jpeg_fast_path=True)
    assert imaging.JPEG_FAST_PATH.used == used + 1
    slow = analyze(data, METRICS, "all", jpeg_fast_path=False)
    assert imaging.JPEG_FAST_PATH.used == used + 1
    assert_analyses_close(fast, slow, SAME_SIZE_BARS if name.startswith("4400") else SMALLER_BARS)
    if name.startswith("4400"):
        # Eighth scale is what Pillow's draft picks here too, pixel for pixel the same.
        assert fast == slow


def test_small_jpegs_keep_the_pillow_path() -> None:
    data = pillow_jpeg(photo(1200, 800, seed=2), quality=90)
    used = imaging.JPEG_FAST_PATH.used
    analyze(data, METRICS)
    assert imaging.JPEG_FAST_PATH.used == used


def real_photos() -> Iterator[Path]:
    return iter(sorted(REAL_PHOTOS.glob("*.jp*g")) if REAL_PHOTOS.is_dir() else [])


@pytest.mark.skipif(not list(real_photos()), reason=f"{REAL_PHOTOS} is absent")
def test_real_photos() -> None:
    for path in real_photos():
        data = path.read_bytes()
        assert_close_to_libjpeg(data)
        assert_analyses_close(
            analyze(data, METRICS, jpeg_fast_path=True), analyze(data, METRICS, jpeg_fast_path=False)
        )


# --- fallbacks ---------------------------------------------------------------------------


def _fallbacks(reason: str) -> int:
    return imaging.JPEG_FAST_PATH.fallbacks.get(reason, 0)


def test_truncated_and_damaged_jpegs_fall_back_and_never_crash(
    large_jpegs: dict[str, bytes],
) -> None:
    data = large_jpegs["3200 baseline"]
    before = imaging.JPEG_FAST_PATH.fallback_count
    rng = np.random.default_rng(0)
    cases = [data[: len(data) // 2], data[: len(data) - 2], data[:700] + b"\xff\xd9"]
    for _ in range(6):
        damaged = bytearray(data)
        for at in rng.integers(200, len(data), size=8):
            damaged[at] = int(rng.integers(0, 256))
        cases.append(bytes(damaged))
    for case in cases:
        try:
            result = analyze(case, METRICS)
        except imaging.CorruptImage:
            continue
        assert result["width"] == 3200
    assert imaging.JPEG_FAST_PATH.fallback_count > before


def test_every_prefix_of_a_small_jpeg_is_an_error_value() -> None:
    data = pillow_jpeg(photo(40, 24, seed=1), quality=80, progressive=True)
    for end in range(len(data) - 2):
        with pytest.raises(ValueError):
            _core.decode_jpeg_dc(data[:end], 10**9)


def test_cmyk_falls_back_as_unsupported() -> None:
    data = synthetic.cmyk_jpeg(photo(3100, 200, seed=4))
    with pytest.raises(NotImplementedError):
        _core.decode_jpeg_dc(data, 10**9)
    before = _fallbacks("unsupported")
    assert analyze(data, METRICS) == analyze(data, METRICS, jpeg_fast_path=False)
    assert _fallbacks("unsupported") == before + 1


@needs_libjpeg_tools
def test_arithmetic_coding_falls_back_as_unsupported() -> None:
    data = cjpeg(photo(3100, 64, seed=6), "-arithmetic")
    with pytest.raises(NotImplementedError):
        _core.decode_jpeg_dc(data, 10**9)
    before = _fallbacks("unsupported")
    assert analyze(data, METRICS) == analyze(data, METRICS, jpeg_fast_path=False)
    assert _fallbacks("unsupported") == before + 1


def test_the_pixel_limit_is_checked_before_decoding() -> None:
    data = pillow_jpeg(photo(64, 48), quality=80)
    with pytest.raises(ValueError, match="exceeds the limit"):
        _core.decode_jpeg_dc(data, 64 * 48 - 1)
    assert _core.decode_jpeg_dc(data, 64 * 48)[:3] == (8, 6, "RGB")


def test_the_setting_switches_the_path_off() -> None:
    assert Settings().jpeg_fast_path is True
    assert Settings.from_env({"JPEG_FAST_PATH": "false"}).jpeg_fast_path is False
    assert Settings.from_env({"JPEG_FAST_PATH": "1"}).jpeg_fast_path is True
    off = dataclasses.replace(Settings(), jpeg_fast_path=False)
    assert off.jpeg_fast_path is False


def test_eighth_size_rounds_up() -> None:
    assert imaging.eighth_size(5000, 3330) == (625, 417)
    assert imaging.eighth_size(1, 9) == (1, 2)
    assert math.ceil(4032 / 8) == imaging.eighth_size(4032, 3024)[0]
