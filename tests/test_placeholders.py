"""The `placeholder` metric against independent implementations: the BlurHash decoded back by
a decoder of its own (the `blurhash` package, pure Python) and compared with the picture's
block averages, and the ThumbHash compared byte for byte with the reference JavaScript
implementation (the npm `thumbhash` package, tests/node, run under Node)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import blurhash
import numpy as np
import pytest

from image_insights import analyze
from tests.support import synthetic

# --- shared: the pictures as the hashes see them -----------------------------------------------


def linearise(srgb_levels: np.ndarray) -> np.ndarray:
    """sRGB levels 0..255 to linear light 0..1 (the sRGB curve BlurHash uses)."""
    c = np.asarray(srgb_levels, dtype=np.float64) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def encode_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light 0..1 to sRGB levels 0..255 (unrounded)."""
    v = np.clip(linear, 0.0, 1.0)
    return 255 * np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def placeholder_of(pixels: np.ndarray, components: str = "4x3") -> dict[str, Any]:
    """The `placeholder` field of `analyze` on a PNG of `pixels`."""
    result = analyze(synthetic.png(pixels), "placeholder", placeholder_components=components)
    return result["placeholder"]


def as_rgba(pixels: np.ndarray) -> np.ndarray:
    """The RGBA pixels of a grey, grey+alpha, RGB or RGBA array, as the core hands them to the
    encoders (grey copied to the three channels, opaque when there is no alpha)."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    height, width, channels = pixels.shape
    colour = pixels[..., :1].repeat(3, axis=2) if channels <= 2 else pixels[..., :3]
    alpha = pixels[..., -1:] if channels in (2, 4) else np.full((height, width, 1), 255, np.uint8)
    return np.ascontiguousarray(np.concatenate([colour, alpha], axis=2), dtype=np.uint8)


# --- BlurHash ----------------------------------------------------------------------------------


def ramp(width: int, height: int, start: np.ndarray, end: np.ndarray, direction: str) -> np.ndarray:
    """An sRGB gradient from colour `start` to `end`: across ("h"), down ("v") or corner to
    corner ("d")."""
    x = np.linspace(0.0, 1.0, width)[None, :, None]
    y = np.linspace(0.0, 1.0, height)[:, None, None]
    t = {"h": x + 0 * y, "v": y + 0 * x, "d": (x + y) / 2}[direction]
    return np.clip(start * (1 - t) + end * t + 0.5, 0, 255).astype(np.uint8)


def block_averages(linear: np.ndarray, columns: int = 4, rows: int = 3) -> np.ndarray:
    """Mean linear colour of each of columns x rows blocks, as sRGB levels (rows, columns, 3)."""
    height, width = linear.shape[:2]
    means = [
        [
            linear[j * height // rows : (j + 1) * height // rows,
                   i * width // columns : (i + 1) * width // columns].reshape(-1, 3).mean(axis=0)
            for i in range(columns)
        ]
        for j in range(rows)
    ]  # fmt: skip
    return encode_srgb(np.array(means))


def blurhash_error(hash_: str, pixels: np.ndarray) -> float:
    """Mean absolute difference, in sRGB levels over the 4 x 3 blocks and three channels,
    between the hash decoded at the picture's size and the picture (RGB, at most 100 px a side:
    the hash is of the picture itself)."""
    height, width = pixels.shape[:2]
    decoded = np.array(blurhash.decode(hash_, width, height, linear=True))
    return float(np.abs(block_averages(decoded) - block_averages(linearise(pixels))).mean())


#: Smooth pictures a 4 x 3 BlurHash should render well: gradients between two colours at
#: least 100 levels apart on every channel, across, down and corner to corner, landscape,
#: portrait and square.
def blurhash_pictures() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(17)
    pictures = []
    for n in range(12):
        start = rng.integers(0, 256, 3)
        apart = rng.integers(100, 128, 3)
        end = np.where(start > 127, start - apart, start + apart)
        for width, height in ((96, 72), (64, 64), (100, 40), (40, 100)):
            direction = "hvd"[(n + width) % 3]
            pictures.append((
                f"{n}-{width}x{height}-{direction}",
                ramp(width, height, start, end, direction),
                ramp(width, height, end, start, direction),  # the same gradient reversed
            ))  # fmt: skip
    return pictures


BLURHASH_PICTURES = blurhash_pictures()
#: Mean block error allowed, in sRGB levels. Its sources: the AC terms are quantised to 19
#: levels on a square-root scale of the largest one, the DC to 8-bit sRGB, and a 4 x 3 cosine
#: series cannot follow a gradient's ends exactly (nor, by BlurHash's normalisation of 2 for
#: every AC term, the mixed terms a diagonal gradient has in linear light). Measured: at most
#: 5.2 levels over these pictures (6.5 over 720 such gradients); the same gradients reversed are
#: at least 34 away (30).
BLURHASH_TOLERANCE = 10.0


@pytest.mark.parametrize(("name", "pixels", "reversed_pixels"), BLURHASH_PICTURES,
                         ids=[p[0] for p in BLURHASH_PICTURES])  # fmt: skip
def test_the_blurhash_decodes_back_to_the_picture(
    name: str, pixels: np.ndarray, reversed_pixels: np.ndarray
) -> None:
    placeholder = placeholder_of(pixels)
    assert placeholder["blurhash_components"] == [4, 3]
    assert blurhash.components(placeholder["blurhash"]) == (4, 3)
    assert blurhash_error(placeholder["blurhash"], pixels) <= BLURHASH_TOLERANCE
    # The comparison can tell: the reversed gradient is far outside the tolerance.
    assert blurhash_error(placeholder["blurhash"], reversed_pixels) > 2 * BLURHASH_TOLERANCE


@pytest.mark.parametrize("components", ["1x1", "9x9", "3x7", "5x2"])
def test_the_blurhash_has_the_components_asked_for(components: str) -> None:
    pixels = ramp(90, 60, np.array([30, 200, 90]), np.array([220, 60, 180]), "d")
    placeholder = placeholder_of(pixels, components)
    x, y = map(int, components.split("x"))
    assert placeholder["blurhash_components"] == [x, y]
    assert blurhash.components(placeholder["blurhash"]) == (x, y)
    assert len(placeholder["blurhash"]) == 4 + 2 * x * y
    if components != "1x1":
        assert blurhash_error(placeholder["blurhash"], pixels) <= BLURHASH_TOLERANCE


def test_the_average_colour_is_the_linear_mean_and_the_blurhash_dc() -> None:
    """The mean in linear light, back to sRGB: the colour a 1 x 1 BlurHash decodes to (its DC
    term), and the response's `average_color` (of the opaque pixels only)."""
    pixels = synthetic.textured_photo(80, 50, seed=3)
    expected = np.round(encode_srgb(linearise(pixels).reshape(-1, 3).mean(axis=0))).astype(int)
    placeholder = placeholder_of(pixels, "1x1")
    decoded = np.array(blurhash.decode(placeholder["blurhash"], 1, 1))[0, 0]
    assert np.abs(decoded - expected).max() <= 1  # the DC's own rounding of the same mean
    assert placeholder["average_color"] == "#" + "".join(f"{c:02x}" for c in expected)
    # Transparent pixels are left out of the average.
    rgba = as_rgba(pixels).copy()
    rgba[:, 40:, 3] = 0
    left = np.round(encode_srgb(linearise(pixels[:, :40]).reshape(-1, 3).mean(axis=0))).astype(int)
    assert placeholder_of(rgba)["average_color"] == "#" + "".join(f"{c:02x}" for c in left)


