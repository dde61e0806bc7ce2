"""Colour management, held to an implementation that shares nothing with LittleCMS: profiles
built from the published primaries (tests/support/icc.py), pixels rendered to sRGB in
float64 NumPy, and the service's numbers for a profiled file compared with its numbers for
the rendered sRGB image saved without a profile.

Tolerances are one 8-bit level: LittleCMS and the float64 path agree to within rounding for
matrix/TRC profiles (see icc.to_srgb), so every pixel lands within one level on each
channel, and then so do means, medians, percentiles and the RMS contrast (each moves by at
most the largest per-pixel change).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from PIL import Image

import image_insights
from tests.support import icc, synthetic
from tests.support.http_helpers import multipart
from tests.support.reference import BUCKET_COUNT, BUCKET_WIDTH_SCALED, scaled_luminance

METRICS = "brightness,median,histogram,colors,colorfulness,contrast"
#: One 8-bit level on the 0-255 scale; brightness_score is an integer, so one score point.
LEVEL = 1.0
#: Metrics whose value moves by at most the largest per-pixel luminance change.
LUMINANCE_FIELDS = ("average_luminance", "median_luminance", "contrast_rms",
                    "luminance_p5", "luminance_p95")  # fmt: skip
#: Colourfulness is σ_rgyb + 0.3 μ_rgyb of rg = R - G and yb = (R + G)/2 - B: with every
#: channel within one level, rg and yb move by at most two, and the score by at most
#: √8 + 0.3·√8 ≈ 3.7. Rounding errors of the two renderings are unbiased and small, so the
#: test asks for far less than that bound: one level.
COLORFULNESS_TOLERANCE = 1.0
SIZE = (192, 128)


# --- the synthetic images (all within the 512 px analysis size, so no resampling) ----------


def gradients() -> np.ndarray:
    w, h = SIZE
    x = np.linspace(0, 255, w)[None, :]
    y = np.linspace(0, 255, h)[:, None]
    rgb = np.stack(np.broadcast_arrays(x, y, 255 - (x + y) / 2), axis=-1)
    return np.round(rgb).astype(np.uint8)


#: Pure and strong colours, most outside sRGB once read as Display P3 or Adobe RGB, and
#: muted ones inside it.
PATCH_COLOURS = [
    (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255),
    (230, 40, 30), (40, 200, 60), (180, 90, 60), (60, 140, 200), (120, 160, 90), (200, 180, 40),
]  # fmt: skip


def saturated_patches() -> np.ndarray:
    w, h = SIZE
    tiles = np.array(PATCH_COLOURS, dtype=np.uint8).reshape(3, 4, 3)
    return np.repeat(np.repeat(tiles, h // 3, axis=0), w // 4, axis=1)


def flat_grey() -> np.ndarray:
    w, h = SIZE
    return np.full((h, w, 3), 128, dtype=np.uint8)


def photo_like() -> np.ndarray:
    return synthetic.textured_photo(*SIZE, seed=18)


IMAGES: dict[str, Callable[[], np.ndarray]] = {
    "gradients": gradients, "saturated": saturated_patches, "flat grey": flat_grey,
    "photo-like": photo_like,
}  # fmt: skip
SPACES = {"display-p3": icc.DISPLAY_P3, "adobe-rgb": icc.ADOBE_RGB}


# --- encoders with an embedded profile -----------------------------------------------------


def encode(pixels: np.ndarray, fmt: str, profile: bytes | None) -> bytes:
    """`pixels` as PNG, JPEG (quality 100, 4:4:4), lossless WebP, TIFF, AVIF (4:4:4) or
    HEIF (libheif's lossless mode), with `profile` embedded (iCCP chunk, APP2 ICC_PROFILE
    segments, ICCP chunk, tag 34675, colr box)."""
    image = Image.fromarray(np.ascontiguousarray(pixels))
    buffer = io.BytesIO()
    if fmt == "HEIF":  # through pillow-heif's own API: registering its opener is global
        import pillow_heif

        if profile is not None:
            image.info["icc_profile"] = profile
        pillow_heif.from_pillow(image).save(buffer, quality=-1)
        return buffer.getvalue()
    options: dict[str, Any] = {"icc_profile": profile} if profile is not None else {}
    if fmt == "JPEG":
        options.update(quality=100, subsampling=0)
    elif fmt == "WEBP":
        options.update(lossless=True)
    elif fmt == "AVIF":
        from pillow_avif import AvifImagePlugin  # noqa: F401  (registers AVIF, as the service does)

        options.update(quality=90, subsampling="4:4:4")
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def decoded(data: bytes) -> np.ndarray:
    """The 8-bit pixels a second reader decodes (the lossy formats' samples, which the
    profile describes): Pillow, or pillow-heif for HEIF."""
    if data[4:12] in (b"ftypheic", b"ftypmif1"):
        import pillow_heif

        return np.asarray(pillow_heif.open_heif(data, convert_hdr_to_8bit=True))
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode in ("L", "RGB"), image.mode
        return np.asarray(image)


def analyze(data: bytes) -> dict[str, Any]:
    return image_insights.analyze(data, metrics=METRICS)


def hex_channels(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])


# --- the comparison ------------------------------------------------------------------------


def cumulative_bounds(srgb: np.ndarray, shift_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Percent of pixels below each histogram bucket's upper edge, at least and at most, when
    each pixel's luminance may differ from `srgb`'s by `shift_levels` levels."""
    layout = "L" if srgb.ndim == 2 else "RGB"
    scaled = scaled_luminance(srgb, layout).ravel()
    edges = BUCKET_WIDTH_SCALED * np.arange(1, BUCKET_COUNT + 1)
    shift = shift_levels * 10_000
    lowest = np.array([(scaled + shift < edge).mean() for edge in edges]) * 100
    highest = np.array([(scaled - shift <= edge).mean() for edge in edges]) * 100
    return lowest, highest


