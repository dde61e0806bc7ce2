"""The Rust PNG decoder (`_core.decode_png`) against Pillow's decode converted by the Pillow fallback's rules
(tests/support/reference.py): exact pixels for every colour type, bit depth, interlacing, tRNS kind and odd
size; 16-bit samples against floor(v / 257 + 1/2) computed from the stored samples; and
typed errors for damaged CRCs, cut files, broken deflate data, bad filter bytes and bombs."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from image_insights import _core
from tests.support import png_files, synthetic
from tests.support.png_files import GREY, GREY_ALPHA, PALETTE, RGB, RGBA, Case
from tests.support.reference import pillow_alpha, pillow_l_or_rgb, png_crc_error

LAYOUTS = {(1, False): "L", (1, True): "LA", (3, False): "RGB", (3, True): "RGBA"}
SIZES = [(1, 1), (1, 9), (9, 1), (7, 3), (33, 17)]
NO_LIMIT = 1 << 40


def decoded(data: bytes) -> tuple[str, np.ndarray]:
    """The core's decode as (layout, (height, width, channels) array)."""
    width, height, layout, pixels = _core.decode_png(data, NO_LIMIT)
    return layout, np.frombuffer(pixels, np.uint8).reshape(height, width, -1)


def narrowed(samples: np.ndarray) -> np.ndarray:
    """16-bit samples by the fallback's rule for 16-bit grey, v / 257 + 0.5 truncated."""
    return np.floor(samples.astype(np.float64) / 257 + 0.5).astype(np.uint8)


def pillow_pixels(data: bytes) -> tuple[np.ndarray, np.ndarray | None]:
    """Pillow's decode by the service's conversion rules (tests/support/reference.py): the L or RGB channels, and the alpha channel
    when the image has one."""
    image = Image.open(io.BytesIO(data))
    image.load()
    colour = np.asarray(pillow_l_or_rgb(image))
    alpha = pillow_alpha(image)
    colour = colour[..., None] if colour.ndim == 2 else colour
    return colour, None if alpha is None else np.asarray(alpha)


def expected(case: Case) -> tuple[str, np.ndarray]:
    """What the core must produce for a generated case: Pillow's pixels for up to 8 bits,
    the stored samples narrowed for 16 bits (Pillow keeps only the high byte of 16-bit
    colour), and the alpha a colour key or tRNS palette implies."""
    colour_channels = 1 if case.colour_type in (GREY, GREY_ALPHA) else 3
    alpha: np.ndarray | None = None
    if case.bit_depth == 16:
        samples = narrowed(case.samples)
        colour = samples[..., :colour_channels]
        if case.colour_type in (GREY_ALPHA, RGBA):
            alpha = samples[..., -1]
        if case.colour_type == GREY:
            # Pillow reads 16-bit grey as I;16: the fallback's rule on it gives the same values.
            pillow_colour, _ = pillow_pixels(case.data)
            np.testing.assert_array_equal(pillow_colour, colour)
    else:
        colour, alpha = pillow_pixels(case.data)
    if case.key is not None:
        matches = np.all(case.samples == np.array(case.key), axis=2)
        alpha = np.where(matches, 0, 255).astype(np.uint8)
    layout = LAYOUTS[(colour_channels, alpha is not None)]
    pixels = colour if alpha is None else np.concatenate([colour, alpha[..., None]], axis=2)
    return layout, pixels


def kind_id(kind: tuple[int, int, bool]) -> str:
    names = {GREY: "grey", RGB: "rgb", PALETTE: "palette", GREY_ALPHA: "grey-alpha", RGBA: "rgba"}
    colour_type, depth, trns = kind
    return f"{names[colour_type]}-{depth}{'-trns' if trns else ''}"


# --- exact pixels ---------------------------------------------------------------------------


