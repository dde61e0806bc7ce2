"""The benchmark inputs: synthetic photos drawn from fixed seeds (built once per session),
and the real photos of ../shared/images when that folder exists."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np

# The generators are the tests' own (tests/support/): the benchmarks use the very same code.
from tests.support import synthetic
from tests.support.synthetic import LARGE_SIZE, SMALL_SIZE

#: The two sides of every comparison: the Rust core or `analyze()`, and the NumPy reference.
FAST, REFERENCE = "fast", "reference"
#: Outside the repository: the photos are never committed.
REAL_PHOTOS_DIR = Path(__file__).parents[1].parent / "shared" / "images"


@functools.cache
def photo(size: tuple[int, int]) -> np.ndarray:
    """The (h, w, 3) synthetic photo of `size` (width, height)."""
    return synthetic.textured_photo(*size, seed=size[0])


def _label(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


#: Generated pipeline inputs, by name: how to encode them.
GENERATED: dict[str, Callable[[], bytes]] = {
    f"{_label(SMALL_SIZE)} jpeg baseline": lambda: synthetic.jpeg(photo(SMALL_SIZE)),
    f"{_label(SMALL_SIZE)} png": lambda: synthetic.png(photo(SMALL_SIZE)),
    f"{_label(LARGE_SIZE)} jpeg progressive": lambda: synthetic.jpeg(
        photo(LARGE_SIZE), progressive=True
    ),
    f"{_label(LARGE_SIZE)} jpeg baseline": lambda: synthetic.jpeg(photo(LARGE_SIZE)),
    f"{_label(LARGE_SIZE)} png": lambda: synthetic.png(photo(LARGE_SIZE)),
}


#: Size of the photo PNG of the traffic classes.
PHOTO_PNG_SIZE = (1280, 853)


def _interlaced_png(pixels: np.ndarray) -> bytes:
    """Adam7 RGB PNG of an (h, w, 3) array (pypng: Pillow writes no interlaced PNGs)."""
    import io

    import png as pypng

    height, width, _ = pixels.shape
    buffer = io.BytesIO()
    pypng.Writer(width, height, greyscale=False, interlace=True).write(
        buffer, pixels.reshape(height, -1)
    )
    return buffer.getvalue()


#: PNG decoder inputs (benches/test_png_bench.py, rust_core/benches/png_decoders.rs through
#: scripts/png_bench_inputs.py): photo PNGs of every common kind.
PNG_DECODE: dict[str, Callable[[], bytes]] = {
    f"{_label(PHOTO_PNG_SIZE)} rgb": lambda: synthetic.png(photo(PHOTO_PNG_SIZE)),
    f"{_label(LARGE_SIZE)} rgb": lambda: synthetic.png(photo(LARGE_SIZE)),
    f"{_label(PHOTO_PNG_SIZE)} rgba": lambda: synthetic.png(
        synthetic.with_alpha(photo(PHOTO_PNG_SIZE))
    ),
    f"{_label(PHOTO_PNG_SIZE)} grey": lambda: synthetic.png(
        synthetic.to_grey(photo(PHOTO_PNG_SIZE))
    ),
    f"{_label(PHOTO_PNG_SIZE)} palette": lambda: synthetic.palette_png(photo(PHOTO_PNG_SIZE)),
    f"{_label(PHOTO_PNG_SIZE)} rgb16": lambda: synthetic.png16(
        photo(PHOTO_PNG_SIZE).astype(np.uint16) * 257
    ),
    f"{_label(PHOTO_PNG_SIZE)} rgb adam7": lambda: _interlaced_png(photo(PHOTO_PNG_SIZE)),
}


@functools.cache
def png_input(name: str) -> bytes:
    return PNG_DECODE[name]()


@functools.cache
def encoded(name: str) -> bytes:
    """The bytes of a generated input, or of a real photo named `real:<file name>`."""
    if name.startswith("real:"):
        return (REAL_PHOTOS_DIR / name.removeprefix("real:")).read_bytes()
    return GENERATED[name]()


def real_photo_names() -> list[str]:
    if not REAL_PHOTOS_DIR.is_dir():
        return []
    return [f"real:{path.name}" for path in sorted(REAL_PHOTOS_DIR.glob("*.jp*g"))]


#: Targets of issues 2 and 8, as (fast / reference) speed ratios measured in the same run.
TARGETS: dict[str, float] = {
    f"core {_label(SMALL_SIZE)}": 20.0,
    f"core {_label(LARGE_SIZE)}": 40.0,
    f"{_label(SMALL_SIZE)} jpeg baseline": 3.0,
    f"{_label(LARGE_SIZE)} jpeg progressive": 1.5,
    f"{_label(LARGE_SIZE)} jpeg baseline": 2.0,
}
