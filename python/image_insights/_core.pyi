"""Type stubs of the compiled Rust core (rust_core/src/py.rs)."""

from typing import Literal, final

from typing_extensions import Buffer

__all__ = [
    "DCT_SCALING_MIN_SIDE",
    "DeadlineExceeded",
    "DecodeError",
    "ImageAnalysis",
    "InternalError",
    "ImageStatistics",
    "MAX_SCANS",
    "PixelLimitError",
    "SNIFF_BYTES",
    "__version__",
    "_panic",
    "analysis_size",
    "analyze_image",
    "analyze_pixels",
    "decode_denominator",
    "decode_jpeg",
    "declared_size",
    "decode_png",
    "pack_rows",
    "pixel_statistics",
    "resize",
    "sniff",
]

__version__: str
#: The smallest side a JPEG's longer side is decoded down to by DCT scaling.
DCT_SCALING_MIN_SIDE: int
#: The most scans a JPEG may have; more is refused before they are decoded.
MAX_SCANS: int
#: The first bytes `sniff` needs at most (an AVIF or HEIF file's `ftyp` brands).
SNIFF_BYTES: int

_Format = Literal["jpeg", "png", "tiff", "webp", "gif", "avif", "heif"]

class DecodeError(ValueError):
    """Bytes that are not an image the core reads, or that do not decode; the message is a
    short reason that is safe to show."""

class PixelLimitError(ValueError):
    """The header declares more pixels than allowed; `args` is (pixels, max_pixels)."""

class DeadlineExceeded(TimeoutError):
    """The call ran out of the time it was given."""

class InternalError(RuntimeError):
    """A bug in the core (a panic), contained: the call failed, the process goes on."""

_Layout = Literal["L", "LA", "RGB", "RGBA"]
_EdgeMode = Literal["left_right", "top_bottom", "all"]

@final
class ImageStatistics:
    """Exact Rec. 709 luminance statistics of one image. Luminance L is 0-255;
    "scaled" values are L x 10000, exact integers."""

    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def pixel_count(self) -> int: ...
    @property
    def mean(self) -> float:
        """Mean of L, from the exact integer sum."""
    @property
    def median(self) -> float:
        """Median of L; the mean of the two middle values for an even count."""
    @property
    def min(self) -> float: ...
    @property
    def max(self) -> float: ...
    @property
    def sum_scaled(self) -> int:
        """Sum of L x 10000 over all pixels."""
    @property
    def median_x2_scaled(self) -> int:
        """Sum of the two middle values of L x 10000 (twice the median, exact)."""
    @property
    def contrast_rms(self) -> float:
        """Standard deviation of L (population), from exact integer sums."""
    @property
    def p5(self) -> float:
        """5th percentile of L, interpolated linearly between ranks as NumPy does."""
    @property
    def p95(self) -> float:
        """95th percentile of L, interpolated linearly between ranks as NumPy does."""
    @property
    def entropy_bits(self) -> float:
        """Shannon entropy (bits) of the 256-bin histogram of L rounded to integers."""
    @property
    def sharpness(self) -> float | None:
        """Standard deviation of the 4-neighbour Laplacian of L over interior pixels (0 when
        there are none); None unless computed with sharpness=True."""
    @property
    def colorfulness(self) -> float | None:
        """Hasler and Süsstrunk's colorfulness over opaque pixels; None unless computed with
        colors=True, or when every pixel is transparent."""
    @property
    def average_color(self) -> str | None:
        """'#rrggbb' mean of opaque pixels (channels rounded half to even)."""
    @property
    def dominant_colors(self) -> list[tuple[str, int]] | None:
        """Up to 5 ('#rrggbb', opaque pixel count) pairs, most common first."""
    @property
    def opaque_pixel_count(self) -> int | None:
        """Pixels with non-zero alpha (all pixels for layouts without alpha)."""
    @property
    def edge_colors(self) -> dict[str, str | None] | None:
        """Average colour of the `left`, `right`, `top` and `bottom` strips (full length
        each) by name; None for a strip whose pixels are all transparent."""
    @property
    def buckets(self) -> list[int]:
        """Pixel counts of the contract's 10 buckets: i x 25.6 <= L < (i + 1) x 25.6."""
    @property
    def luma_histogram(self) -> list[int]:
        """Pixel counts of L rounded to an integer 0..255 (halves up)."""
    @property
    def relative_luminance(self) -> tuple[float, float, float] | None:
        """WCAG 2.x relative luminance (0-1): mean, 5th and 95th percentiles (within
        1/131070: binned in 65,536 steps); None unless `text` was asked."""
    @property
    def regions(self) -> list[ImageStatistics]:
        """The statistics of each region asked for, in order (empty for none)."""
    @property
    def color_profile(self) -> str | None:
        """The description of the embedded ICC profile the pixels were converted to sRGB
        from (or found to be sRGB's); None when none was (the image taken as sRGB)."""
    @property
    def placeholder(self) -> tuple[str, bytes, str | None, bytes] | None:
        """(BlurHash, ThumbHash bytes, average colour "#rrggbb" or None when fully
        transparent, the ThumbHash rendered as a PNG); None unless asked."""
    def edge_mean(self, mode: _EdgeMode | str) -> float:
        """Mean L over the edge strips of `mode`.

        Raises:
            ValueError: for an unknown mode.
        """
    def edge_pixel_count(self, mode: _EdgeMode | str) -> int:
        """How many pixels `edge_mean(mode)` averages (overlaps counted twice).

        Raises:
            ValueError: for an unknown mode.
        """