@pytest.mark.parametrize("interlace", [False, True], ids=["progressive-rows", "adam7"])
@pytest.mark.parametrize("kind", png_files.every_kind(), ids=kind_id)
def test_every_colour_type_depth_and_size_decodes_exactly(
    kind: tuple[int, int, bool], interlace: bool
) -> None:
    colour_type, depth, trns = kind
    for seed, (width, height) in enumerate(SIZES):
        case = png_files.generated(
            colour_type, depth, width, height, interlace=interlace, trns=trns, seed=seed
        )
        layout, pixels = decoded(case.data)
        want_layout, want = expected(case)
        assert layout == want_layout, (width, height)
        np.testing.assert_array_equal(pixels, want, err_msg=f"{width}x{height}")


PHOTO = synthetic.textured_photo(123, 77, seed=5)
GREY_PHOTO = synthetic.to_grey(PHOTO)
PILLOW_WRITTEN = {
    "rgb": lambda: synthetic.png(PHOTO),
    "rgb-level-1": lambda: synthetic.png(PHOTO, compress_level=1),
    "rgb-level-9": lambda: synthetic.png(PHOTO, compress_level=9),
    "rgba": lambda: synthetic.png(synthetic.with_alpha(PHOTO)),
    "grey": lambda: synthetic.png(GREY_PHOTO),
    "grey-alpha": lambda: synthetic.png(synthetic.with_alpha(GREY_PHOTO)),
    "bilevel": lambda: synthetic.png(GREY_PHOTO > 128),
    "palette": lambda: synthetic.palette_png(PHOTO),
    "palette-transparent": lambda: synthetic.palette_png(PHOTO, transparent_index=3),
}


@pytest.mark.parametrize("name", PILLOW_WRITTEN)
def test_photos_written_by_pillow_decode_exactly(name: str) -> None:
    """Pillow's encoder chooses a filter per row: every filter on photo-like content."""
    data = PILLOW_WRITTEN[name]()
    colour, alpha = pillow_pixels(data)
    want = colour if alpha is None else np.concatenate([colour, alpha[..., None]], axis=2)
    layout, pixels = decoded(data)
    assert layout == LAYOUTS[(colour.shape[2], alpha is not None)]
    np.testing.assert_array_equal(pixels, want)


@pytest.mark.parametrize("depth", [8, 16])
@pytest.mark.parametrize("colour_type", [GREY, GREY_ALPHA, RGB, RGBA], ids=str)
def test_every_filter_type_at_every_pixel_width(colour_type: int, depth: int) -> None:
    """Rows filtered None, Sub, Up, Average, Paeth in turn, at 1 to 8 bytes per pixel."""
    rng = np.random.default_rng(colour_type * 100 + depth)
    channels = png_files.CHANNELS[colour_type]
    dtype = np.uint16 if depth == 16 else np.uint8
    samples = rng.integers(0, 1 << depth, size=(23, 19, channels)).astype(dtype)
    layout, pixels = decoded(png_files.raw_png(samples, colour_type))
    assert layout == {GREY: "L", GREY_ALPHA: "LA", RGB: "RGB", RGBA: "RGBA"}[colour_type]
    np.testing.assert_array_equal(pixels, narrowed(samples) if depth == 16 else samples)


def test_16_bit_grey_matches_the_fallbacks_rule_for_every_level() -> None:
    """All 65536 levels through Pillow's I;16 and the reference scaling, and through the core."""
    levels = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    data = synthetic.png16(levels)
    colour, _ = pillow_pixels(data)
    layout, pixels = decoded(data)
    assert layout == "L"
    np.testing.assert_array_equal(pixels, colour)
    np.testing.assert_array_equal(pixels[..., 0], narrowed(levels))


@pytest.mark.parametrize("channels", [2, 3, 4])
def test_16_bit_colour_scales_where_pillow_keeps_the_high_byte(channels: int) -> None:
    """32896 is 128 x 257: mid-grey in 16 bits is 128; 385 and 386 sit either side of 1.5."""
    samples = np.array([[32896, 385, 386, 65535][:channels]], dtype=np.uint16)[None]
    _, pixels = decoded(synthetic.png16(samples))
    assert pixels.ravel().tolist() == [128, 1, 2, 255][:channels]


