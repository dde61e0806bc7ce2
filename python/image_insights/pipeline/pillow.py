"""The Pillow fallback: JPEGs the Rust reader leaves to libjpeg (arithmetic coding, CMYK
and YCCK, 12-bit, lossless, progressive files libjpeg smooths, damage libjpeg reads
through). libjpeg decodes them at the DCT scale the Rust path would have used (Pillow's
`draft`); resizing, orientation and statistics then run in the core as for any image.

Pillow's global settings are left as they are: the pixel limit was checked from the
header before this runs.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from ..errors import CorruptImage

#: What Pillow raises on bytes it cannot decode.
DECODE_ERRORS = (
    UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError,
    KeyError, ZeroDivisionError, MemoryError, Image.DecompressionBombError,
)  # fmt: skip


def decode(data: bytes, denominator: int) -> tuple[bytes, int, int, str, bytes | None]:
    """(pixels, width, height, mode, ICC profile) of a JPEG decoded by libjpeg at scale
    1/`denominator`, as 8-bit "L" (greyscale), "RGB", or "CMYK" (CMYK and YCCK with an ICC
    profile, for the core to convert with it; without one, "RGB" by Pillow's conversion).

    Raises:
        CorruptImage: Pillow cannot decode it.
    """
    try:
        image = Image.open(io.BytesIO(data), formats=["JPEG"])
        width, height = image.size
        if denominator > 1 and min(width, height) >= denominator:
            # draft picks the largest scale s <= min(w // (w // d), h // (h // d)): d.
            image.draft(None, (width // denominator, height // denominator))
        # libjpeg's arithmetic decoder cannot suspend for more input: give it the whole
        # file at once instead of Pillow's 64 KB blocks.
        image.decodermaxblock = max(len(data), image.decodermaxblock)
        image.load()
        icc = image.info.get("icc_profile") or None
        keep = ("L", "RGB", "CMYK") if icc else ("L", "RGB")
        decoded: Image.Image = image if image.mode in keep else image.convert("RGB")
    except (*DECODE_ERRORS, Warning) as exc:  # a warning, where warnings are errors
        raise CorruptImage(reason(exc)) from None
    return decoded.tobytes(), decoded.width, decoded.height, decoded.mode, icc


def reason(exc: BaseException) -> str:
    """A short, safe description of a decoding failure (no paths, no tracebacks)."""
    if isinstance(exc, MemoryError):
        return "image too large to decode"
    if isinstance(exc, UnidentifiedImageError):
        return "the bytes could not be identified as an image"  # Pillow's text names objects
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]

