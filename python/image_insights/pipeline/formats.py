"""The formats the core recognises but leaves to the field's own decoders: WebP (libwebp
through pillow-simd), GIF (Pillow's reader), AVIF (libavif with dav1d, from the
pillow-avif-plugin wheel) and HEIC/HEIF (libheif with libde265, from the pillow-heif wheel).

`open_image` reads the header only: the size, held against the pixel limit before anything
is decoded, and the number of frames. `Opened.decode` decodes the first frame (the primary
image of a HEIF file) to 8-bit pixels, with alpha when the file has it, and hands back its
ICC profile for the core to convert. 10- and 12-bit HEIF samples are narrowed by rounding
(`_core.pack_rows`); libavif narrows AVIF's the same way.

A format whose decoder is not installed is missing from `available()`, and its bytes are
refused as any unreadable image is.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .. import _core
from ..errors import CorruptImage, ImageTooLarge
from ..options import FORMATS
from .pillow import DECODE_ERRORS, reason

#: The formats decoded here.
DECODED_HERE: tuple[str, ...] = ("webp", "avif", "heif", "gif")
#: EXIF's orientation tag.
_ORIENTATION = 0x0112
#: The most a decode costs, in bytes per pixel the header declares: the peak RSS growth of
#: `analyze()` in a fresh process on files of 50 megapixels in each format's costliest mode
#: (RGBA; 16-bit TIFF, 10-bit HEIF), rounded up: the decoder's buffer, Pillow's image, the
#: copy handed to the core, the resize (docs/RELIABILITY.md, "Memory ceiling"). A PNG's
#: (RGBA) is what one analysis slot is sized for; a JPEG costs less.
DECODE_BYTES_PER_PIXEL: dict[str, float] = {
    "png": 4.1, "webp": 20.0, "avif": 16.0, "heif": 16.0, "gif": 11.0, "tiff": 12.0,
}  # fmt: skip


def decode_slots(data: bytes, max_pixels: int, slots: int) -> int:
    """How many analysis slots (each sized for the largest PNG of `max_pixels`) decoding
    `data` needs, from its header alone: 1 for JPEG, PNG and unreadable headers, up to
    `slots` (a decode costlier than all of them still runs, alone)."""
    found = _core.sniff(data[: _core.SNIFF_BYTES])
    declared = _core.declared_size(data) if found in DECODE_BYTES_PER_PIXEL else None
    if found is None or declared is None:
        return 1
    pixels = min(declared[0] * declared[1], max_pixels)
    cost = pixels * DECODE_BYTES_PER_PIXEL[found]
    slot = max_pixels * DECODE_BYTES_PER_PIXEL["png"]
    return max(1, min(slots, math.ceil(cost / slot)))


@dataclass(frozen=True)
class Header:
    """What the header says, in the attributes of the core's `ImageAnalysis` (which the
    rest of the pipeline reads)."""

    format: str
    width: int
    height: int
    orientation: int = 1
    frames: int = 1
    denominator: int = 1
    fallback: str = "format"
    stats: None = None
    decode_seconds: float = 0.0
    analysis_seconds: float = 0.0


@dataclass(frozen=True)
class Decoded:
    """8-bit pixels of the first frame (bytes, or a buffer the core reads in place), in a
    layout the core reads, and the ICC profile."""

    pixels: bytes | memoryview
    width: int
    height: int
    layout: str
    icc: bytes | None


@dataclass(frozen=True)
class Opened:
    header: Header
    decode: Callable[[], Decoded] = field(repr=False)


@functools.cache
def available() -> tuple[str, ...]:
    """The formats this installation decodes, in FORMATS order."""
    found = {"jpeg", "png", "tiff", "gif"}
    from PIL import features

    if features.check("webp"):
        found.add("webp")
    try:
        from pillow_avif import AvifImagePlugin  # noqa: F401
    except ImportError:
        pass
    else:
        found.add("avif")
    try:
        import pillow_heif  # noqa: F401
    except ImportError:
        pass
    else:
        found.add("heif")
    return tuple(name for name in FORMATS if name in found)


def open_image(data: bytes, format_name: str, max_pixels: int) -> Opened:
    """The header of `data` (of the format sniffed), its size checked.

    Raises:
        CorruptImage: the header does not parse, or the decoder is not installed.
        ImageTooLarge: more pixels than `max_pixels`.
    """
    if format_name not in available():
        raise CorruptImage(f"no {format_name.upper()} decoder is installed")
    if format_name in ("avif", "heif"):
        # libavif and libheif refuse some huge sizes with errors of their own: the size
        # declared is held against the limit first, so a bomb is refused as one.
        declared = _core.declared_size(data)
        if declared is not None and declared[0] * declared[1] > max_pixels:
            raise ImageTooLarge(declared[0] * declared[1], max_pixels)
    try:
        opened = _OPENERS[format_name](data)
    except (*DECODE_ERRORS, RuntimeError, Warning) as exc:
        raise CorruptImage(reason(exc)) from None
    header = opened.header
    pixels = header.width * header.height
    if pixels > max_pixels:
        raise ImageTooLarge(pixels, max_pixels)
    if pixels == 0:
        raise CorruptImage(f"image declares a size of {header.width}x{header.height}")
    return opened


def _decode_pillow(image: Image.Image) -> Decoded:
    """The first frame of an opened Pillow image, as L, LA, RGB or RGBA."""
    try:
        image.load()
        if image.mode == "P":
            mode = "RGBA" if "transparency" in image.info else "RGB"
        elif image.mode == "PA":
            mode = "RGBA"
        elif image.mode in ("L", "LA", "RGB", "RGBA"):
            mode = image.mode
        elif image.mode == "1":
            mode = "L"
        else:
            mode = "RGBA" if "A" in image.mode else "RGB"
        frame = image if image.mode == mode else image.convert(mode)
        pixels = frame.tobytes()
    except (*DECODE_ERRORS, RuntimeError, Warning) as exc:
        raise CorruptImage(reason(exc)) from None
    return Decoded(pixels, frame.width, frame.height, mode, image.info.get("icc_profile"))


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION, 1)
    except (*DECODE_ERRORS, RuntimeError, Warning):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _open_pillow(name: str, image: Image.Image, frames: int) -> Opened:
    width, height = image.size
    header = Header(name, width, height, _orientation(image), max(1, frames))
    return Opened(header, lambda: _decode_pillow(image))


def _open_webp(data: bytes) -> Opened:
    from PIL import WebPImagePlugin

    image = WebPImagePlugin.WebPImageFile(io.BytesIO(data))
    width, height = image.size
    header = Header("webp", width, height, _orientation(image), max(1, image.n_frames))

    def decode() -> Decoded:
        # libwebp's first frame straight from the decoder Pillow opened (RGBA, or RGBX with
        # an opaque fourth byte): Pillow's own load would copy it into an image, unpack it
        # to RGB and copy it out again, a tenth of the analysis (docs/BENCHMARKS.md).
        try:
            frame = image._decoder.get_next()
        except (*DECODE_ERRORS, RuntimeError, Warning) as exc:
            raise CorruptImage(reason(exc)) from None
        if frame is None or len(frame[0]) != width * height * 4:
            raise CorruptImage("failed to decode the first frame of the WebP file")
        return Decoded(frame[0], width, height, "RGBA", image.info.get("icc_profile"))

    return Opened(header, decode)


def _open_avif(data: bytes) -> Opened:
    from pillow_avif import AvifImagePlugin

    image = AvifImagePlugin.AvifImageFile(io.BytesIO(data))
    return _open_pillow("avif", image, getattr(image, "n_frames", 1))


def _open_gif(data: bytes) -> Opened:
    from PIL import GifImagePlugin

    image = GifImagePlugin.GifImageFile(io.BytesIO(data))
    # Counting frames walks the file's blocks without decoding them: a cost bounded by the
    # upload's size, whatever the frames declare.
    frames = image.n_frames
    image.seek(0)
    return _open_pillow("gif", image, frames)


def _open_heif(data: bytes) -> Opened:
    import pillow_heif

    heif = pillow_heif.open_heif(data, convert_hdr_to_8bit=False)
    width, height = heif.size
    # libheif applies the file's rotation and mirroring (irot, imir) itself; EXIF's
    # orientation is then not to be applied again.
    header = Header("heif", width, height)

    def decode() -> Decoded:
        try:
            mode: str = heif.mode
            bits = int(heif.info.get("bit_depth", 8))
            channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[mode.split(";")[0]]
            width, height = heif.size
            samples = memoryview(heif.data).cast("B")
            stride = heif.stride
            if bits == 8 and stride == width * channels:
                pixels: bytes | memoryview = samples  # read in place, no copy
            else:
                pixels = _core.pack_rows(samples, height, stride, width * channels, bits)
            icc = heif.info.get("icc_profile")
        except (*DECODE_ERRORS, RuntimeError, Warning) as exc:
            raise CorruptImage(reason(exc)) from None
        layout = mode.split(";")[0]
        return Decoded(pixels, width, height, layout, icc or None)

    return Opened(header, decode)


_OPENERS: dict[str, Callable[[bytes], Opened]] = {
    "webp": _open_webp,
    "avif": _open_avif,
    "gif": _open_gif,
    "heif": _open_heif,
}


def frames_of(header: Any) -> int:
    """Frames (pages) of an image whose header is a `Header` or the core's analysis."""
    return int(getattr(header, "frames", 1))
