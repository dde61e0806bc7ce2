"""CMYK with an embedded ICC profile (a JPEG, as libjpeg decodes it, and an 8-bit TIFF, as
the core decodes it) is converted to sRGB with that profile: the numbers equal those of
libvips' own conversion of the same file (pyvips, LittleCMS under libvips' code, not ours),
and differ from the profile-less conversion, so the check can fail. The profile is
Ghostscript's SWOP CMYK profile from Debian's libgs10-common (installed by `make test`)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import image_insights

PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")
pyvips = pytest.importorskip("pyvips", reason="pyvips is the second decoder (requirements/dev.txt)")
pytestmark = pytest.mark.skipif(
    not PROFILE.exists(), reason=f"{PROFILE} is missing (Debian package libgs10-common)"
)


def cmyk_picture() -> np.ndarray:
    """Cyan across, magenta down, a little yellow, and speckled black."""
    rng = np.random.default_rng(3)
    cmyk = np.zeros((64, 96, 4), np.uint8)
    cmyk[..., 0] = np.linspace(0, 255, 96)[None, :]
    cmyk[..., 1] = np.linspace(0, 255, 64)[:, None]
    cmyk[..., 2] = 60
    cmyk[..., 3] = rng.integers(0, 80, (64, 96))
    return cmyk


def encode(kind: str, profile: bytes | None) -> bytes:
    out = io.BytesIO()
    options = {"quality": 100, "subsampling": 0} if kind == "JPEG" else {}
    if profile is not None:
        options["icc_profile"] = profile
    Image.fromarray(cmyk_picture(), "CMYK").save(out, kind, **options)
    return out.getvalue()


def libvips_srgb(data: bytes) -> np.ndarray:
    """libvips' decode of the file, converted to sRGB with its embedded profile."""
    image = pyvips.Image.new_from_buffer(data, "").icc_transform("srgb", intent="relative")
    shape = [image.height, image.width, image.bands]
    return np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8, shape=shape)


@pytest.mark.parametrize("kind", ["JPEG", "TIFF"])
def test_cmyk_is_converted_with_its_profile(kind: str) -> None:
    data = encode(kind, PROFILE.read_bytes())
    result = image_insights.analyze(data, "brightness,colors")
    expected = libvips_srgb(data).reshape(-1, 3).astype(np.float64)
    luminance = (expected @ np.array([0.2126, 0.7152, 0.0722])).mean()
    assert result["average_luminance"] == pytest.approx(luminance, abs=0.5)
    average = [int(result["average_color"][i : i + 2], 16) for i in (1, 3, 5)]
    assert np.abs(np.array(average) - expected.mean(axis=0)).max() <= 1.0
    assert result["color_profile"] == {
        "source": "icc", "description": "Artifex CMYK SWOP Profile", "converted_to": "sRGB",
    }  # fmt: skip
    plain = image_insights.analyze(encode(kind, None), "brightness")
    assert "color_profile" not in plain
    assert abs(plain["average_luminance"] - luminance) > 5, "the profile changes the numbers"