def test_a_50_million_pixel_row_decodes() -> None:
    """50,000,000 x 1: within the default pixel limit, one raw row of 50 MB."""
    width = 50_000_000
    row = (np.arange(width, dtype=np.uint32) * 7 % 251).astype(np.uint8)
    data = png_files.assemble(
        png_files.ihdr(width, 1, 8, GREY), zlib.compress(b"\x00" + row.tobytes(), 1)
    )
    got_width, height, layout, pixels = _core.decode_png(data, 50_000_000)
    assert (got_width, height, layout) == (width, 1, "L")
    assert pixels == row.tobytes()


# --- typed errors ----------------------------------------------------------------------------

#: A palette PNG with every common kind of chunk, and two private ones.
def _file_with_every_chunk() -> bytes:
    profile = zlib.compress(b"\x00" * 200)
    extra = (
        png_files.chunk(b"gAMA", (45455).to_bytes(4, "big")),
        png_files.chunk(b"pHYs", bytes(9)),
        png_files.chunk(b"tEXt", b"Comment\x00hello"),
        png_files.chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"hello" * 100)),
        png_files.chunk(b"iTXt", b"Title\x00\x00\x00en\x00\x00hi"),
        png_files.chunk(b"eXIf", b"MM\x00*\x00\x00\x00\x08\x00\x00"),
        png_files.chunk(b"prVt", b"private"),
        png_files.chunk(b"ab1c", b"not a letter"),
    )
    case = png_files.generated(PALETTE, 8, 9, 7, trns=True)
    data = png_files.with_chunks_before_idat(case.data, extra)
    # iCCP must come before PLTE.
    iccp = png_files.chunk(b"iCCP", b"icc\x00\x00" + profile)
    at = png_files.chunks(data)[1][0]
    return data[:at] + iccp + data[at:]


EVERY_CHUNK = _file_with_every_chunk()


def test_the_file_with_every_chunk_decodes() -> None:
    assert decoded(EVERY_CHUNK)[0] == "RGBA"


@pytest.mark.parametrize(
    "kind",
    [b"IHDR", b"iCCP", b"PLTE", b"tRNS", b"gAMA", b"pHYs", b"tEXt", b"zTXt", b"iTXt", b"eXIf",
     b"prVt", b"ab1c", b"IDAT", b"IEND"],  # fmt: skip
    ids=lambda kind: kind.decode(),
)
def test_a_bad_crc_in_any_chunk_is_named_as_the_fallback_names_it(kind: bytes) -> None:
    damaged = png_files.with_bad_crc(EVERY_CHUNK, kind)
    reason = png_crc_error(damaged)
    assert reason == f"bad CRC in {kind.decode() if kind.isalpha() else 'a'} chunk"
    with pytest.raises(_core.DecodeError) as core:
        _core.decode_png(damaged, NO_LIMIT)
    assert str(core.value) == f"malformed PNG: {reason}"


@pytest.mark.parametrize("interlace", [False, True])
def test_every_cut_point_is_an_error(interlace: bool) -> None:
    """Each prefix of a complete file that ends before its last IDAT chunk does fails with a
    reason; one cut inside the IEND trailer holds every pixel and decodes, as browsers and
    Pillow decode it."""
    data = png_files.generated(RGB, 16, 11, 9, interlace=interlace, seed=3).data
    data = png_files.with_chunks_before_idat(data, (png_files.chunk(b"tEXt", b"a\x00b"),))
    trailer = data.rindex(b"IEND") - 4
    for cut in range(trailer):
        with pytest.raises(ValueError, match="^malformed PNG: "):
            _core.decode_png(data[:cut], NO_LIMIT)
    whole = _core.decode_png(data, NO_LIMIT)
    for cut in range(trailer, len(data)):
        assert _core.decode_png(data[:cut], NO_LIMIT) == whole
    assert decoded(data)[0] == "RGB"