def differences(result: dict[str, Any], expected: dict[str, Any], srgb: np.ndarray | None,
                shift_levels: int = 1) -> list[str]:
    """What in `result` lies further from `expected` than the tolerances allow (empty when
    the two agree). With the rendered `srgb` pixels, the histogram is checked too: its
    cumulative percentages must lie between those of the rendering shifted down and up."""
    problems = []

    def check(name: str, got: float, want: float, tolerance: float) -> None:
        if abs(got - want) > tolerance:
            problems.append(f"{name}: {got} vs {want} (tolerance {tolerance})")

    check("brightness_score", result["brightness_score"], expected["brightness_score"], 1)
    for name in LUMINANCE_FIELDS:
        check(name, result[name], expected[name], LEVEL * shift_levels)
    if expected["colorfulness"] is not None:
        check("colorfulness", result["colorfulness"] or 0.0, expected["colorfulness"],
              COLORFULNESS_TOLERANCE * shift_levels)  # fmt: skip
    got, want = hex_channels(result["average_color"]), hex_channels(expected["average_color"])
    for channel, g, e in zip("RGB", got, want, strict=True):
        check(f"average_color {channel}", g, e, LEVEL * shift_levels)
    if srgb is not None:
        percents = np.array([bucket["percent"] for bucket in result["histogram"]])
        cumulative = np.cumsum(percents)
        slack = 0.05 * np.arange(1, BUCKET_COUNT + 1) + 1e-9  # each percent rounded to 0.1
        lowest, highest = cumulative_bounds(srgb, shift_levels)
        if np.any(cumulative < lowest - slack) or np.any(cumulative > highest + slack):
            problems.append(f"histogram {list(percents)} outside {lowest} .. {highest}")
    return problems


def short_name(space: icc.RgbSpace) -> str:
    return space.name.split(" (")[0]


# --- the profile builder, read back ------------------------------------------------------

