"""The `text` metric and `regions`, against computations made independently of the service:
WCAG 2.x relative luminance and contrast in NumPy float64 over generated images, APCA against
the values its authors publish, the scrim composited back over the background, and regions of
synthetic pictures whose rectangles have known colours, EXIF-turned ones included."""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageOps

from image_insights import _core, analyze
from image_insights.pipeline import readable
from tests.support import synthetic

# --- the WCAG 2.x definition, in NumPy -------------------------------------------------------

#: WCAG 2.x weights of linear R, G and B.
WCAG_WEIGHTS = np.array([0.2126, 0.7152, 0.0722])
#: The core's raw relative-luminance mean is an exact float64 sum of per-pixel values that
#: are float32 table sums (relative error about 6e-8).
MEAN_TOLERANCE = 1e-6
#: The core reads percentiles off 65,536 bins of Y (rounded to 1/65,535: within 1/131,070).
PERCENTILE_TOLERANCE = 2e-5
#: Half a unit of the response's 4-decimal luminances.
HALF_4_DECIMALS = 5e-5


def linearise(srgb: np.ndarray | float) -> np.ndarray:
    """WCAG 2.x: sRGB-encoded values in 0..1 to linear light."""
    c = np.asarray(srgb, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def encode_srgb(linear: float) -> float:
    """The inverse of `linearise`, for one value."""
    if linear <= 0.0031308:
        return linear * 12.92
    return 1.055 * linear ** (1 / 2.4) - 0.055


def relative_luminance(pixels: np.ndarray) -> np.ndarray:
    """Per pixel, float64, of an (h, w) grey or (h, w, c) LA, RGB or RGBA uint8 array; alpha is
    ignored, as the service's luminance statistics ignore it."""
    linear = linearise(pixels / 255.0)
    if pixels.ndim == 2:
        return linear
    if pixels.shape[2] <= 2:
        return linear[..., 0]
    return linear[..., :3] @ WCAG_WEIGHTS


def contrast(l1: float, l2: float) -> float:
    """WCAG 2.x contrast ratio of two relative luminances, either order."""
    return (max(l1, l2) + 0.05) / (min(l1, l2) + 0.05)


def layout_of(pixels: np.ndarray) -> str:
    return {2: "L"}.get(pixels.ndim) or {2: "LA", 3: "RGB", 4: "RGBA"}[pixels.shape[2]]


# --- generated images ------------------------------------------------------------------------


def _gradient(width: int, height: int) -> np.ndarray:
    y = np.linspace(0.0, 1.0, height)[:, None]
    x = np.linspace(0.0, 1.0, width)[None, :]
    rgb = np.stack([255 * x + 0 * y, 255 * y + 0 * x, 255 * (1 - x) * y], axis=-1)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def _noise(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def _flat(colour: tuple[int, ...], width: int = 40, height: int = 30) -> np.ndarray:
    return np.full((height, width, len(colour)), colour, dtype=np.uint8)


#: Every kind of pixel the definition has a case for: both pieces of the sRGB curve (10 is on
#: the linear one, 11 on the power one), greys, colour, alpha (ignored), odd sizes.
IMAGES: dict[str, Callable[[], np.ndarray]] = {
    "noise-rgb": lambda: _noise((61, 97, 3), seed=1),
    "noise-grey": lambda: _noise((50, 73), seed=2),
    "noise-rgba": lambda: _noise((45, 64, 4), seed=3),
    "noise-grey-alpha": lambda: _noise((33, 40, 2), seed=4),
    "gradient-rgb": lambda: _gradient(256, 100),
    "gradient-grey": lambda: np.tile(np.arange(256, dtype=np.uint8), (20, 1)),
    "gradient-rgba": lambda: synthetic.with_alpha(_gradient(120, 90), seed=5),
    "photo": lambda: synthetic.textured_photo(300, 200, seed=6),
    "flat-black": lambda: _flat((0, 0, 0)),
    "flat-white": lambda: _flat((255, 255, 255)),
    "flat-mid-grey": lambda: _flat((128, 128, 128)),
    "flat-linear-segment": lambda: _flat((10, 10, 10)),
    "flat-power-segment": lambda: _flat((11, 11, 11)),
    "flat-colour": lambda: _flat((200, 40, 90)),
    "flat-blue": lambda: _flat((0, 0, 255)),
    "flat-transparent-red": lambda: _flat((255, 0, 0, 0)),
}


def text_of(pixels: np.ndarray, **options: Any) -> dict[str, Any]:
    """The `text` block of `analyze` on a PNG of `pixels` (under 512 px: analysed as is)."""
    result: dict[str, Any] = analyze(synthetic.png(pixels), "text", **options)
    return result["text"]


def raw_luminance(pixels: np.ndarray) -> tuple[float, float, float]:
    """The core's unrounded (mean, p5, p95) of the pixels."""
    height, width = pixels.shape[:2]
    stats = _core.pixel_statistics(pixels, width, height, layout_of(pixels), text=True)
    return stats.relative_luminance


def reference_luminance(pixels: np.ndarray) -> tuple[float, float, float]:
    y = relative_luminance(pixels).ravel()
    p5, p95 = np.percentile(y, [5, 95], method="linear")
    return float(y.mean()), float(p5), float(p95)


# --- 1. relative luminance and WCAG contrast -------------------------------------------------


@pytest.mark.parametrize("kind", IMAGES)
def test_the_core_measures_relative_luminance_as_wcag_defines_it(kind: str) -> None:
    pixels = IMAGES[kind]()
    mean, p5, p95 = raw_luminance(pixels)
    want_mean, want_p5, want_p95 = reference_luminance(pixels)
    assert mean == pytest.approx(want_mean, abs=MEAN_TOLERANCE)
    assert p5 == pytest.approx(want_p5, abs=PERCENTILE_TOLERANCE)
    assert p95 == pytest.approx(want_p95, abs=PERCENTILE_TOLERANCE)


def assert_rounded(got: float, exact: float, decimals: int, slack: float) -> None:
    """`got` is `exact` rounded to `decimals`, allowing `slack` of error in `exact` (a value
    near a rounding boundary may go either way)."""
    assert abs(got - exact) <= 0.5 * 10**-decimals + slack + 1e-12, (got, exact)


def contrast_slack(background: float, text: float, error: float) -> float:
    """How far an error of `error` in a background luminance moves its contrast with text."""
    return (max(background, text) + 0.05) / (min(background, text) + 0.05) ** 2 * error * 1.01


@pytest.mark.parametrize("kind", IMAGES)
def test_the_text_block_matches_wcag_computed_in_numpy(kind: str) -> None:
    pixels = IMAGES[kind]()
    text = text_of(pixels)
    mean, p5, p95 = reference_luminance(pixels)
    assert_rounded(text["relative_luminance"], mean, 4, MEAN_TOLERANCE)
    assert_rounded(text["relative_luminance_p5"], p5, 4, PERCENTILE_TOLERANCE)
    assert_rounded(text["relative_luminance_p95"], p95, 4, PERCENTILE_TOLERANCE)
    # The contrasts may come from the raw luminances or from the 4-decimal ones.
    mean_error, percentile_error = HALF_4_DECIMALS + MEAN_TOLERANCE, HALF_4_DECIMALS + 2e-5
    for colour, luminance, worst in (("white", 1.0, p95), ("black", 0.0, p5)):
        side = text[colour]
        assert_rounded(
            side["contrast"], contrast(luminance, mean), 2,
            contrast_slack(mean, luminance, mean_error),
        )  # fmt: skip
        assert_rounded(
            side["worst_contrast"], contrast(luminance, worst), 2,
            contrast_slack(worst, luminance, percentile_error),
        )  # fmt: skip
    white, black = contrast(1.0, p95), contrast(0.0, p5)
    if abs(white - black) > 0.02:  # clear of a tie the rounding could turn
        assert text["recommended_color"] == ("white" if white > black else "black")
        worst = max(white, black)
        if abs(worst - 4.5) > 0.01:
            assert text["aa"] is (worst >= 4.5)
            assert (text["scrim"] is None) is (worst >= 4.5)
        if abs(worst - 3.0) > 0.01:
            assert text["aa_large"] is (worst >= 3.0)


def test_black_and_white_pictures_have_the_extreme_ratios() -> None:
    """Exact figures: black text on white is 21:1, white on white 1:1; a picture half black,
    half white has a mean of 0.5 and worst patches of 0 and 1."""
    white = text_of(_flat((255, 255, 255)))
    assert (white["relative_luminance"], white["black"]["contrast"]) == (1.0, 21.0)
    assert (white["white"]["contrast"], white["white"]["worst_contrast"]) == (1.0, 1.0)
    assert white["recommended_color"] == "black" and white["aa"] and white["scrim"] is None
    halves = np.zeros((40, 40), dtype=np.uint8)
    halves[:, 20:] = 255
    text = text_of(halves)
    assert text["relative_luminance"] == 0.5
    assert (text["relative_luminance_p5"], text["relative_luminance_p95"]) == (0.0, 1.0)
    assert text["white"]["worst_contrast"] == text["black"]["worst_contrast"] == 1.0
    # The tie goes to the larger mean contrast: black (11:1) over white (1.91:1).
    assert (text["white"]["contrast"], text["black"]["contrast"]) == (1.91, 11.0)
    assert text["recommended_color"] == "black"
    assert (text["aa"], text["aa_large"]) == (False, False)
    assert text["scrim"]["color"] == "white"


def test_the_contrast_function_is_the_wcag_ratio() -> None:
    rng = np.random.default_rng(7)
    for l1, l2 in rng.uniform(0, 1, size=(200, 2)):
        assert readable.contrast_ratio(l1, l2) == pytest.approx(contrast(l1, l2), rel=1e-12)
    assert readable.contrast_ratio(1.0, 0.0) == pytest.approx(21.0)
    assert readable.contrast_ratio(0.3, 0.3) == 1.0


# --- 2. APCA ---------------------------------------------------------------------------------

#: APCA-W3 0.0.98G-4g test values, unrounded, as their author publishes them: the
#: `contrastResult` list of Myndex/apca-w3 test/index.js (the npm package's own tests), the
#: same as "TESTING YOUR IMPLEMENTATION" of the Myndex/SAPC-APCA README. Text, background, Lc.
APCA_PUBLISHED = [
    ("#888888", "#ffffff", 63.056469930209424),
    ("#ffffff", "#888888", -68.54146436644962),
    ("#000000", "#aaaaaa", 58.146262578561334),
    ("#aaaaaa", "#000000", -56.24113336839742),
    ("#112233", "#ddeeff", 91.66830811481631),
    ("#ddeeff", "#112233", -93.06770049484275),
    ("#112233", "#444444", 8.32326136957393),
    ("#444444", "#112233", -7.526878460278154),
]


def apca_screen_luminance(hex_colour: str) -> float:
    """APCA's sRGBtoY: each channel to the power 2.4, weighted by its own coefficients."""
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126729 * r**2.4 + 0.7151522 * g**2.4 + 0.0721750 * b**2.4


@pytest.mark.parametrize(("text", "background", "lc"), APCA_PUBLISHED)
def test_apca_gives_the_published_values(text: str, background: str, lc: float) -> None:
    got = readable.apca(apca_screen_luminance(text), apca_screen_luminance(background))
    assert got == pytest.approx(lc, abs=1e-9)


def test_apca_of_pictures_uses_the_grey_of_their_luminance() -> None:
    """A flat grey picture is that grey as a background: white text on #888888 and black text
    on #aaaaaa are two of the published pairs, rounded to one decimal."""
    assert text_of(_flat((0x88, 0x88, 0x88)))["white"]["apca"] == -68.5
    assert text_of(_flat((0x88, 0x88, 0x88)))["white"]["worst_apca"] == -68.5
    assert text_of(_flat((0xAA, 0xAA, 0xAA)))["black"]["apca"] == 58.1
    assert text_of(_flat((0xAA, 0xAA, 0xAA)))["black"]["worst_apca"] == 58.1


def test_apca_worst_values_use_the_worst_patches() -> None:
    """Half #888888, half #aaaaaa: white text is judged on #aaaaaa at worst, black text on
    #888888, as on flat pictures of those greys; the mean's grey lies between them."""
    halves = np.full((40, 40), 0x88, dtype=np.uint8)
    halves[:, 20:] = 0xAA
    text = text_of(halves)
    dark, light = text_of(_flat((0x88,) * 3)), text_of(_flat((0xAA,) * 3))
    assert text["white"]["worst_apca"] == light["white"]["apca"]
    assert text["black"]["worst_apca"] == dark["black"]["apca"]
    assert dark["white"]["apca"] < text["white"]["apca"] < light["white"]["apca"]
    assert dark["black"]["apca"] < text["black"]["apca"] < light["black"]["apca"]


# --- 3. the scrim ----------------------------------------------------------------------------


def composited(background: float, scrim: float, opacity: float) -> float:
    """Relative luminance of a grey background of relative luminance `background` under a scrim
    (0.0 black, 1.0 white) of `opacity`, blended in sRGB-encoded values as browsers blend."""
    v = encode_srgb(background)
    return float(linearise((1 - opacity) * v + opacity * scrim))


def assert_least_opacity(text: float, background: float, target: float, opacity: float) -> None:
    """`opacity` is a multiple of 0.01 at which the composite reaches `target` with text of
    relative luminance `text`, and 0.01 less does not; 0.0 exactly when no scrim is needed."""
    scrim = 0.0 if text == 1.0 else 1.0
    assert 0.0 <= opacity <= 1.0 and round(opacity, 2) == opacity, opacity
    if opacity == 0:
        assert contrast(text, background) >= target, background
        return
    reaches = contrast(text, composited(background, scrim, opacity))
    assert reaches >= target, (background, opacity, reaches)
    if opacity > 0.01:
        below = contrast(text, composited(background, scrim, round(opacity - 0.01, 2)))
    else:
        below = contrast(text, background)  # 0.01 less is no scrim at all
    assert below < target, (background, opacity, below)


#: Backgrounds: a fine sweep, both ends, and the luminances at which each colour just meets
#: AA or AA-large with no scrim (and a hair under them).
SCRIM_BACKGROUNDS = sorted(
    {*np.linspace(0.0, 1.0, 401).tolist(), 1e-6, 1 - 1e-6}
    | {1.05 / t - 0.05 for t in (4.5, 3.0)}
    | {1.05 / t - 0.05 + 1e-9 for t in (4.5, 3.0)}
    | {0.05 * t - 0.05 for t in (4.5, 3.0)}
    | {0.05 * t - 0.05 - 1e-9 for t in (4.5, 3.0)}
)


@pytest.mark.parametrize("target", [4.5, 3.0], ids=["aa", "aa-large"])
@pytest.mark.parametrize("text", [1.0, 0.0], ids=["white-text", "black-text"])
def test_the_scrim_opacity_is_the_least_that_reaches_the_target(
    text: float, target: float
) -> None:
    needed = 0
    for background in SCRIM_BACKGROUNDS:
        opacity = readable.scrim_opacity(text, background, target)
        assert_least_opacity(text, background, target, opacity)
        needed += opacity > 0
    assert min(needed, len(SCRIM_BACKGROUNDS) - needed) >= 20  # the sweep covers both cases


def test_the_scrim_edge_cases() -> None:
    # Already passing: no scrim.
    assert readable.scrim_opacity(1.0, 0.0, 4.5) == 0.0
    assert readable.scrim_opacity(0.0, 1.0, 4.5) == 0.0
    # White text on pure white needs a black scrim of a bit over half (the sRGB value of the
    # luminance 1.05 / 4.5 - 0.05 is 0.4656...: 1 - 0.4656 = 0.5344 -> 0.54); black text on
    # pure black a white one of the sRGB value of 0.175 (0.4560... -> 0.46).
    assert readable.scrim_opacity(1.0, 1.0, 4.5) == 0.54
    assert readable.scrim_opacity(0.0, 0.0, 4.5) == 0.46
    for text, background in ((1.0, 1.0), (0.0, 0.0)):
        for target in (4.5, 3.0):
            assert_least_opacity(
                text, background, target, readable.scrim_opacity(text, background, target)
            )


SCRIM_IMAGES: dict[str, Callable[[], np.ndarray]] = {
    "noise": lambda: _noise((40, 50, 3), seed=8),
    "photo": lambda: synthetic.textured_photo(120, 80, seed=9),
    "black-and-white": lambda: np.repeat(np.array([[0, 255]], dtype=np.uint8), 30, axis=0),
    "mid-grey-and-white": lambda: np.repeat(np.array([[118, 255]], dtype=np.uint8), 30, axis=0),
    "dark-and-mid-grey": lambda: np.repeat(np.array([[0, 150]], dtype=np.uint8), 30, axis=0),
    "gradient": lambda: _gradient(100, 60),
    "flat-grey": lambda: _flat((128, 128, 128)),
}


@pytest.mark.parametrize("kind", SCRIM_IMAGES)
def test_the_reported_scrim_reaches_the_target_on_the_worst_patch(kind: str) -> None:
    pixels = SCRIM_IMAGES[kind]()
    text = text_of(pixels)
    _, p5, p95 = raw_luminance(pixels)  # the values the service rounds for its response
    colour = text["recommended_color"]
    text_luminance, worst = (1.0, p95) if colour == "white" else (0.0, p5)
    if text["aa"]:
        assert text["scrim"] is None
        return
    assert text["scrim"]["color"] == ("black" if colour == "white" else "white")
    assert_least_opacity(text_luminance, worst, 4.5, text["scrim"]["opacity_aa"])
    assert_least_opacity(text_luminance, worst, 3.0, text["scrim"]["opacity_aa_large"])
    assert (text["scrim"]["opacity_aa_large"] == 0.0) is text["aa_large"]


# --- 6. regions ------------------------------------------------------------------------------

#: Every metric with fields in a region.
REGION_METRICS = "brightness,median,histogram,contrast,sharpness,entropy,colorfulness,colors,text"
#: The fields of a region that are not measurements.
GEOMETRY = ("name", "x", "y", "w", "h")


def covered(start: Fraction, length: Fraction, size: int) -> slice:
    """The pixels of an axis of `size` whose centres lie in [start, start + length), in exact
    arithmetic; when no centre does (a region thinner than a pixel), the pixel under its
    middle."""
    inside = [i for i in range(size) if start <= Fraction(2 * i + 1, 2 * size) < start + length]
    if not inside:
        middle = int((start + length / 2) * size)
        return slice(middle, middle + 1)
    return slice(inside[0], inside[-1] + 1)


def measurements(fields: dict[str, Any]) -> dict[str, Any]:
    """The measured fields of a region or of a whole-image answer."""
    return {
        name: value
        for name, value in fields.items()
        if name not in (*GEOMETRY, "width", "height", "algorithm", "regions", "placeholder")
    }


#: A 200 x 120 picture of flat rectangles: a red top fifth, a blue bottom quarter, a green
#: left tenth between them, the rest mid grey, and a white 40 x 24 block in the middle.
RED, BLUE, GREEN, GREY, WHITE = (220, 30, 30), (20, 40, 200), (30, 180, 60), (128,) * 3, (255,) * 3


def known_picture() -> np.ndarray:
    pixels = np.empty((120, 200, 3), dtype=np.uint8)
    pixels[:] = GREY
    pixels[:24] = RED  # top:20
    pixels[90:] = BLUE  # bottom:25
    pixels[24:90, :20] = GREEN  # the left tenth between them
    pixels[48:72, 80:120] = WHITE  # center:20
    return pixels


def hex_colour(rgb: tuple[int, ...]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def rec709(rgb: tuple[int, ...]) -> float:
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


def test_regions_of_flat_rectangles_have_their_colour() -> None:
    result = analyze(
        synthetic.png(known_picture()),
        REGION_METRICS,
        regions="top;bottom:25;center:20;band=0,0.2,0.1,0.55",
    )
    named = {region["name"]: region for region in result["regions"]}
    assert list(named) == ["top", "bottom", "center", "band"]
    assert [(r["x"], r["y"], r["w"], r["h"]) for r in result["regions"]] == [
        (0.0, 0.0, 1.0, 0.2), (0.0, 0.75, 1.0, 0.25), (0.4, 0.4, 0.2, 0.2), (0.0, 0.2, 0.1, 0.55),
    ]  # fmt: skip
    for name, colour in (("top", RED), ("bottom", BLUE), ("center", WHITE), ("band", GREEN)):
        region = named[name]
        luminance = float(relative_luminance(np.array([[colour]], dtype=np.uint8))[0, 0])
        assert region["average_color"] == hex_colour(colour), name
        assert region["dominant_colors"] == [{"color": hex_colour(colour), "percent": 100.0}]
        assert region["average_luminance"] == round(rec709(colour), 2), name
        assert region["median_luminance"] == round(rec709(colour), 2), name
        assert region["contrast_rms"] == 0.0, name
        assert region["text"]["relative_luminance"] == round(luminance, 4), name
        assert region["text"]["relative_luminance_p5"] == round(luminance, 4), name
        assert region["text"]["relative_luminance_p95"] == round(luminance, 4), name
        assert sum(b["percent"] for b in region["histogram"]) == pytest.approx(100.0)


def test_a_region_straddling_rectangles_counts_each_pixel_once() -> None:
    """x 0.05..0.15, y 0.1..0.3: 20 x 12 pixels of red above 10 x 12 of green and 10 x 12 of
    grey."""
    data = synthetic.png(known_picture())
    result = analyze(data, "brightness,colors", regions="0.05,0.1,0.1,0.2")
    region = result["regions"][0]
    assert region["name"] == "region-1"
    # Rows 12..35 (24 rows), columns 10..29 (20 columns): 12 rows of red, then 12 rows whose
    # first 10 columns are green and last 10 grey.
    expected = [RED] * (20 * 12) + ([GREEN] * 10 + [GREY] * 10) * 12
    luma = np.array([rec709(c) for c in expected])
    assert region["average_luminance"] == round(float(luma.mean()), 2)
    percents = {c["color"]: c["percent"] for c in region["dominant_colors"]}
    assert percents == {hex_colour(RED): 50.0, hex_colour(GREEN): 25.0, hex_colour(GREY): 25.0}


#: Regions as sent, and their geometry as the spec defines it, in exact decimals.
CROPS = {
    "top": ("0", "0", "1", "0.2"),
    "bottom:25": ("0", "0.75", "1", "0.25"),
    "left:33.3": ("0", "0", "0.333", "1"),
    "right:7": ("0.93", "0", "0.07", "1"),
    "center": ("0.25", "0.25", "0.5", "0.5"),
    "CENTER:12.5": ("0.4375", "0.4375", "0.125", "0.125"),
    "0.13,0.27,0.41,0.5": ("0.13", "0.27", "0.41", "0.5"),
    "0,0,0.004,1": ("0", "0", "0.004", "1"),  # exactly one column
    "0.5,0.2,0.001,0.0001": ("0.5", "0.2", "0.001", "0.0001"),  # thinner than a pixel
}


@pytest.mark.parametrize("spec", CROPS)
def test_a_region_equals_the_analysis_of_its_crop(spec: str) -> None:
    """Each region has the fields the whole-image analysis gives the pixels whose centres are
    inside it (cropped here by the spec's rule, independently of the service)."""
    pixels = synthetic.textured_photo(250, 160, seed=10)
    region = analyze(synthetic.png(pixels), REGION_METRICS, regions=spec)["regions"][0]
    x, y, w, h = (Fraction(v) for v in CROPS[spec])
    assert (region["x"], region["y"], region["w"], region["h"]) == pytest.approx(
        (float(x), float(y), float(w), float(h)), abs=1e-12
    )
    crop = np.ascontiguousarray(pixels[covered(y, h, 160), covered(x, w, 250)])
    expected = analyze(synthetic.png(crop), REGION_METRICS)
    assert measurements(region) == measurements(expected)


def test_the_whole_image_as_a_region_is_the_whole_image() -> None:
    data = synthetic.png(synthetic.textured_photo(230, 170, seed=12))
    result = analyze(data, REGION_METRICS, regions="all=0,0,1,1;center:100")
    whole = measurements(result)
    assert measurements(result["regions"][0]) == whole
    assert measurements(result["regions"][1]) == whole
    assert result["regions"][0]["name"] == "all" and result["regions"][1]["name"] == "center"


# --- regions of EXIF-turned pictures ---------------------------------------------------------

#: For each EXIF orientation, how the stored pixels are made from the upright picture: the
#: inverse of the turn a viewer applies (Pillow's `exif_transpose` checks it below).
STORED_FROM_UPRIGHT = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def with_orientation(upright: np.ndarray, orientation: int, fmt: str) -> bytes:
    image = Image.fromarray(upright)
    transpose = STORED_FROM_UPRIGHT[orientation]
    stored = image if transpose is None else image.transpose(transpose)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    options: dict[str, Any] = {"quality": 95, "subsampling": 0} if fmt == "JPEG" else {}
    stored.save(buffer, fmt, exif=exif.tobytes(), **options)
    data = buffer.getvalue()
    viewed = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert viewed.size == image.size  # a viewer sees the upright picture
    if fmt == "PNG":
        assert np.array_equal(np.asarray(viewed), upright)
    return data


#: Five regions of the upright picture that `turnable_picture` paints in five colours.
STRIPS = "t=0.1,0,0.8,0.1;b=0.1,0.9,0.8,0.1;l=0,0.1,0.1,0.8;r=0.9,0.1,0.1,0.8;center:20"
STRIP_COLOURS = (RED, BLUE, GREEN, WHITE, (0, 0, 0))


def turnable_picture() -> np.ndarray:
    """A 160 x 100 upright picture, grey with a red top edge, a blue bottom edge, a green
    left edge, a white right edge (between the two) and a black centre."""
    pixels = np.full((100, 160, 3), 128, dtype=np.uint8)
    pixels[:10] = RED
    pixels[90:] = BLUE
    pixels[10:90, :16] = GREEN
    pixels[10:90, 144:] = WHITE
    pixels[40:60, 64:96] = (0, 0, 0)
    return pixels


@pytest.mark.parametrize("orientation", range(1, 9))
def test_regions_of_an_exif_turned_png_are_those_of_the_upright_picture(orientation: int) -> None:
    upright = turnable_picture()
    expected = analyze(synthetic.png(upright), REGION_METRICS, regions=STRIPS)
    turned = analyze(with_orientation(upright, orientation, "PNG"), REGION_METRICS, regions=STRIPS)
    assert turned.get("orientation", 1) == orientation
    assert turned["regions"] == expected["regions"]
    assert [r["average_color"] for r in turned["regions"]] == list(map(hex_colour, STRIP_COLOURS))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_regions_of_an_exif_turned_jpeg_are_those_of_the_upright_picture(
    orientation: int,
) -> None:
    """JPEG is lossy: each region's colour is its rectangle's within a few levels (a region
    turned wrongly would average two or more of the five colours)."""
    upright = turnable_picture()
    turned = analyze(with_orientation(upright, orientation, "JPEG"), "colors,text", regions=STRIPS)
    assert turned.get("orientation", 1) == orientation
    for region, colour in zip(turned["regions"], STRIP_COLOURS, strict=True):
        got = [int(region["average_color"][i : i + 2], 16) for i in (1, 3, 5)]
        assert max(abs(g - c) for g, c in zip(got, colour, strict=True)) <= 6, region
        luminance = float(relative_luminance(np.array([[colour]], dtype=np.uint8))[0, 0])
        assert region["text"]["relative_luminance"] == pytest.approx(luminance, abs=0.02)
