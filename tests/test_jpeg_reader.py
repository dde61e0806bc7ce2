"""The Rust JPEG reader against libjpeg itself, at every scale it decodes at.

Every file here is generated: by Pillow and by libjpeg-turbo's own `cjpeg` and `jpegtran`,
over every sampling layout libjpeg accepts (factors 1 to 4 per component, in any relation),
qualities, optimised and standard tables, restart intervals, greyscale and RGB, odd sizes,
and sequential or progressive scan scripts drawn at random. The reference is libjpeg's
output at the same scale: Pillow's `draft`, or `djpeg -scale 1/N` where an image is
smaller than N pixels on a side and `draft` cannot reach that scale. The reader must give
the same pixels exactly, or refuse the file as libjpeg refuses it; the one kind of file it
may refuse that libjpeg decodes is a progressive file whose coefficients are left
incomplete, which libjpeg smooths (and then it must say so).
"""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from image_insights import _core
from tests.support import synthetic

#: The scales the reader decodes at, as denominators.
DENOMINATORS = (8, 4, 2, 1)
REAL_PHOTOS = Path(__file__).parents[1].parent / "shared" / "images"

if shutil.which("cjpeg") is None or shutil.which("djpeg") is None:
    pytest.skip(
        "libjpeg-turbo-progs (cjpeg, djpeg, jpegtran) is not installed; `make test` "
        "installs it",
        allow_module_level=True,
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


def jpegtran(data: bytes, *args: str) -> bytes:
    return subprocess.run(["jpegtran", *args], input=data, capture_output=True, check=True).stdout


def libjpeg(data: bytes, denominator: int) -> np.ndarray:
    """libjpeg's image at scale 1/denominator, as (h, w) or (h, w, 3) uint8."""
    image = Image.open(io.BytesIO(data))
    width, height = image.size
    if denominator == 1 or min(width, height) >= denominator:
        if denominator > 1:
            # draft picks the largest scale s <= min(w // (w // d), h // (h // d)): d.
            image.draft(image.mode, (width // denominator, height // denominator))
        image.load()
        pixels = np.asarray(image)
    else:
        out = subprocess.run(
            ["djpeg", "-scale", f"1/{denominator}", "-pnm"],
            input=data,
            capture_output=True,
            check=True,
        ).stdout
        pixels = np.asarray(Image.open(io.BytesIO(out)))
    expected_size = (-(-height // denominator), -(-width // denominator))
    assert pixels.shape[:2] == expected_size
    return pixels


def reader(data: bytes, denominator: int) -> np.ndarray:
    width, height, mode, pixels = _core.decode_jpeg(data, denominator, 10**9)
    shape = (height, width) if mode == "L" else (height, width, 3)
    return np.frombuffer(pixels, dtype=np.uint8).reshape(shape)


def assert_equals_libjpeg(data: bytes, denominators: tuple[int, ...] = DENOMINATORS) -> None:
    for denominator in denominators:
        expected = libjpeg(data, denominator)
        actual = reader(data, denominator)
        assert actual.shape == expected.shape, f"1/{denominator}"
        difference = np.abs(actual.astype(np.int16) - expected.astype(np.int16))
        assert difference.max() == 0, (
            f"1/{denominator}: {np.count_nonzero(difference)} samples differ, by up to "
            f"{difference.max()}"
        )


# --- Pillow's encodings -------------------------------------------------------------------

SIZES = [(1, 1), (7, 9), (8, 8), (17, 33), (203, 131), (640, 427)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("subsampling", [0, 1, 2], ids=["444", "422", "420"])
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_pillow_encodings(size: tuple[int, int], subsampling: int, progressive: bool) -> None:
    pixels = photo(*size, seed=size[0])
    for quality, optimize in [(30, False), (75, True), (95, False), (100, True)]:
        data = pillow_jpeg(
            pixels, quality=quality, subsampling=subsampling, progressive=progressive,
            optimize=optimize,
        )  # fmt: skip
        assert_equals_libjpeg(data)


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_greyscale(progressive: bool) -> None:
    for size in SIZES:
        grey = synthetic.to_grey(photo(*size, seed=7))
        assert_equals_libjpeg(pillow_jpeg(grey, quality=85, progressive=progressive))


@pytest.mark.parametrize("quality", range(30, 101, 10))
def test_qualities(quality: int) -> None:
    pixels = photo(320, 213, seed=quality)
    for subsampling in (0, 1, 2):
        for progressive in (False, True):
            data = pillow_jpeg(
                pixels, quality=quality, subsampling=subsampling, progressive=progressive
            )
            assert_equals_libjpeg(data)


# --- cjpeg and jpegtran: every layout, restart intervals, scan scripts --------------------

#: Layouts with a loop of their own in the reader, and ones libjpeg upsamples by repetition,
#: by IDCT scaling or by a first component that is not the largest.
LAYOUTS = [
    "1x1,1x1,1x1", "2x1,1x1,1x1", "2x2,1x1,1x1", "1x2,1x1,1x1", "4x1,1x1,1x1",
    "4x2,1x1,1x1", "2x4,1x1,1x1", "1x4,1x1,1x1", "3x1,1x1,1x1", "3x2,1x1,1x1",
    "2x2,2x1,1x1", "2x2,1x2,2x1", "1x1,2x2,1x1", "1x1,2x1,1x1", "1x2,2x1,1x1",
    "2x1,1x2,1x1", "2x2,2x2,1x1", "4x1,2x1,1x1", "2x3,1x3,1x1", "3x2,3x1,1x1",
]  # fmt: skip


@pytest.mark.parametrize("sample", LAYOUTS)
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_cjpeg_layouts(sample: str, progressive: bool) -> None:
    args = ["-quality", "85", "-sample", sample] + (["-progressive"] if progressive else [])
    for size in [(150, 97), (31, 17), (5, 3)]:
        assert_equals_libjpeg(synthetic.cjpeg(photo(*size, seed=3), *args))


def test_chroma_finer_than_luma_in_a_tiny_file() -> None:
    """A 3072 x 8 image whose chroma is sampled more finely than its luma across: the
    first component is the one upsampled. (This file once crashed the reader.)"""
    data = synthetic.cjpeg(photo(3072, 8, seed=1), "-sample", "1x1,2x1,1x1")
    assert len(data) < 20_000
    assert_equals_libjpeg(data)


@pytest.mark.parametrize("restart", ["1", "3B", "1B", "2"])
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_restart_intervals(restart: str, progressive: bool) -> None:
    for sample in ("2x2,1x1,1x1", "2x1,1x1,1x1", "1x1,1x1,1x1"):
        args = ["-quality", "80", "-sample", sample, "-restart", restart]
        args += ["-progressive"] if progressive else []
        assert_equals_libjpeg(synthetic.cjpeg(photo(150, 97, seed=3), *args))


def test_jpegtran_rewrites() -> None:
    original = pillow_jpeg(photo(120, 88, seed=5), quality=70, progressive=True)
    for extra in ([], ["-progressive"], ["-optimize"], ["-restart", "2B"], ["-restart", "1"]):
        assert_equals_libjpeg(jpegtran(original, *extra))


def test_rgb_and_greyscale_from_cjpeg() -> None:
    pixels = photo(90, 61, seed=8)
    assert_equals_libjpeg(synthetic.cjpeg(pixels, "-rgb"))
    assert_equals_libjpeg(synthetic.cjpeg(pixels, "-rgb", "-progressive", "-sample", "2x2,1x1,1x1"))
    assert_equals_libjpeg(synthetic.cjpeg(pixels, "-grayscale", "-progressive"))


def scan_script(
    components: int, dc_bits: int, bands: list[list[tuple[int, int, int]]], interleave: bool
) -> str:
    """A progressive scan script: DC first (all components in one scan, or one each) at
    bit `dc_bits` and its refinements, then for each component the AC bands given as
    (start, end, bits), each a first scan at `bits` and its refinements down to bit 0."""
    lines = []
    ids = list(range(components))
    dc_groups = [ids] if interleave else [[c] for c in ids]
    for group in dc_groups:
        lines.append(f"{','.join(map(str, group))}: 0-0, 0, {dc_bits};")
    for component, component_bands in enumerate(bands):
        for start, end, bits in component_bands:
            lines.append(f"{component}: {start}-{end}, 0, {bits};")
    for group in dc_groups:
        for bit in range(dc_bits, 0, -1):
            lines.append(f"{','.join(map(str, group))}: 0-0, {bit}, {bit - 1};")
    for component, component_bands in enumerate(bands):
        for start, end, bits in component_bands:
            for bit in range(bits, 0, -1):
                lines.append(f"{component}: {start}-{end}, {bit}, {bit - 1};")
    return "\n".join(lines) + "\n"


@st.composite
def band_splits(draw: st.DrawFn) -> list[tuple[int, int, int]]:
    """The AC coefficients 1-63 cut into consecutive bands, each with a starting bit."""
    cuts = sorted(draw(st.sets(st.integers(2, 63), max_size=4)))
    edges = [1, *cuts, 64]
    return [
        (start, end - 1, draw(st.integers(0, 3))) for start, end in zip(edges, edges[1:])
    ]


#: Every sampling layout cjpeg writes: factors 1-4, at most 10 blocks in an MCU, and each
#: factor dividing the largest (libjpeg upsamples no other).
WRITABLE_LAYOUTS = [
    factors
    for factors in itertools.product(itertools.product(range(1, 5), repeat=2), repeat=3)
    if sum(h * v for h, v in factors) <= 10
    and all(max(f[0] for f in factors) % h == 0 and max(f[1] for f in factors) % v == 0
            for h, v in factors)
]  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    factors=st.sampled_from(WRITABLE_LAYOUTS),
    width=st.integers(1, 96),
    height=st.integers(1, 96),
    quality=st.integers(30, 100),
    dc_bits=st.integers(0, 3),
    bands=st.lists(band_splits(), min_size=3, max_size=3),
    interleave=st.booleans(),
    restart=st.sampled_from([None, "1", "2B", "5B"]),
    seed=st.integers(0, 1000),
)
def test_random_layouts_and_scan_scripts(
    tmp_path: Path,
    factors: tuple[tuple[int, int], ...],
    width: int,
    height: int,
    quality: int,
    dc_bits: int,
    bands: list[list[tuple[int, int, int]]],
    interleave: bool,
    restart: str | None,
    seed: int,
) -> None:
    """Structure drawn at random: any layout cjpeg writes, size, quality, a complete
    progressive scan script, a restart interval."""
    script = tmp_path / "scans.txt"
    script.write_text(scan_script(3, dc_bits, bands, interleave))
    sample = ",".join(f"{h}x{v}" for h, v in factors)
    args = ["-quality", str(quality), "-sample", sample, "-scans", str(script)]
    args += ["-restart", restart] if restart else []
    data = synthetic.cjpeg(photo(width, height, seed=seed), *args)
    for denominator in DENOMINATORS:
        np.testing.assert_array_equal(reader(data, denominator), libjpeg(data, denominator))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    components=st.sampled_from([1, 3]),
    dc_bits=st.integers(0, 2),
    bands=st.lists(band_splits(), min_size=3, max_size=3),
    drop=st.integers(0, 2),
)
def test_incomplete_progressions_are_left_to_libjpeg(
    tmp_path: Path, components: int, dc_bits: int, bands: list, drop: int
) -> None:
    """A progressive file that never sends some of a component's coefficients 1-9 (or
    not to their last bit) is smoothed by libjpeg; the reader refuses it as unsupported
    rather than give other pixels."""
    bands = bands[:components]
    # Drop the first band of one component (it holds coefficient 1): incomplete.
    victim = drop % components
    bands[victim] = bands[victim][1:]
    script = tmp_path / "scans.txt"
    script.write_text(scan_script(components, dc_bits, bands, interleave=True))
    pixels = photo(64, 40, seed=dc_bits)
    if components == 1:
        pixels = synthetic.to_grey(pixels)
    data = synthetic.cjpeg(pixels, "-scans", str(script), *(["-grayscale"] if components == 1 else []))
    libjpeg(data, 8)  # libjpeg decodes it
    for denominator in DENOMINATORS:
        with pytest.raises(NotImplementedError, match="smooths"):
            reader(data, denominator)


def test_sequential_scripts(tmp_path: Path) -> None:
    """Baseline files whose components come in separate or grouped scans."""
    pixels = photo(77, 45, seed=2)
    scripts = [
        "0: 0-63, 0, 0;\n1: 0-63, 0, 0;\n2: 0-63, 0, 0;\n",
        "0,1: 0-63, 0, 0;\n2: 0-63, 0, 0;\n",
        "2: 0-63, 0, 0;\n0,1: 0-63, 0, 0;\n",
    ]
    scans = tmp_path / "scans.txt"
    for script in scripts:
        scans.write_text(script)
        for sample in ("1x1,1x1,1x1", "2x2,1x1,1x1"):
            assert_equals_libjpeg(synthetic.cjpeg(pixels, "-sample", sample, "-scans", str(scans)))


def test_large_photos() -> None:
    pixels = photo(2400, 1601, seed=11)
    assert_equals_libjpeg(pillow_jpeg(pixels, quality=90, progressive=True))
    assert_equals_libjpeg(pillow_jpeg(pixels, quality=60, subsampling=0))
    assert_equals_libjpeg(pillow_jpeg(pixels, quality=85, subsampling=1), (8, 4, 2))


@pytest.mark.skipif(not REAL_PHOTOS.is_dir(), reason=f"{REAL_PHOTOS} is absent")
def test_real_photos() -> None:
    for path in sorted(REAL_PHOTOS.glob("*.jp*g")):
        assert_equals_libjpeg(path.read_bytes())


# --- what the reader refuses --------------------------------------------------------------


def test_what_libjpeg_refuses_is_refused() -> None:
    data = bytearray(pillow_jpeg(photo(64, 48, seed=1), quality=80, progressive=True))
    # A DC refinement scan with Ah = 7, Al = 12 (Al must be Ah - 1): libjpeg's error.
    sos = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    length = int.from_bytes(data[sos + 2 : sos + 4], "big")
    data[sos + 2 + length - 1] = 0x7C
    with pytest.raises(OSError):
        libjpeg(bytes(data), 1)
    for denominator in DENOMINATORS:
        with pytest.raises(ValueError, match="successive approximation"):
            reader(bytes(data), denominator)


def test_fractional_sampling_is_refused_as_libjpeg_refuses_it() -> None:
    # 3x1 luma and 2x1 chroma, 3 not a multiple of 2: cjpeg will not write it, so the
    # frame header of a 3x1,1x1,1x1 file is changed; libjpeg refuses it before any scan.
    data = bytearray(synthetic.cjpeg(photo(48, 16, seed=1), "-sample", "3x1,1x1,1x1"))
    sof = data.index(b"\xff\xc0")
    assert data[sof + 10 + 3 + 1] == 0x11  # the second component's factors
    data[sof + 10 + 3 + 1] = 0x21
    data = bytes(data)
    with pytest.raises(OSError):
        libjpeg(data, 1)
    with pytest.raises(NotImplementedError, match="fractional"):
        reader(data, 1)


def test_too_many_scans_are_refused_before_they_are_decoded() -> None:
    """libjpeg-turbo's own limit (TurboJPEG's LIMITSCANS) is 500 scans."""
    data = pillow_jpeg(photo(64, 48, seed=2), quality=80, progressive=True)
    first_scan = data.index(b"\xff\xda")
    # A DC refinement scan (header and data) of component 1, 501 times over.
    refinement = b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x10" + b"\x00" * 8
    tampered = data[:first_scan] + refinement * 501 + data[first_scan:]
    with pytest.raises(ValueError, match="more than 500 scans"):
        reader(tampered, 8)


def test_every_prefix_is_an_error_value() -> None:
    data = pillow_jpeg(photo(40, 24, seed=1), quality=80, progressive=True)
    for end in range(len(data) - 2):
        for denominator in DENOMINATORS:
            with pytest.raises(ValueError):
                reader(data[:end], denominator)


def test_the_pixel_limit_is_checked_before_decoding() -> None:
    data = pillow_jpeg(photo(64, 48), quality=80)
    with pytest.raises(_core.PixelLimitError) as caught:
        _core.decode_jpeg(data, 4, 64 * 48 - 1)
    assert caught.value.args == (64 * 48, 64 * 48 - 1)
    assert _core.decode_jpeg(data, 4, 64 * 48)[:3] == (16, 12, "RGB")