#: Published RGB-to-XYZ matrices. Lindbloom's tables (sRGB and Adobe RGB under D65, and
#: adapted to D50 with Bradford) use his own whites, D65 = (0.95047, 1, 1.08883) and
#: D50 = (0.96422, 1, 0.82521); CSS Color 4 (Display P3, and linear P3 to linear sRGB) uses
#: D65 from its chromaticity (0.3127, 0.3290), as the profiles here do.
LINDBLOOM_D65 = np.array([0.95047, 1.0, 1.08883])
LINDBLOOM_D50 = np.array([0.96422, 1.0, 0.82521])
LINDBLOOM = {
    "sRGB D65": [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                 [0.0193339, 0.1191920, 0.9503041]],
    "sRGB D50": [[0.4360747, 0.3850649, 0.1430804], [0.2225045, 0.7168786, 0.0606169],
                 [0.0139322, 0.0971045, 0.7141733]],
    "Adobe D50": [[0.6097559, 0.2052401, 0.1492240], [0.3111242, 0.6256560, 0.0632197],
                  [0.0194811, 0.0608902, 0.7448387]],
}  # fmt: skip
CSS_P3_D65 = [[0.4865709, 0.2656677, 0.1982173], [0.2289746, 0.6917385, 0.0792869],
              [0.0000000, 0.0451134, 1.0439444]]  # fmt: skip
CSS_P3_TO_SRGB = [[1.2249401, -0.2249404, 0.0], [-0.0420569, 1.0420571, 0.0],
                  [-0.0196376, -0.0786361, 1.0982735]]  # fmt: skip


def test_matrices_match_the_published_ones() -> None:
    srgb_d65 = icc.rgb_to_xyz(icc.SRGB.primaries, LINDBLOOM_D65)
    assert np.allclose(srgb_d65, LINDBLOOM["sRGB D65"], atol=1e-6)
    adapt = icc.bradford(LINDBLOOM_D65, LINDBLOOM_D50)
    assert np.allclose(adapt @ srgb_d65, LINDBLOOM["sRGB D50"], atol=1e-6)
    adobe_d65 = icc.rgb_to_xyz(icc.ADOBE_RGB.primaries, LINDBLOOM_D65)
    assert np.allclose(adapt @ adobe_d65, LINDBLOOM["Adobe D50"], atol=1e-6)
    assert np.allclose(icc.DISPLAY_P3.to_xyz, CSS_P3_D65, atol=1e-6)
    # The Bradford steps cancel: through the D50 PCS or directly under D65, the same matrix.
    through_pcs = np.linalg.inv(icc.SRGB.to_pcs) @ icc.DISPLAY_P3.to_pcs
    assert np.allclose(through_pcs, CSS_P3_TO_SRGB, atol=1e-6)
    assert np.allclose(through_pcs, np.linalg.inv(icc.SRGB.to_xyz) @ icc.DISPLAY_P3.to_xyz)
    # The ICC's D50 and D65 from xy move the adapted sRGB matrix by less than 1e-3.
    assert np.allclose(icc.SRGB.to_pcs, LINDBLOOM["sRGB D50"], atol=1e-3)


def test_bradford_sends_d65_to_the_pcs_white() -> None:
    adaptation = icc.bradford(icc.D65_XYZ, icc.D50_XYZ)
    assert np.allclose(adaptation @ icc.D65_XYZ, icc.D50_XYZ, atol=1e-12)
    assert np.allclose(icc.bradford(icc.D50_XYZ, icc.D65_XYZ) @ adaptation, np.eye(3))


@pytest.mark.parametrize("version", [2, 4])
@pytest.mark.parametrize("space", [icc.SRGB, icc.DISPLAY_P3, icc.ADOBE_RGB], ids=short_name)
def test_rgb_profile_reads_back(space: icc.RgbSpace, version: int) -> None:
    profile = icc.parse(icc.rgb_profile(space, version=version))
    assert profile.signature == b"acsp"
    assert profile.version == (icc.VERSION_4_3 if version == 4 else icc.VERSION_2_4)
    assert (profile.device_class, profile.colour_space, profile.pcs) == (b"mntr", b"RGB ",
                                                                          b"XYZ ")
    assert profile.intent == 0
    assert np.allclose(profile.illuminant, icc.D50_XYZ, atol=1 / icc.FIXED_ONE)
    assert profile.description() == space.name
    colorants = profile.colorants()
    assert np.allclose(colorants, space.to_pcs, atol=1 / icc.FIXED_ONE)
    # White in (all channels at 1) is the PCS white out: the colorants are adapted to D50.
    assert np.allclose(colorants.sum(axis=1), icc.D50_XYZ, atol=3 / icc.FIXED_ONE)
    levels = np.linspace(0, 1, 256)
    for tag in (b"rTRC", b"gTRC", b"bTRC"):
        assert np.allclose(profile.curve(tag, levels), space.transfer.decode(levels), atol=2e-5)
    white = b"chad" if version == 4 else b"wtpt"
    assert white in profile.tags