# --- ThumbHash ---------------------------------------------------------------------------------

NODE_DIR = Path(__file__).parent / "node"


def reference_thumbhashes(images: list[np.ndarray]) -> list[bytes]:
    """The hashes the npm `thumbhash` package (the format's reference, in JavaScript) gives the
    RGBA `images`, through tests/node/thumbhash.mjs."""
    node = shutil.which("node")
    installed = (NODE_DIR / "node_modules" / "thumbhash" / "package.json").is_file()
    if node is None or not installed:
        reason = "node is not installed" if node is None else "run `npm ci` in tests/node"
        if os.environ.get("CI"):
            pytest.fail(f"the ThumbHash reference must run in CI: {reason}")
        pytest.skip(f"the ThumbHash reference needs Node: {reason}")
    request = [
        {
            "width": image.shape[1],
            "height": image.shape[0],
            "rgba": base64.b64encode(image.tobytes()).decode(),
        }
        for image in images
    ]  # fmt: skip
    answer = subprocess.run(
        [node, "thumbhash.mjs"], cwd=NODE_DIR, input=json.dumps(request),
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return [base64.b64decode(hash_) for hash_ in json.loads(answer.stdout)]


def service_thumbhash(pixels: np.ndarray) -> bytes:
    return base64.b64decode(placeholder_of(pixels)["thumbhash"], validate=True)


def _noise(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def _photo_with_alpha(width: int, height: int) -> np.ndarray:
    return synthetic.with_alpha(synthetic.textured_photo(width, height, seed=2), seed=width)


#: Sizes up to 100 x 100 (the thumbnail is then the picture itself: both encoders see the same
#: pixels): landscape, portrait, square, odd.
THUMBHASH_SIZES = ((7, 5), (16, 16), (33, 20), (20, 33), (64, 48), (99, 67), (100, 100))
#: Pictures with nothing symmetric about them: every DCT term the format keeps is clear of a
#: rounding tie, so both implementations must give the same bytes.
GENERIC_PICTURES: dict[str, Callable[[], np.ndarray]] = {
    **{f"noise-{w}x{h}": (lambda w=w, h=h: _noise((h, w, 3), seed=w * h))
       for w, h in THUMBHASH_SIZES},
    **{f"photo-{w}x{h}": (lambda w=w, h=h: synthetic.textured_photo(w, h, seed=w + h))
       for w, h in THUMBHASH_SIZES},
    **{f"photo-alpha-{w}x{h}": (lambda w=w, h=h: _photo_with_alpha(w, h))
       for w, h in THUMBHASH_SIZES},
    "grey-noise-50x40": lambda: _noise((40, 50), seed=5),
    "grey-alpha-noise-30x45": lambda: _noise((45, 30, 2), seed=6),
    "rgba-noise-100x60": lambda: _noise((60, 100, 4), seed=7),
}  # fmt: skip


def test_the_thumbhash_is_byte_for_byte_the_reference_one() -> None:
    pictures = {name: make() for name, make in GENERIC_PICTURES.items()}
    expected = reference_thumbhashes([as_rgba(p) for p in pictures.values()])
    differing = [
        name for (name, pixels), want in zip(pictures.items(), expected, strict=True)
        if service_thumbhash(pixels) != want
    ]  # fmt: skip
    assert differing == []


# A ThumbHash stores each DCT term as round(15 f) with f = 0.5 + 0.5 term / scale (scale, the
# largest term of the channel). A term that is exactly zero (by a symmetry of the picture: a
# flat colour, a straight gradient, one row, two columns) gives 15 f = 7.5, a tie that the
# rounding error of each computation breaks its own way: the core's crate computes in float32,
# the reference in float64, so such a nibble can be 7 in one and 8 in the other. A channel
# that is flat (all its terms zero) has a scale that is rounding noise and quantises to 0: its
# nibbles are noise too, and weigh nothing when decoded. Below, a float64 model of the encoder
# finds those ties, and every other nibble and the header must be the reference's. (A float64
# port of the crate does not remove the ties: the noise then comes from each platform's cosine.)


def _dct_terms(channel: np.ndarray, nx: int, ny: int) -> tuple[np.ndarray, float]:
    """The AC terms the format keeps of one channel (in the reference's order) and their
    largest magnitude, in float64."""
    height, width = channel.shape
    terms = []
    for cy in range(ny):
        cx = 0
        while cx * ny < nx * (ny - cy):
            fx = np.cos(np.pi / width * cx * (np.arange(width) + 0.5))
            fy = np.cos(np.pi / height * cy * (np.arange(height) + 0.5))
            if cx or cy:
                terms.append(float((channel * fy[:, None] * fx[None, :]).mean()))
            cx += 1
    values = np.array(terms)
    return values, float(np.abs(values).max(initial=0.0))


def thumbhash_nibbles(rgba: np.ndarray) -> tuple[int, list[tuple[float, float]]]:
    """Where the AC nibbles start in the hash, and for each nibble in order the value 15 f it
    rounds and the scale of its channel, from a float64 model of the encoder."""
    height, width = rgba.shape[:2]
    alpha = rgba[..., 3] / 255
    total = alpha.sum()
    average = (alpha[..., None] * rgba[..., :3] / 255).reshape(-1, 3).sum(axis=0)
    average = average / total if total else average
    colour = average * (1 - alpha[..., None]) + alpha[..., None] * rgba[..., :3] / 255
    r, g, b = colour[..., 0], colour[..., 1], colour[..., 2]
    has_alpha = total < width * height
    limit = 5 if has_alpha else 7
    lx = max(1, round(limit * width / max(width, height)))
    ly = max(1, round(limit * height / max(width, height)))
    channels = [((r + g + b) / 3, max(3, lx), max(3, ly)), ((r + g) / 2 - b, 3, 3), (r - g, 3, 3)]
    if has_alpha:
        channels.append((alpha, 5, 5))
    nibbles = []
    for channel, nx, ny in channels:
        terms, scale = _dct_terms(channel, nx, ny)
        normalised = 0.5 + 0.5 / scale * terms if scale else terms
        nibbles.extend((15 * float(f), scale) for f in normalised)
    return (6 if has_alpha else 5), nibbles


#: How near a tie a value may be for float32 to break it differently from float64, and how
#: small a channel's scale is when it is rounding noise of a flat channel.
TIE_WIDTH = 1e-4
NOISE_SCALE = 1e-6


def nibble_differences(ours: bytes, reference: bytes, rgba: np.ndarray) -> dict[str, int]:
    """Counts the nibbles in which two hashes of `rgba` differ, by kind; raises on a header
    difference or on a nibble that differs where the model finds no tie."""
    assert len(ours) == len(reference)
    start, nibbles = thumbhash_nibbles(rgba)
    assert ours[:start] == reference[:start], "the headers differ"
    assert len(ours) == start + (len(nibbles) + 1) // 2
    counts = {"tie": 0, "flat-channel": 0}
    for n, (value, scale) in enumerate(nibbles):
        shift = 4 * (n % 2)
        mine, theirs = (h[start + n // 2] >> shift & 15 for h in (ours, reference))
        if mine == theirs:
            continue
        if scale < NOISE_SCALE:
            counts["flat-channel"] += 1
        else:
            assert abs(value % 1 - 0.5) < TIE_WIDTH, (n, value, mine, theirs)
            assert abs(mine - theirs) == 1 and {mine, theirs} == {int(value), int(value) + 1}
            counts["tie"] += 1
    return counts


def _gradient(width: int, height: int) -> np.ndarray:
    x = np.linspace(0.0, 1.0, width)[None, :]
    y = np.linspace(0.0, 1.0, height)[:, None]
    rgb = np.stack([255 * x + 0 * y, 255 * y + 0 * x, 128 + 100 * (x - y)], axis=-1)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


#: Pictures with symmetries: terms that are exactly zero, or flat channels.
SYMMETRIC_PICTURES: dict[str, Callable[[], np.ndarray]] = {
    **{f"flat-{w}x{h}": (lambda w=w, h=h: np.full((h, w, 3), (200, 40, 90), np.uint8))
       for w, h in THUMBHASH_SIZES},
    **{f"gradient-{w}x{h}": (lambda w=w, h=h: _gradient(w, h)) for w, h in THUMBHASH_SIZES},
    "flat-grey-50x30": lambda: np.full((30, 50), 77, np.uint8),
    "one-pixel": lambda: np.array([[[10, 200, 30]]], np.uint8),
    "two-by-three": lambda: _noise((3, 2, 3), seed=9),
    "one-row-100": lambda: _noise((1, 100, 3), seed=10),
    "one-column-100": lambda: _noise((100, 1, 3), seed=11),
    "half-transparent-photo-80x80": lambda: np.concatenate(
        [
            synthetic.textured_photo(80, 80, seed=8),
            np.repeat([[[255]], [[0]]], 40, axis=0).repeat(80, axis=1).astype(np.uint8),
        ],
        axis=2,
    ),  # its alpha does not change across: terms in x are zero
    "alpha-gradient-64x48": lambda: np.concatenate(
        [_gradient(64, 48), _gradient(64, 48)[..., :1]], axis=2
    ),
}  # fmt: skip


def test_the_thumbhash_differs_from_the_reference_only_on_exact_ties() -> None:
    """Same header, and the same nibbles but for a term whose exact value is a rounding tie
    (7.5, off by one) or a flat channel's (weightless noise)."""
    pictures = {name: as_rgba(make()) for name, make in SYMMETRIC_PICTURES.items()}
    expected = reference_thumbhashes(list(pictures.values()))
    totals = {"tie": 0, "flat-channel": 0, "identical-hashes": 0}
    for (name, rgba), reference in zip(pictures.items(), expected, strict=True):
        ours = service_thumbhash(rgba)
        counts = nibble_differences(ours, reference, rgba)
        totals["identical-hashes"] += ours == reference
        for kind, count in counts.items():
            totals[kind] += count
    assert totals["tie"] + totals["flat-channel"] > 0  # the symmetric pictures do tie


def test_the_tie_check_would_catch_a_real_difference() -> None:
    """A nibble changed where the value is no tie, or a header byte, is reported."""
    rgba = as_rgba(synthetic.textured_photo(40, 30, seed=12))
    (reference,) = reference_thumbhashes([rgba])
    assert nibble_differences(reference, reference, rgba) == {"tie": 0, "flat-channel": 0}
    start, nibbles = thumbhash_nibbles(rgba)
    clear = next(n for n, (value, _) in enumerate(nibbles) if abs(value % 1 - 0.5) > 0.1)
    changed = bytearray(reference)
    changed[start + clear // 2] ^= 1 << (4 * (clear % 2))
    with pytest.raises(AssertionError):
        nibble_differences(bytes(changed), reference, rgba)
    header_changed = bytes([reference[0] ^ 1]) + reference[1:]
    with pytest.raises(AssertionError, match="headers"):
        nibble_differences(header_changed, reference, rgba)