def _raw_grey(rows: bytes, width: int, height: int) -> bytes:
    return png_files.assemble(png_files.ihdr(width, height, 8, GREY), zlib.compress(rows))


BROKEN = {
    # Deflate block type 3 is reserved.
    "reserved deflate block": lambda: png_files.with_idat(
        synthetic.png(PHOTO), b"\x78\x9c\x07" + b"\x00" * 40
    ),
    "deflate stream cut short": lambda: png_files.with_idat(
        synthetic.png(PHOTO), png_files.idat_stream(synthetic.png(PHOTO))[:500]
    ),
    "bad filter byte": lambda: _raw_grey(b"\x00\x01\x02\x05\x03\x04", 2, 2),
    "fewer rows than declared": lambda: _raw_grey(b"\x00\x01\x02", 2, 2),
    "short rows": lambda: _raw_grey(b"\x00\x01\x00\x02", 2, 2),
    "no IDAT": lambda: png_files.SIGNATURE
    + png_files.ihdr(2, 2, 8, GREY)
    + png_files.chunk(b"IEND", b""),
    "bad bit depth": lambda: png_files.assemble(png_files.ihdr(2, 2, 3, GREY), zlib.compress(b"")),
    "16-bit palette": lambda: png_files.assemble(
        png_files.ihdr(2, 2, 16, PALETTE), zlib.compress(b"")
    ),
    # Found by fuzzing: `png` 0.18.1 panics on a partial palette entry.
    "palette of 16 entries and a byte": lambda: png_files.assemble(
        png_files.ihdr(1, 1, 8, PALETTE),
        zlib.compress(b"\x00\x00"),
        before=(png_files.chunk(b"PLTE", bytes(49)), png_files.chunk(b"tRNS", b"\x01")),
    ),
    "palette missing": lambda: png_files.assemble(
        png_files.ihdr(2, 2, 8, PALETTE), zlib.compress(b"\x00\x00\x00" * 2)
    ),
    "zero width": lambda: png_files.assemble(png_files.ihdr(0, 2, 8, GREY), zlib.compress(b"")),
    "first chunk not IHDR": lambda: png_files.SIGNATURE + png_files.chunk(b"IEND", b""),
    "not a PNG": lambda: synthetic.jpeg(PHOTO),
}


@pytest.mark.parametrize("name", BROKEN)
def test_data_that_does_not_decode_is_a_typed_error(name: str) -> None:
    with pytest.raises(ValueError, match="^malformed PNG: .{4,}") as caught:
        _core.decode_png(BROKEN[name](), NO_LIMIT)
    assert len(str(caught.value)) < 160


def test_broken_pixel_data_with_valid_crcs_is_refused_as_pillow_refuses_it() -> None:
    """Issue 14, item 4: all CRCs valid, the deflate stream broken."""
    data = BROKEN["reserved deflate block"]()
    with pytest.raises(OSError):
        Image.open(io.BytesIO(data)).load()
    with pytest.raises(ValueError, match="deflate"):
        _core.decode_png(data, NO_LIMIT)


@pytest.mark.parametrize(
    ("width", "height"), [(30_000, 30_000), (7_072, 7_071), (2**31 - 1, 2**31 - 1), (50_000_001, 1)]
)
def test_bombs_are_refused_from_the_header(width: int, height: int) -> None:
    """The pixel limit comes first: nothing is decoded (or allocated) for these."""
    data = synthetic.png_header_only(width, height, bit_depth=16, colour_type=synthetic.PNG_RGBA)
    with pytest.raises(_core.PixelLimitError) as caught:
        _core.decode_png(data, 50_000_000)
    assert caught.value.args == (width * height, 50_000_000)


def test_the_limit_is_inclusive() -> None:
    data = png_files.assemble(png_files.ihdr(100, 10, 8, GREY), zlib.compress(b"\x00" * 101 * 10))
    assert _core.decode_png(data, 1000)[:3] == (100, 10, "L")
    with pytest.raises(_core.PixelLimitError) as caught:
        _core.decode_png(data, 999)
    assert caught.value.args == (1000, 999)