def pixel_statistics(
    pixels: Buffer,
    width: int,
    height: int,
    layout: _Layout | str,
    *,
    colors: bool = False,
    sharpness: bool = False,
    text: bool = False,
) -> ImageStatistics:
    """Computes every luminance statistic of an image, reading `pixels` in place with the
    GIL released; with `colors` also the colour statistics, with `sharpness` the Laplacian's.

    Arguments:
        pixels: any C-contiguous uint8 buffer (bytes, bytearray, memoryview, NumPy array) of
            height x width x channels bytes, row-major; shape (height, width) or
            (height, width, channels) when it has one.
        width, height: the image size, each at least 1.
        layout: "L", "LA", "RGB" or "RGBA" (alpha is ignored).

    Returns:
        The statistics.

    Raises:
        ValueError: a wrong layout, size, shape or dtype, saying what was expected.
    """

def decode_jpeg(
    data: bytes, denominator: int, max_pixels: int
) -> tuple[int, int, Literal["L", "RGB"], bytes]:
    """Decodes a JPEG at scale 1/`denominator` (8, 4, 2 or 1), with the GIL released; the
    pixels equal libjpeg's at that scale (Pillow's `draft`).

    Arguments:
        data: the JPEG file's bytes (baseline, extended sequential or progressive Huffman,
            8-bit, greyscale, YCbCr or RGB, any sampling factors libjpeg upsamples).
        denominator: 8, 4, 2 or 1.
        max_pixels: the largest width x height the frame header may declare.

    Returns:
        (width, height, mode, pixels): ceil(source / denominator) on each side, "L" or
        "RGB", and the row-major pixel bytes.

    Raises:
        NotImplementedError: a kind of JPEG this reader does not read (arithmetic coding,
            lossless, hierarchical, 12-bit, CMYK/YCCK, progressive files libjpeg smooths):
            decode it another way.
        DecodeError: malformed or truncated data, too many scans.
        PixelLimitError: a frame over `max_pixels`.
    """

def decode_png(data: bytes, max_pixels: int) -> tuple[int, int, _Layout, bytes]:
    """Decodes a PNG to 8-bit pixels with the GIL released: every complete chunk's CRC and
    the IHDR pixel count are checked before anything is allocated; grey stays "L", palettes
    become "RGB" ("RGBA" with tRNS), a colour-key tRNS adds an alpha channel, 1/2/4-bit grey
    is scaled by 255/85/17 and 16-bit samples v become floor(v / 257 + 1/2). An animated PNG
    gives its default image.

    Arguments:
        data: the PNG file's bytes.
        max_pixels: the largest width x height IHDR may declare.

    Returns:
        (width, height, layout, pixels): the size, "L", "LA", "RGB" or "RGBA", and the
        row-major pixel bytes.

    Raises:
        DecodeError: malformed, damaged or truncated data ("malformed PNG: <reason>", e.g.
            "bad CRC in IDAT chunk").
        PixelLimitError: more than `max_pixels` pixels.
    """