def test_sampled_curve_reads_back() -> None:
    profile = icc.parse(icc.display_p3(table_size=1024))
    levels = np.linspace(0, 1, 256)
    assert profile.tags[b"rTRC"][:4] == b"curv"
    assert np.allclose(profile.curve(b"rTRC", levels), icc.SRGB_CURVE.decode(levels), atol=1e-4)


def test_grey_profile_reads_back() -> None:
    profile = icc.parse(icc.grey_gamma_18())
    assert (profile.device_class, profile.colour_space, profile.pcs) == (b"mntr", b"GRAY",
                                                                          b"XYZ ")
    assert profile.description() == icc.GREY_18_NAME
    levels = np.linspace(0, 1, 256)
    assert np.allclose(profile.curve(b"kTRC", levels), np.power(levels, 1.8), atol=1e-3)
    assert struct.unpack(">H", profile.tags[b"kTRC"][12:14]) == (461,)


# --- the NumPy rendering ---------------------------------------------------------------


def test_rendering_srgb_is_the_identity() -> None:
    every = np.stack(np.meshgrid(np.arange(256), np.arange(256), [0, 77, 255]), -1)
    every = every.reshape(-1, 3).astype(np.uint8)
    assert np.array_equal(icc.to_srgb(every, icc.SRGB), every)


def test_rendering_keeps_greys_neutral() -> None:
    greys = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    # Display P3 shares sRGB's white and curve: its greys are sRGB's greys.
    assert np.array_equal(icc.to_srgb(greys, icc.DISPLAY_P3), greys)
    adobe = icc.to_srgb(greys, icc.ADOBE_RGB)
    assert np.all(np.abs(adobe.astype(int) - adobe[:, :1]) <= 0)
    expected = np.round(icc.SRGB_CURVE.encode((np.arange(256) / 255) ** (563 / 256)) * 255)
    assert np.array_equal(adobe[:, 0], expected)
    grey = icc.to_srgb(np.arange(256, dtype=np.uint8), icc.GREY_18)
    assert grey.shape == (256, 3)
    assert grey[0].tolist() == [0, 0, 0] and grey[255].tolist() == [255, 255, 255]
    # A gamma-1.8 level stands for more light than the same sRGB level: lighter mid-tones.
    expected = np.round(icc.SRGB_CURVE.encode((np.arange(256) / 255) ** (461 / 256)) * 255)
    assert np.array_equal(grey[:, 0], expected) and grey[128, 0] > 128


def test_rendering_clips_wide_gamut_primaries() -> None:
    primaries = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], dtype=np.uint8)
    assert icc.to_srgb(primaries, icc.DISPLAY_P3).tolist() == primaries.tolist()
    # An in-gamut P3 colour goes through the published matrix, unclipped.
    colour = np.array([[180, 90, 60]], dtype=np.uint8)
    linear = icc.SRGB_CURVE.decode(colour / 255) @ np.array(CSS_P3_TO_SRGB).T
    expected = np.round(icc.SRGB_CURVE.encode(linear) * 255)
    assert np.abs(icc.to_srgb(colour, icc.DISPLAY_P3).astype(int) - expected).max() <= 0


