"""Readable text over an image: which text colour, how much contrast, and how much scrim.

Two luminances are in play. The brightness score uses Rec. 709 luma of the gamma-encoded
values (the contract's); readability uses WCAG 2.x *relative luminance* (sRGB linearised,
then weighted 0.2126, 0.7152, 0.0722), which the core measures per pixel for the `text`
metric: its mean, and its 5th and 95th percentiles, the darkest and brightest patches a
caption may sit on. White text is judged against the brightest patches, black text against
the darkest ("worst"), and also against the mean.

- WCAG 2.x contrast ratio: (L1 + 0.05) / (L2 + 0.05), L1 the lighter; AA needs 4.5:1 for
  body text, 3:1 for large text.
- APCA (the WCAG 3 draft's method), APCA-W3 0.0.98G-4g: Lc from the screen luminance of the
  text and background colours. The background here is the grey whose relative luminance is
  the region's; for a grey, APCA's luminance is its sRGB value to the power 2.4.
- A scrim: a layer of black under white text (white under black text) at opacity a, blended
  as browsers blend, in sRGB-encoded values: v' = (1 - a) v + a s. Its opacity is the least
  a, rounded up to a hundredth, at which the worst patch reaches the target ratio.
"""

from __future__ import annotations

import math
from typing import Any

AA = 4.5
AA_LARGE = 3.0
WHITE, BLACK = 1.0, 0.0  # relative luminance of white and black text

# APCA-W3 0.0.98G-4g constants.
_APCA_BLACK_THRESHOLD = 0.022
_APCA_BLACK_CLAMP = 1.414
_APCA_NORMAL_BG, _APCA_NORMAL_TEXT = 0.56, 0.57
_APCA_REVERSE_BG, _APCA_REVERSE_TEXT = 0.65, 0.62
_APCA_SCALE = 1.14
_APCA_OFFSET = 0.027
_APCA_LOW_CLIP = 0.1
_APCA_DELTA_Y_MIN = 0.0005


def linearise(value: float) -> float:
    """WCAG 2.x: an sRGB-encoded value in 0..1 to linear light."""
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def encode(linear: float) -> float:
    """The inverse of `linearise`: linear light in 0..1 to the sRGB-encoded value."""
    linear = min(max(linear, 0.0), 1.0)
    return linear * 12.92 if linear <= 0.0031308 else 1.055 * linear ** (1 / 2.4) - 0.055


def contrast_ratio(l1: float, l2: float) -> float:
    """WCAG 2.x contrast ratio of two relative luminances (either order)."""
    lighter, darker = max(l1, l2), min(l1, l2)
    return (lighter + 0.05) / (darker + 0.05)


def apca_y(srgb: tuple[float, float, float]) -> float:
    """APCA's screen luminance of an sRGB colour (channels 0..1)."""
    r, g, b = srgb
    return float(0.2126729 * r**2.4 + 0.7151522 * g**2.4 + 0.0721750 * b**2.4)


def apca(text_y: float, background_y: float) -> float:
    """APCA lightness contrast Lc of text on a background, from their APCA luminances:
    positive for dark text on a light background, negative for light on dark."""

    def soft_clamp(y: float) -> float:
        y = max(y, 0.0)
        if y < _APCA_BLACK_THRESHOLD:
            y += (_APCA_BLACK_THRESHOLD - y) ** _APCA_BLACK_CLAMP
        return y

    text_y, background_y = soft_clamp(text_y), soft_clamp(background_y)
    if abs(background_y - text_y) < _APCA_DELTA_Y_MIN:
        return 0.0
    if background_y > text_y:
        sapc = (background_y**_APCA_NORMAL_BG - text_y**_APCA_NORMAL_TEXT) * _APCA_SCALE
        return 0.0 if sapc < _APCA_LOW_CLIP else (sapc - _APCA_OFFSET) * 100
    sapc = (background_y**_APCA_REVERSE_BG - text_y**_APCA_REVERSE_TEXT) * _APCA_SCALE
    return 0.0 if sapc > -_APCA_LOW_CLIP else (sapc + _APCA_OFFSET) * 100


def _grey_apca_y(relative_luminance: float) -> float:
    """APCA luminance of the grey whose WCAG relative luminance is given."""
    return float(encode(relative_luminance) ** 2.4)


def composite(background: float, scrim: float, opacity: float) -> float:
    """Relative luminance of a grey background under a scrim (black 0.0 or white 1.0) of
    `opacity`, blended in sRGB-encoded values."""
    v = encode(background)
    s = encode(scrim)
    return linearise((1 - opacity) * v + opacity * s)


def scrim_opacity(text: float, background: float, target: float) -> float:
    """The least opacity, rounded up to 0.01, of the scrim opposite to the text (black
    under white text, white under black) at which text of relative luminance `text` on
    `background` reaches `target`: 0.0 when it already does."""
    if contrast_ratio(text, background) >= target:
        return 0.0
    scrim = BLACK if text == WHITE else WHITE
    # The luminance the background must reach, then the sRGB value, then the opacity.
    if scrim == BLACK:
        needed = (text + 0.05) / target - 0.05
        v, v_needed = encode(background), encode(max(needed, 0.0))
        exact = 1 - v_needed / v if v > 0 else 0.0
    else:
        needed = target * (text + 0.05) - 0.05
        v, v_needed = encode(background), encode(min(needed, 1.0))
        exact = (v_needed - v) / (1 - v) if v < 1 else 0.0
    opacity = min(math.ceil(round(exact * 100, 9)) / 100, 1.0)
    # The rounding above can fall a hair short where the sRGB curve is steep: step up.
    while opacity < 1.0 and contrast_ratio(text, composite(background, scrim, opacity)) < target:
        opacity = round(opacity + 0.01, 2)
    return opacity


def text_block(mean: float, p5: float, p95: float) -> dict[str, Any]:
    """The `text` field of a region (or the whole image) from its relative luminance mean
    and percentiles."""
    white = _side(WHITE, mean, worst=p95)
    black = _side(BLACK, mean, worst=p5)
    pick_white = (white["worst_contrast"], white["contrast"]) >= (
        black["worst_contrast"], black["contrast"]
    )  # fmt: skip
    colour, worst_background = ("white", p95) if pick_white else ("black", p5)
    text = WHITE if pick_white else BLACK
    worst = contrast_ratio(text, worst_background)
    scrim = None
    if worst < AA:
        scrim = {
            "color": "black" if pick_white else "white",
            "opacity_aa": scrim_opacity(text, worst_background, AA),
            "opacity_aa_large": scrim_opacity(text, worst_background, AA_LARGE),
        }
    return {
        "relative_luminance": round(mean, 4),
        "relative_luminance_p5": round(p5, 4),
        "relative_luminance_p95": round(p95, 4),
        "white": white,
        "black": black,
        "recommended_color": colour,
        "aa": worst >= AA,
        "aa_large": worst >= AA_LARGE,
        "scrim": scrim,
    }


def _side(text: float, mean: float, worst: float) -> dict[str, float]:
    text_y = apca_y((text, text, text))
    return {
        "contrast": round(contrast_ratio(text, mean), 2),
        "worst_contrast": round(contrast_ratio(text, worst), 2),
        "apca": round(apca(text_y, _grey_apca_y(mean)), 1),
        "worst_apca": round(apca(text_y, _grey_apca_y(worst)), 1),
    }
