"""The traffic classes: the images users send, made deterministically from one
real photo (../shared/images sample 3 when that folder holds it, a generated photo
otherwise) and re-encoded the way cameras and sites do, plus the real samples themselves.

Used by the HTTP runner (load/run_http.py) and by the pytest benchmarks; nothing is
downloaded and nothing is written to the repository.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from benches.inputs import REAL_PHOTOS_DIR, photo

#: The photo every generated class is resized from, when present.
SOURCE_PHOTO = REAL_PHOTOS_DIR / "sample3-5000x3330-color-progressive.jpg"
#: Its stand-in otherwise: the same size, from tests/support/synthetic.py.
SOURCE_SIZE = (5000, 3330)
#: EXIF tag 0x0112: Orientation; 6 = "turn 90° clockwise to show", a phone held upright.
EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class TrafficClass:
    name: str
    #: image/jpeg or image/png, as a browser would declare it.
    content_type: str
    make: Callable[[], bytes]
    #: When the class is a file of ../shared/images: it is skipped when the file is absent.
    real_file: str | None = None

    def available(self) -> bool:
        return self.real_file is None or (REAL_PHOTOS_DIR / self.real_file).is_file()


@functools.cache
def source() -> Image.Image:
    """The RGB photo the generated classes come from (decoded once per process)."""
    if SOURCE_PHOTO.is_file():
        with Image.open(SOURCE_PHOTO) as image:
            return image.convert("RGB")
    return Image.fromarray(photo(SOURCE_SIZE))


def _resized(size: tuple[int, int]) -> Image.Image:
    return source().resize(size, Image.Resampling.LANCZOS)


def jpeg(size: tuple[int, int], quality: int, *, progressive: bool = False,
         orientation: int | None = None) -> bytes:
    """The source resized to `size` (stored pixels) and encoded as JPEG, 4:2:0; with
    `orientation`, a real EXIF APP1 segment carries that Orientation tag."""
    options: dict[str, object] = {"quality": quality, "progressive": progressive}
    if orientation is not None:
        exif = Image.Exif()
        exif[EXIF_ORIENTATION] = orientation
        options["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    _resized(size).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    _resized(size).save(buffer, "PNG")  # Pillow's default zlib level (6), as most tools
    return buffer.getvalue()


def _real(file_name: str) -> Callable[[], bytes]:
    return lambda: (REAL_PHOTOS_DIR / file_name).read_bytes()


JPEG, PNG = "image/jpeg", "image/png"

#: Every class, smallest first. Real samples are named for what they are.
CLASSES: tuple[TrafficClass, ...] = (
    TrafficClass("536x354 grey sample", JPEG, _real("sample1-536x354-grayscale.jpg"),
                 "sample1-536x354-grayscale.jpg"),
    TrafficClass("536x354 colour sample", JPEG, _real("sample2-536x354-color.jpg"),
                 "sample2-536x354-color.jpg"),
    TrafficClass("800x533 baseline q80", JPEG, lambda: jpeg((800, 533), 80)),
    TrafficClass("1200x800 progressive q82", JPEG, lambda: jpeg((1200, 800), 82, progressive=True)),
    TrafficClass("1280x853 photo PNG", PNG, lambda: png((1280, 853))),
    TrafficClass("1920x1280 baseline q85", JPEG, lambda: jpeg((1920, 1280), 85)),
    TrafficClass("3000x2000 baseline q92", JPEG, lambda: jpeg((3000, 2000), 92)),
    TrafficClass("4032x2688 baseline q90 EXIF 6", JPEG,
                 lambda: jpeg((4032, 2688), 90, orientation=6)),
    TrafficClass("5000x3330 progressive sample", JPEG,
                 _real("sample3-5000x3330-color-progressive.jpg"),
                 "sample3-5000x3330-color-progressive.jpg"),
)  # fmt: skip


def available_classes() -> list[TrafficClass]:
    """The classes this machine can make (the real samples need ../shared/images)."""
    return [cls for cls in CLASSES if cls.available()]


@functools.cache
def encoded(name: str) -> bytes:
    """The bytes of the class called `name`, made once per process."""
    return next(cls for cls in CLASSES if cls.name == name).make()


def source_description() -> str:
    if SOURCE_PHOTO.is_file():
        return f"resized from {SOURCE_PHOTO.name}"
    return "resized from tests/support/synthetic.py's textured_photo (the real sample is absent)"