def _system_lcms() -> Any:
    """The system's LittleCMS through ctypes, or None: only to cross-check the builder and
    the rendering against the CMM the service uses, never as the reference."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("lcms2")
    if name is None:
        return None
    lcms = ctypes.CDLL(name)
    lcms.cmsOpenProfileFromMem.restype = ctypes.c_void_p
    lcms.cmsOpenProfileFromMem.argtypes = [ctypes.c_char_p, ctypes.c_uint32]
    lcms.cmsCreate_sRGBProfile.restype = ctypes.c_void_p
    lcms.cmsCreateTransform.restype = ctypes.c_void_p
    lcms.cmsCreateTransform.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p,
                                        ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32]
    lcms.cmsDoTransform.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                    ctypes.c_uint32]
    lcms.cmsDeleteTransform.argtypes = [ctypes.c_void_p]
    lcms.cmsCloseProfile.argtypes = [ctypes.c_void_p]
    lcms.cmsGetProfileInfoASCII.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p,
                                            ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32]
    return lcms


#: LittleCMS pixel formats: COLORSPACE_SH(PT_RGB = 4 or PT_GRAY = 3) | CHANNELS_SH | BYTES_SH.
TYPE_RGB_8 = (4 << 16) | (3 << 3) | 1
TYPE_GRAY_8 = (3 << 16) | (1 << 3) | 1
LCMS = _system_lcms()


def lcms_to_srgb(profile: bytes, pixels: np.ndarray, intent: int = 0) -> tuple[np.ndarray, str]:
    """`pixels` converted by LittleCMS from `profile` to its built-in sRGB, and the
    profile's description as LittleCMS reads it."""
    import ctypes

    source = LCMS.cmsOpenProfileFromMem(profile, len(profile))
    assert source, "LittleCMS refused the profile"
    target = LCMS.cmsCreate_sRGBProfile()
    in_format = TYPE_GRAY_8 if pixels.ndim == 2 else TYPE_RGB_8
    transform = LCMS.cmsCreateTransform(source, in_format, target, TYPE_RGB_8, intent, 0)
    assert transform, "LittleCMS made no transform"
    flat = np.ascontiguousarray(pixels).tobytes()
    count = pixels.shape[0] * pixels.shape[1]
    out = ctypes.create_string_buffer(count * 3)
    LCMS.cmsDoTransform(transform, flat, out, count)
    name = ctypes.create_string_buffer(256)
    LCMS.cmsGetProfileInfoASCII(source, 0, b"en", b"US", name, 256)
    for release, handle in ((LCMS.cmsDeleteTransform, transform),
                            (LCMS.cmsCloseProfile, source), (LCMS.cmsCloseProfile, target)):
        release(handle)  # fmt: skip
    converted = np.frombuffer(out.raw, dtype=np.uint8).reshape(pixels.shape[:2] + (3,))
    return converted, name.value.decode("ascii")


#: Every 8-bit colour on a coarse lattice and the photo-like field.
def _lattice() -> np.ndarray:
    steps = np.arange(0, 256, 15, dtype=np.uint8)
    return np.stack(np.meshgrid(steps, steps, steps), -1).reshape(1, -1, 3)


@pytest.mark.skipif(LCMS is None, reason="no system LittleCMS to cross-check with")
@pytest.mark.parametrize("version", [2, 4])
@pytest.mark.parametrize("intent", [0, 1], ids=["perceptual", "relative"])
@pytest.mark.parametrize("space", [icc.DISPLAY_P3, icc.ADOBE_RGB, icc.SRGB],
                         ids=short_name)  # fmt: skip
def test_rendering_agrees_with_system_lcms(space: icc.RgbSpace, intent: int,
                                           version: int) -> None:
    profile = icc.rgb_profile(space, version=version)
    for pixels in (_lattice(), photo_like()):
        converted, name = lcms_to_srgb(profile, pixels, intent)
        difference = np.abs(converted.astype(int) - icc.to_srgb(pixels, space))
        assert difference.max() <= 1, np.argwhere(difference > 1)[:5]
        assert name == space.name


@pytest.mark.skipif(LCMS is None, reason="no system LittleCMS to cross-check with")
def test_grey_rendering_agrees_with_system_lcms() -> None:
    grey = np.arange(256, dtype=np.uint8).reshape(16, 16)
    converted, name = lcms_to_srgb(icc.grey_gamma_18(), grey)
    assert np.abs(converted.astype(int) - icc.to_srgb(grey, icc.GREY_18)).max() <= 1
    assert name == icc.GREY_18_NAME