def resize(
    pixels: bytes,
    width: int,
    height: int,
    layout: _Layout | str,
    target_width: int,
    target_height: int,
) -> bytes:
    """Resamples an image with Lanczos3 (fast_image_resize, AVX2), every channel on its own
    (alpha is not premultiplied, as in Pillow), with the GIL released. An axis that shrinks
    by more than 64 is first box-averaged by an integer factor, so memory stays bounded for
    any aspect ratio.

    Arguments:
        pixels: height x width x channels bytes, row-major.
        width, height: the source size.
        layout: "L", "LA", "RGB" or "RGBA".
        target_width, target_height: the size to resample to, each at least 1.

    Returns:
        The target_height x target_width x channels bytes.

    Raises:
        ValueError: an unknown layout, a zero side, or a buffer of the wrong size.
    """

def analysis_size(width: int, height: int) -> tuple[int, int]:
    """The contract's analysis size: unchanged up to 512 px on the longer side, else that
    side 512 and the other int(side x (512 / longer)) in float64, at least 1."""

def sniff(head: bytes) -> _Format | None:
    """The format whose signature `head` starts with: JPEG's FF D8 FF, PNG's eight bytes,
    TIFF's II*\\0 or MM\\0* (BigTIFF's too), RIFF....WEBP, GIF87a/GIF89a, or an ISOBMFF
    `ftyp` box whose brands are AVIF's (avif, avis) or HEIF's (heic, heix, mif1, ...)."""

