"""Pixels decoded elsewhere (a NumPy array, or any object with the buffer protocol) analysed
as a decoded image is: the same resize to the analysis size, the same statistics, with no
encoding round trip.

8-bit pixels are read in place when they are C-contiguous (copied once into row-major order
when not); 16-bit pixels are narrowed to 8 bits first by the PNG decoder's rule,
floor(v / 257 + 1/2), which never clips. NumPy is needed only for 16-bit pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InvalidArray

#: The layout of each number of channels (the last axis of a 3-D array; a 2-D array is "L").
LAYOUTS = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
#: Samples narrowed from 16 to 8 bits at a time: bounds the scratch memory to 4 bytes each.
_NARROW_CHUNK = 1 << 20
_BYTE_ORDER_MARKS = "@=<>!"
#: Struct format characters to the NumPy names people know them by, for error messages.
_FORMAT_NAMES = {
    "?": "bool", "b": "int8", "h": "int16", "i": "int32", "l": "int64", "q": "int64",
    "I": "uint32", "L": "uint64", "Q": "uint64", "e": "float16", "f": "float32",
    "d": "float64", "O": "object",
}  # fmt: skip


@dataclass(frozen=True)
class Pixels:
    """An array's pixels as the core reads them: a uint8 buffer, its size and layout."""

    buffer: Any
    width: int
    height: int
    layout: str


def pixels_of(array: Any) -> Pixels:
    """The pixels of an array of shape (H, W), (H, W, 1), (H, W, 2), (H, W, 3) or
    (H, W, 4), uint8 or uint16 (any byte order), without a copy where the layout allows.

    Raises:
        InvalidArray: not a buffer, a shape that is not an image, another element type.
    """
    try:
        view = memoryview(array)
    except TypeError:
        raise InvalidArray(
            f"expected a NumPy array or another buffer of pixels, got {type(array).__name__}"
        ) from None
    shape = tuple(view.shape or ())
    if len(shape) == 2:
        height, width, channels = shape[0], shape[1], 1
    elif len(shape) == 3:
        height, width, channels = shape
    else:
        channels = 0
    layout = LAYOUTS.get(channels)
    if layout is None:
        raise InvalidArray(
            f"an array of shape {shape} is not an image: expected (height, width), "
            "(height, width, 3) or (height, width, 4)"
        )
    if height == 0 or width == 0:
        raise InvalidArray(f"an array of shape {shape} has no pixels")
    kind = view.format.lstrip(_BYTE_ORDER_MARKS)
    if kind == "B" and view.itemsize == 1:
        buffer: Any = view if view.c_contiguous else view.tobytes()
    elif kind == "H" and view.itemsize == 2:
        buffer = _narrow(view)
    else:
        name = str(getattr(array, "dtype", "")) or _FORMAT_NAMES.get(kind, repr(view.format))
        raise InvalidArray(f"pixels must be uint8 or uint16, got {name}")
    return Pixels(buffer, width, height, layout)


def _narrow(view: memoryview) -> Any:
    """16-bit samples as 8-bit ones, floor(v / 257 + 1/2) each, in the array's shape."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - NumPy is there wherever 16-bit arrays come from
        raise ImportError("analysing 16-bit pixels needs NumPy (pip install numpy)") from None
    samples = np.asarray(view).reshape(-1)  # any byte order: astype below reads it right
    narrowed = np.empty(samples.shape, np.uint8)
    for start in range(0, samples.size, _NARROW_CHUNK):
        chunk = samples[start : start + _NARROW_CHUNK].astype(np.uint32)
        chunk += 128
        chunk //= 257
        narrowed[start : start + _NARROW_CHUNK] = chunk
    return narrowed.reshape(view.shape)