# --- the service ---------------------------------------------------------------------------


def supported(fmt: str) -> bool:
    name = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "TIFF": "tiff", "AVIF": "avif",
            "HEIF": "heif"}[fmt]  # fmt: skip
    return name in getattr(image_insights, "SUPPORTED_FORMATS", ("jpeg", "png"))


FORMATS = [pytest.param(fmt, marks=pytest.mark.skipif(not supported(fmt),
                                                      reason=f"{fmt} not supported here"))
           for fmt in ("PNG", "JPEG", "WEBP", "TIFF", "AVIF", "HEIF")]  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("space_name", SPACES)
@pytest.mark.parametrize("image_name", IMAGES)
def test_profiled_image_is_analysed_in_srgb(image_name: str, space_name: str, fmt: str) -> None:
    space = SPACES[space_name]
    data = encode(IMAGES[image_name](), fmt, icc.rgb_profile(space))
    rendered = icc.to_srgb(decoded(data), space)
    result = analyze(data)
    expected = analyze(encode(rendered, "PNG", None))
    assert "color_profile" not in expected
    assert result.get("color_profile") == {
        "source": "icc", "description": space.name, "converted_to": "sRGB",
    }  # fmt: skip
    # A JPEG's pixels come from the service's own decoder, the reference's from libjpeg:
    # they may differ by a level of their own. AVIF and HEIF are decoded by the same
    # libraries on both sides.
    shift = 2 if fmt == "JPEG" else 1
    assert differences(result, expected, rendered, shift) == []


@pytest.mark.parametrize(
    "profile, description",
    [(icc.display_p3(version=4), icc.DISPLAY_P3.name),
     (icc.display_p3(table_size=1024), icc.DISPLAY_P3.name),
     (icc.display_p3(description="Display P3"), "Display P3")],
    ids=["v4 mluc description", "sampled sRGB curve", "short name"],
)  # fmt: skip
def test_profile_variants_from_the_wild(profile: bytes, description: str) -> None:
    pixels = saturated_patches()
    result = analyze(encode(pixels, "PNG", profile))
    expected = analyze(encode(icc.to_srgb(pixels, icc.DISPLAY_P3), "PNG", None))
    assert result.get("color_profile", {}).get("description") == description
    assert differences(result, expected, icc.to_srgb(pixels, icc.DISPLAY_P3)) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_profile_larger_than_a_jpeg_segment(fmt: str) -> None:
    """A 100 kB profile (a private tag beside the matrix and curves): a JPEG carries it in
    two APP2 segments that the reader must join in order."""
    padding = icc.data_type(bytes(range(256)) * 400)
    profile = icc.display_p3(extra_tags=((b"zzzz", padding),))
    data = encode(saturated_patches(), fmt, profile)
    if fmt == "JPEG":
        assert data.count(b"ICC_PROFILE\0") == 2
    rendered = icc.to_srgb(decoded(data), icc.DISPLAY_P3)
    result = analyze(data)
    assert result.get("color_profile", {}).get("description") == icc.DISPLAY_P3.name
    expected = analyze(encode(rendered, "PNG", None))
    assert differences(result, expected, rendered, 2 if fmt == "JPEG" else 1) == []


@pytest.mark.parametrize("space_name", SPACES)
def test_conversion_is_not_a_no_op(space_name: str) -> None:
    """The same pixels without their profile are read as sRGB, and the comparison above
    tells them apart from the rendering: the tests can fail."""
    pixels = saturated_patches()
    rendered = icc.to_srgb(pixels, SPACES[space_name])
    unprofiled = analyze(encode(pixels, "PNG", None))
    expected = analyze(encode(rendered, "PNG", None))
    assert "color_profile" not in unprofiled
    assert differences(unprofiled, expected, rendered) != []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("image_name", IMAGES)
def test_srgb_profile_changes_no_number(image_name: str, fmt: str) -> None:
    pixels = IMAGES[image_name]()
    with_profile = analyze(encode(pixels, fmt, icc.srgb()))
    without = analyze(encode(pixels, fmt, None))
    with_profile.pop("color_profile", None)
    assert with_profile == without


