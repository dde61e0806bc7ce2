"""What may be asked for: the `metrics` and `edge_mode` options, as the contract defines and
parses them, the `regions` and `placeholder_components` options of the readable-text and
placeholder additions, and the image types accepted."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import InvalidEdgeMode, InvalidMetrics, InvalidPlaceholderComponents, InvalidRegions

#: Metric names: the contract's three in its order (the 400 body's `valid_metrics`), then
#: the additive ones, whose fields appear only when they are asked for.
VALID_METRICS: tuple[str, ...] = (
    "brightness", "median", "histogram",
    "contrast", "sharpness", "entropy", "colorfulness", "colors", "text", "placeholder",
)  # fmt: skip
DEFAULT_METRICS: tuple[str, ...] = ("brightness",)
#: Edge modes in the order the contract lists them (the 400 body's `valid_modes`).
VALID_EDGE_MODES: tuple[str, ...] = ("left_right", "top_bottom", "all")
#: Image formats by name, the contract's two first, and the media types each may be
#: declared and served as, in the order of the 415 body's `allowed_types`. Whatever the type
#: says, the bytes are sniffed.
FORMAT_MEDIA_TYPES: dict[str, tuple[str, ...]] = {
    "jpeg": ("image/jpeg",),
    "png": ("image/png",),
    "webp": ("image/webp",),
    "avif": ("image/avif",),
    "heif": ("image/heic", "image/heif"),
    "gif": ("image/gif",),
    "tiff": ("image/tiff",),
}
FORMATS: tuple[str, ...] = tuple(FORMAT_MEDIA_TYPES)
#: Other names a format is known by.
_FORMAT_ALIASES = {"jpg": "jpeg", "heic": "heif", "tif": "tiff"}
#: The contract's own media types (the 415 body's `allowed_types` with ACCEPTED_FORMATS=jpeg,png).
ACCEPTED_TYPES: tuple[str, ...] = ("image/jpeg", "image/png")


def parse_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    """Format names (comma-separated or an iterable; case-insensitive; `jpg`, `heic` and
    `tif` as aliases) in the order of FORMATS, each once.

    Raises:
        ValueError: an unknown name, or none at all.
    """
    items = formats.split(",") if isinstance(formats, str) else formats
    names = {_FORMAT_ALIASES.get(name, name) for name in (i.strip().lower() for i in items) if name}
    unknown = sorted(names - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown image formats {unknown}; known: {', '.join(FORMATS)}")
    if not names:
        raise ValueError("no image format named")
    return tuple(name for name in FORMATS if name in names)


def media_types(formats: Iterable[str]) -> tuple[str, ...]:
    """The media types of these formats, in `allowed_types` order."""
    wanted = set(formats)
    return tuple(t for name in FORMATS if name in wanted for t in FORMAT_MEDIA_TYPES[name])


def is_accepted_type(content_type: str, types: tuple[str, ...] = ACCEPTED_TYPES) -> bool:
    """True when the declared type is one of `types`, whatever its case and parameters."""
    return content_type.split(";", 1)[0].strip().lower() in types


def describe_formats(formats: Iterable[str]) -> str:
    """'a JPEG or PNG image', 'a JPEG, PNG or WebP image': what a refusal names."""
    labels = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "avif": "AVIF",
              "heif": "HEIF", "gif": "GIF", "tiff": "TIFF"}  # fmt: skip
    names = [labels[name] for name in FORMATS if name in set(formats)]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"a {listed} image"


def parse_metrics(metrics: str | Iterable[str] | None) -> tuple[str, ...]:
    """Normalises requested metrics: comma-separated, case-insensitive, blanks trimmed,
    empty items ignored, duplicates dropped. Nothing requested means brightness.

    Raises:
        InvalidMetrics: listing the unknown names, normalised, in request order.
    """
    items = metrics.split(",") if isinstance(metrics, str) else (metrics or ())
    names = [item.strip().lower() for item in items]
    names = [name for name in names if name]
    invalid = [name for name in names if name not in VALID_METRICS]
    if invalid:
        raise InvalidMetrics(invalid)
    return tuple(dict.fromkeys(names)) or DEFAULT_METRICS


def parse_edge_mode(edge_mode: str | None) -> str | None:
    """Normalises an edge mode (case-insensitive, trimmed). None, or an empty or blank
    string, means no edge analysis, as an absent parameter does.

    Raises:
        InvalidEdgeMode: carrying the value as sent.
    """
    if edge_mode is None:
        return None
    mode = edge_mode.strip().lower()
    if not mode:
        return None
    if mode not in VALID_EDGE_MODES:
        raise InvalidEdgeMode(edge_mode)
    return mode


#: Named strips (and the centre) a region may be given as, and their default size in percent.
STRIPS: dict[str, float] = {"top": 20.0, "bottom": 20.0, "left": 20.0, "right": 20.0, "center": 50.0}
MAX_REGIONS = 16
#: The forms a region may take (the 400 body's `valid_forms`).
REGION_FORMS: tuple[str, ...] = (
    "top", "bottom", "left", "right", "center", "top:25", "x,y,w,h", "name=x,y,w,h",
)  # fmt: skip
_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
_DECIMAL = re.compile(r"\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")
#: Slack for x + w <= 1 with decimal fractions (as the core allows).
_EDGE_SLACK = 1e-9


@dataclass(frozen=True)
class Region:
    """A region of the upright image: its name and its rectangle in relative coordinates."""

    name: str
    x: float
    y: float
    w: float
    h: float

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.w, self.h)


def _strip(shape: str, percent: float) -> tuple[float, float, float, float]:
    part = percent / 100
    return {
        "top": (0.0, 0.0, 1.0, part),
        "bottom": (0.0, 1.0 - part, 1.0, part),
        "left": (0.0, 0.0, part, 1.0),
        "right": (1.0 - part, 0.0, part, 1.0),
        "center": ((1.0 - part) / 2, (1.0 - part) / 2, part, part),
    }[shape]


def _region(item: str, position: int) -> Region:
    """One region from its text; ValueError with the reason when it is not one."""
    name, _, shape = item.rpartition("=")
    if name and not _NAME.fullmatch(name.strip()):
        raise ValueError("a name is 1 to 32 letters, digits, '-' or '_'")
    name = name.strip()
    shape = shape.strip()
    strip, _, size = shape.lower().partition(":")
    if strip in STRIPS:
        if size and not _DECIMAL.fullmatch(size):
            raise ValueError("a strip's size is a percentage, as in top:25")
        percent = float(size) if size else STRIPS[strip]
        if not 0 < percent <= 100:
            raise ValueError("a strip's size is a percentage above 0 and at most 100")
        x, y, w, h = _strip(strip, percent)
        return Region(name or strip, x, y, w, h)
    parts = shape.split(",")
    if len(parts) != 4 or not all(_DECIMAL.fullmatch(part) for part in parts):
        raise ValueError("a rectangle is four decimals x,y,w,h in 0-1")
    x, y, w, h = (float(part) for part in parts)
    if not (w > 0 and h > 0 and x + w <= 1 + _EDGE_SLACK and y + h <= 1 + _EDGE_SLACK):
        raise ValueError("a rectangle needs w and h above 0, x + w and y + h at most 1")
    return Region(name or f"region-{position}", x, y, w, h)


def parse_regions(regions: str | Iterable[Any] | None) -> tuple[Region, ...]:
    """Regions from `;`-separated text (or a list of such strings): named strips with an
    optional percentage (`top`, `bottom:25`, `center:40`) and rectangles `x,y,w,h` in
    coordinates relative to the upright image, each optionally `name=...`; blank items are
    ignored. Nothing given means none.

    Raises:
        InvalidRegions: listing the items that are not regions (as sent) and why.
    """
    if regions is None:
        return ()
    if isinstance(regions, str):
        items: list[Any] = [regions]
    elif isinstance(regions, Iterable):
        items = list(regions)
    else:
        raise InvalidRegions([repr(regions)], "regions are a string or a list of strings")
    if all(isinstance(item, Region) for item in items):
        return tuple(items)  # already parsed
    texts: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidRegions([repr(item)], "each region is a string")
        texts.extend(part for part in item.split(";") if part.strip())
    if len(texts) > MAX_REGIONS:
        raise InvalidRegions(texts[MAX_REGIONS:], f"at most {MAX_REGIONS} regions")
    parsed: list[Region] = []
    invalid: list[str] = []
    reasons: list[str] = []
    for position, text in enumerate(texts, start=1):
        try:
            parsed.append(_region(text, position))
        except ValueError as exc:
            invalid.append(text)
            reasons.append(str(exc))
    if invalid:
        raise InvalidRegions(invalid, reasons[0])
    names = [region.name for region in parsed]
    repeated = [text for text, name in zip(texts, names, strict=True) if names.count(name) > 1]
    if repeated:
        raise InvalidRegions(repeated, "region names must be unique")
    assert all(math.isfinite(v) for region in parsed for v in region.rect)
    return tuple(parsed)


DEFAULT_PLACEHOLDER_COMPONENTS: tuple[int, int] = (4, 3)
_COMPONENTS = re.compile(r"\s*([1-9])\s*[xX]\s*([1-9])\s*")


def parse_placeholder_components(components: str | tuple[int, int] | None) -> tuple[int, int]:
    """BlurHash components as `XxY` (each 1-9; `4x3` when not given), or an (x, y) pair.

    Raises:
        InvalidPlaceholderComponents: carrying the value as sent.
    """
    if components is None:
        return DEFAULT_PLACEHOLDER_COMPONENTS
    if isinstance(components, tuple):
        x, y = components
        if isinstance(x, int) and isinstance(y, int) and 1 <= x <= 9 and 1 <= y <= 9:
            return (x, y)
        raise InvalidPlaceholderComponents(repr(components))
    if not isinstance(components, str):
        raise InvalidPlaceholderComponents(repr(components))
    if not components.strip():
        return DEFAULT_PLACEHOLDER_COMPONENTS
    match = _COMPONENTS.fullmatch(components)
    if match is None:
        raise InvalidPlaceholderComponents(components)
    return (int(match[1]), int(match[2]))


def cache_fields(
    metrics: tuple[str, ...], regions: tuple[Region, ...], components: tuple[int, int]
) -> tuple[str, ...]:
    """What, beyond the metrics and the edge mode, makes two results differ: each region
    (name and rectangle, exactly), and the placeholder components when placeholders are
    asked for. Empty when neither is asked for."""
    fields = [f"region {r.name} {r.x!r} {r.y!r} {r.w!r} {r.h!r}" for r in regions]
    if "placeholder" in metrics:
        fields.append(f"placeholder {components[0]}x{components[1]}")
    return tuple(fields)