def declared_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) a TIFF, WebP, GIF, AVIF or HEIF header declares, from its first bytes:
    the first directory's ImageWidth and ImageLength; the VP8X canvas or the VP8/VP8L frame;
    the logical screen; the largest `ispe` property of the `meta` box (the primary image's
    size, never smaller than its tiles or auxiliary images; the box walk is bounded at 4,096
    boxes). None for JPEG, PNG and other bytes, or when the header does not say."""

def pack_rows(data: Buffer, rows: int, stride: int, row_samples: int, bits: int) -> bytes:
    """Tight 8-bit samples from `rows` rows of `stride` bytes, each starting with
    `row_samples` samples: 8-bit samples are copied; for `bits` 9-16, each sample is a
    little-endian 16-bit word holding a `bits`-bit value v in its high bits (libheif's
    layout), narrowed to round(v x 255 / (2^bits - 1)), never clipped.

    Raises:
        ValueError: rows wider than their stride, `bits` outside 8-16, a short buffer.
    """

def decode_denominator(width: int, height: int) -> int:
    """The denominator (8, 4, 2 or 1) of the DCT scale a JPEG of this stored size is decoded
    at: the smallest scale whose longer side is at least DCT_SCALING_MIN_SIDE; images of at
    most 512 px are decoded as they are."""

@final
class ImageAnalysis:
    """What `analyze_image` made of an image: its header facts, and its statistics, or the
    reason a JPEG is left to libjpeg."""

    @property
    def format(self) -> _Format: ...
    @property
    def width(self) -> int:
        """The stored width, before any scaling or turning."""
    @property
    def height(self) -> int: ...
    @property
    def orientation(self) -> int:
        """The EXIF orientation 1-8 (1 when absent or unreadable)."""
    @property
    def denominator(self) -> int:
        """The DCT scale a JPEG is (or is to be) decoded at; 1 for other formats."""
    @property
    def frames(self) -> int:
        """Images in the file (a TIFF's pages, at most 10,000 counted); the first is
        analysed."""
    @property
    def stats(self) -> ImageStatistics | None:
        """The statistics; None when `fallback` is set."""
    @property
    def fallback(self) -> str | None:
        """Why libjpeg must decode this JPEG: "coding" (arithmetic, lossless,
        hierarchical), "cmyk", "precision", "smoothing", "unsupported", "damaged" or
        "disabled"; "format" for WebP, GIF, AVIF and HEIF, which their own decoders read
        (`width` and `height` are then 0); None when the statistics are there."""
    @property
    def decode_seconds(self) -> float:
        """Time from bytes to decoded pixels (0 for a fallback)."""
    @property
    def analysis_seconds(self) -> float:
        """Time from pixels to statistics: resize, turn, measure (0 for a fallback)."""

def analyze_image(
    data: bytes,
    max_pixels: int,
    *,
    colors: bool = False,
    sharpness: bool = False,
    text: bool = False,
    regions: list[tuple[float, float, float, float]] = ...,
    placeholder: tuple[int, int] | None = None,
    timeout: float | None = None,
    jpeg_reader: bool = True,
) -> ImageAnalysis:
    """Sniffs, checks, decodes, resizes, turns and measures an encoded JPEG, PNG or TIFF
    (its first page) in one call, with the GIL released: the pixel limit is checked from the
    header before anything is decoded; a JPEG is decoded at `decode_denominator`'s scale
    exactly as libjpeg would; an image over 512 px is Lanczos-resized to `analysis_size`;
    an embedded ICC profile is converted to sRGB; the orientation is applied; then
    `pixel_statistics`. WebP, GIF, AVIF and HEIF come back as a fallback ("format").

    Arguments:
        data: the encoded image.
        max_pixels: the largest width x height the header may declare.
        colors, sharpness, text: as for `pixel_statistics` (alpha is kept only with
            `colors` or `placeholder`).
        regions: rectangles (x, y, w, h) of the upright image in relative coordinates
            (each in 0-1, x + w and y + h at most 1), measured as the whole is: a pixel
            belongs to one when its centre lies inside (a region thinner than a pixel takes
            the pixel under its middle). At most 64. ValueError for one that is not.
        placeholder: BlurHash components (x, y), each 1-9: compute the placeholders from a
            thumbnail of at most 100 px. ValueError outside the range.
        timeout: seconds the call may take, checked between rows (None: no limit).
        jpeg_reader: off, every JPEG comes back with fallback "disabled".

    Returns:
        The analysis; its `fallback` says when the caller must decode the JPEG another way
        and call `analyze_pixels`.

    Raises:
        DecodeError: not a JPEG or PNG, a PNG that does not decode, a JPEG without a
            usable frame header or with more than MAX_SCANS scans.
        PixelLimitError: more than `max_pixels` pixels.
        DeadlineExceeded: `timeout` passed.
        InternalError: a bug in the core.
    """

def analyze_pixels(
    pixels: Buffer,
    width: int,
    height: int,
    layout: _Layout | str,
    *,
    source_width: int,
    source_height: int,
    orientation: int = 1,
    colors: bool = False,
    sharpness: bool = False,
    text: bool = False,
    regions: list[tuple[float, float, float, float]] = ...,
    placeholder: tuple[int, int] | None = None,
    icc: bytes | None = None,
    timeout: float | None = None,
) -> ImageStatistics:
    """The rest of `analyze_image` for pixels decoded elsewhere, read in place with the GIL
    released: resized to the analysis size of the stored `source_width` x `source_height`
    when the longer side exceeds 512 px, converted from the ICC profile `icc` to sRGB (an
    unusable profile is ignored), turned by `orientation`, measured. `layout` "CMYK" (four
    bytes a pixel, 0 = no ink) is converted with `icc` before the resize (without a CMYK
    profile, as Pillow converts CMYK to RGB).

    Raises:
        ValueError: a wrong layout, size, shape or dtype.
        DeadlineExceeded, InternalError: as for `analyze_image`.
    """

def _panic(message: str) -> None:
    """Panics inside the core, to show that a panic there is raised as InternalError and
    the process goes on (for the tests; never called by the service).

    Raises:
        InternalError: always.
    """