def test_grey_profile_is_applied() -> None:
    grey = synthetic.to_grey(photo_like())
    result = analyze(encode(grey, "PNG", icc.grey_gamma_18()))
    rendered = icc.to_srgb(grey, icc.GREY_18)
    expected = analyze(encode(rendered, "PNG", None))
    assert result.get("color_profile") == {
        "source": "icc", "description": icc.GREY_18_NAME, "converted_to": "sRGB",
    }  # fmt: skip
    assert differences(result, expected, rendered) == []
    assert differences(analyze(encode(grey, "PNG", None)), expected, rendered) != []


def _truncated_tag_table() -> bytes:
    profile = bytearray(icc.display_p3())
    struct.pack_into(">I", profile, 128, 200)  # 200 tags: the table runs past the end
    return bytes(profile)


def _tag_outside(signature: bytes) -> bytes:
    """Display P3 with the offset of tag `signature` far past the profile's end."""
    profile = bytearray(icc.display_p3())
    (count,) = struct.unpack_from(">I", profile, 128)
    for index in range(count):
        entry = 132 + 12 * index
        if profile[entry : entry + 4] == signature:
            struct.pack_into(">I", profile, entry + 4, 1 << 30)
    return bytes(profile)


def _missing_colorant() -> bytes:
    profile = bytearray(icc.display_p3())
    (count,) = struct.unpack_from(">I", profile, 128)
    for index in range(count):
        if profile[132 + 12 * index : 136 + 12 * index] == b"gXYZ":
            profile[132 + 12 * index : 136 + 12 * index] = b"zzzz"
    return bytes(profile)


BROKEN_PROFILES = {
    "truncated": icc.display_p3()[:100],
    "cut in the tags": icc.display_p3()[:300],
    "garbage": bytes(range(256)) * 3,
    "no acsp": icc.display_p3().replace(b"acsp", b"xxxx", 1),
    "tag table past the end": _truncated_tag_table(),
    "colorant outside the profile": _tag_outside(b"rXYZ"),
    "curve outside the profile": _tag_outside(b"gTRC"),
    "missing colorant": _missing_colorant(),
    "grey profile on RGB": icc.grey_gamma_18(),
}


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("broken", BROKEN_PROFILES)
def test_broken_profile_is_ignored(broken: str, fmt: str) -> None:
    pixels = photo_like()
    result = analyze(encode(pixels, fmt, BROKEN_PROFILES[broken]))
    assert "color_profile" not in result
    assert result == analyze(encode(pixels, fmt, None))


def test_unreadable_description_still_converts() -> None:
    """Only the description is lost: the colorants and curves are intact, so the profile is
    applied and reported under a name of the service's own."""
    pixels = saturated_patches()
    rendered = icc.to_srgb(pixels, icc.DISPLAY_P3)
    result = analyze(encode(pixels, "PNG", _tag_outside(b"desc")))
    profile = result.get("color_profile", {})
    assert profile.get("converted_to") == "sRGB"
    assert isinstance(profile.get("description"), str) and profile["description"]
    assert differences(result, analyze(encode(rendered, "PNG", None)), rendered) == []


def test_rgb_profile_on_a_grey_image_is_ignored() -> None:
    grey = synthetic.to_grey(photo_like())
    result = analyze(encode(grey, "PNG", icc.display_p3()))
    assert "color_profile" not in result
    assert result == analyze(encode(grey, "PNG", None))


def test_upload_reports_the_profile(uncached_client: Any) -> None:
    pixels = saturated_patches()
    data = encode(pixels, "PNG", icc.display_p3())
    body, headers = multipart([("image", data, "image/png")])
    response = uncached_client.simulate_post(
        "/v1/image/analysis", body=body, headers=headers, params={"metrics": METRICS}
    )
    assert response.status_code == 200
    answer = response.json
    assert answer["color_profile"] == {
        "source": "icc", "description": icc.DISPLAY_P3.name, "converted_to": "sRGB",
    }  # fmt: skip
    expected = analyze(encode(icc.to_srgb(pixels, icc.DISPLAY_P3), "PNG", None))
    assert differences(answer, expected, None) == []
