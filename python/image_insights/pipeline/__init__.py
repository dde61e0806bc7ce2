"""The analysis pipeline: bytes in, the contract's response fields out.

One call into the Rust core does all of it for JPEG, PNG and TIFF, with the GIL released:
sniff the format, check the pixel limit from the header, decode (a JPEG at the smallest DCT
scale that still covers the analysis), resize to the analysis size, convert from an
embedded ICC profile to sRGB, turn as the EXIF orientation says, measure. The JPEGs it
leaves to libjpeg come back as a fallback: Pillow decodes them (`pillow.py`) and the core
does the rest. WebP, AVIF, HEIF and GIF are sniffed here, their headers read and their
size checked by their own decoders (`formats.py`), and their pixels take the same fallback
path into the core. `fields.py` turns statistics into the response. `analyze_array` takes
pixels decoded elsewhere (`arrays.py`) through the same resize and statistics.

`prepare` runs the core's part and says whether the fallback is needed, so that a server
can run the fallback where it can abandon it; `analyze` does everything in the caller's
thread.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import _core
from ..errors import AnalysisTimeout, CorruptImage, EmptyImage, ImageTooLarge, InternalError
from ..limits import ANALYSIS_MAX_SIDE, DEFAULT_MAX_PIXELS
from ..options import (
    DEFAULT_PLACEHOLDER_COMPONENTS,
    Region,
    describe_formats,
    parse_edge_mode,
    parse_formats,
    parse_metrics,
    parse_placeholder_components,
    parse_regions,
)
from . import formats as decoders
from . import pillow
from .arrays import pixels_of
from .fields import ALGORITHM, HISTOGRAM_RANGES, build_result

#: The formats this installation decodes (names of options.FORMATS).
SUPPORTED_FORMATS: tuple[str, ...] = decoders.available()


@dataclass(frozen=True)
class Prepared:
    """What the core made of one image: its statistics, or the fallback still to run."""

    metrics: tuple[str, ...]
    edge_mode: str | None
    #: The core's analysis, or the header a format's own decoder read (`formats.Header`).
    analysis: _core.ImageAnalysis | decoders.Header
    data: bytes
    regions: tuple[Region, ...] = ()
    placeholder_components: tuple[int, int] = DEFAULT_PLACEHOLDER_COMPONENTS
    opened: decoders.Opened | None = None

    @property
    def width(self) -> int:
        return self.analysis.width

    @property
    def height(self) -> int:
        return self.analysis.height

    @property
    def fallback(self) -> str | None:
        """Why libjpeg must decode this image (a fixed set of words), or None."""
        return self.analysis.fallback

    @property
    def stats(self) -> _core.ImageStatistics | None:
        return self.analysis.stats

    def decode_with_pillow(self, timeout: float | None = None) -> _core.ImageStatistics:
        """The fallback: libjpeg decodes the image at the scale the core chose, the core
        resizes, turns and measures it (in `timeout` seconds, once decoded).

        Raises:
            CorruptImage, AnalysisTimeout, InternalError.
        """
        facts = self.analysis
        if self.opened is not None:
            decoded = self.opened.decode()
            pixels, width, height, mode = (decoded.pixels, decoded.width, decoded.height,
                                           decoded.layout)  # fmt: skip
            icc = decoded.icc
        else:
            pixels, width, height, mode, icc = pillow.decode(self.data, facts.denominator)
        stats: _core.ImageStatistics = _run_core(
            _core.analyze_pixels,
            pixels,
            width,
            height,
            mode,
            source_width=facts.width,
            source_height=facts.height,
            orientation=facts.orientation,
            **_core_options(self.metrics, self.regions, self.placeholder_components),
            icc=icc,
            timeout=timeout,
        )
        return stats

    def result(self, stats: _core.ImageStatistics) -> dict[str, Any]:
        """The contract's response fields for these statistics."""
        facts = self.analysis
        return build_result(
            stats, self.metrics, self.edge_mode, facts.width, facts.height, facts.orientation,
            self.regions, self.placeholder_components, frames=decoders.frames_of(facts),
        )  # fmt: skip


def prepare(
    data: bytes,
    metrics: str | Iterable[str] | None = "brightness",
    edge_mode: str | None = None,
    *,
    regions: str | Iterable[str | Region] | None = None,
    placeholder_components: str | tuple[int, int] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    timeout: float | None = None,
    jpeg_reader: bool = True,
    formats: str | Iterable[str] | None = None,
) -> Prepared:
    """Validates the options and runs the core's one call on `data` (or, for a format the
    core leaves to its own decoder, reads its header). Without `jpeg_reader`, every JPEG
    takes the Pillow fallback (for comparisons). `formats` narrows the formats accepted
    (names, as `parse_formats` reads them; None: all supported).

    Raises:
        InvalidMetrics, InvalidEdgeMode, InvalidRegions, InvalidPlaceholderComponents,
        EmptyImage, CorruptImage (also bytes of a format not accepted), ImageTooLarge,
        AnalysisTimeout (`timeout` seconds passed), InternalError (a bug in the core).
    """
    wanted = parse_metrics(metrics)
    mode = parse_edge_mode(edge_mode)
    areas = parse_regions(regions)
    components = parse_placeholder_components(placeholder_components)
    if not data:
        raise EmptyImage()
    accepted = accepted_formats(formats)
    found = _core.sniff(data[: _core.SNIFF_BYTES])
    if found not in accepted:
        raise CorruptImage(f"not {describe_formats(accepted)}")
    if found in decoders.DECODED_HERE:
        opened = decoders.open_image(data, found, max_pixels)
        return Prepared(wanted, mode, opened.header, data, areas, components, opened)
    analysis = _run_core(
        _core.analyze_image,
        data,
        max_pixels,
        **_core_options(wanted, areas, components),
        timeout=timeout,
        jpeg_reader=jpeg_reader,
    )
    return Prepared(wanted, mode, analysis, data, areas, components)


def analyze(
    data: bytes,
    metrics: str | Iterable[str] | None = "brightness",
    edge_mode: str | None = None,
    *,
    regions: str | Iterable[str | Region] | None = None,
    placeholder_components: str | tuple[int, int] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    timeout: float | None = None,
    jpeg_reader: bool = True,
    formats: str | Iterable[str] | None = None,
) -> dict[str, Any]:
    """Analyses an encoded image (JPEG, PNG, WebP, AVIF, HEIF, GIF or TIFF, recognised by
    its bytes) and returns the contract's response fields (all but
    `cached` and `processing_time_ms`, which belong to the HTTP layer).

    Arguments:
        data: the encoded image.
        metrics: names from VALID_METRICS, comma-separated or as an iterable.
        edge_mode: 'left_right', 'top_bottom', 'all' or None.
        regions: regions of the upright image measured besides the whole, `;`-separated
            (or a list): `top`, `bottom`, `left`, `right`, `center` with an optional
            percentage (`bottom:25`), or `x,y,w,h` in 0-1; each optionally `name=...`.
        placeholder_components: BlurHash components `XxY` of the `placeholder` metric
            (default 4x3).
        max_pixels: the largest width x height accepted.
        timeout: seconds the core may spend on the image (None: no limit).
        jpeg_reader: JPEGs decoded by the core's reader (off: all by libjpeg via Pillow).
        formats: the formats accepted (names of FORMATS, comma-separated or an iterable;
            None: every one in SUPPORTED_FORMATS); bytes of another are a CorruptImage.

    Raises:
        InvalidMetrics, InvalidEdgeMode, InvalidRegions, InvalidPlaceholderComponents,
        EmptyImage, CorruptImage, ImageTooLarge, AnalysisTimeout, InternalError.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        prepared = prepare(
            data, metrics, edge_mode, regions=regions,
            placeholder_components=placeholder_components, max_pixels=max_pixels,
            timeout=timeout, jpeg_reader=jpeg_reader, formats=formats,
        )  # fmt: skip
        stats = prepared.stats
        if stats is None:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            stats = prepared.decode_with_pillow(left)
    except AnalysisTimeout:
        raise AnalysisTimeout(timeout or 0.0) from None
    return prepared.result(stats)


def analyze_array(
    array: Any,
    metrics: str | Iterable[str] | None = "brightness",
    edge_mode: str | None = None,
    *,
    regions: str | Iterable[str | Region] | None = None,
    placeholder_components: str | tuple[int, int] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Analyses decoded pixels as `analyze` analyses a decoded image (the same resize to at
    most 512 px, the same fields; `width` and `height` are the array's), reading 8-bit
    pixels in place.

    Arguments:
        array: a NumPy array (or any buffer) of shape (H, W) for grey, (H, W, 3) for RGB or
            (H, W, 4) for RGBA ((H, W, 1) and grey + alpha (H, W, 2) too), uint8 or uint16;
            16-bit samples v become floor(v / 257 + 1/2), as in a 16-bit PNG.
        metrics, edge_mode, regions, placeholder_components, timeout: as for `analyze`.

    Raises:
        InvalidMetrics, InvalidEdgeMode, InvalidRegions, InvalidPlaceholderComponents,
        InvalidArray (a shape or element type that is not an image's), AnalysisTimeout,
        InternalError.
    """
    wanted = parse_metrics(metrics)
    mode = parse_edge_mode(edge_mode)
    areas = parse_regions(regions)
    components = parse_placeholder_components(placeholder_components)
    pixels = pixels_of(array)
    stats: _core.ImageStatistics = _run_core(
        _core.analyze_pixels,
        pixels.buffer,
        pixels.width,
        pixels.height,
        pixels.layout,
        source_width=pixels.width,
        source_height=pixels.height,
        **_core_options(wanted, areas, components),
        timeout=timeout,
    )
    return build_result(
        stats, wanted, mode, pixels.width, pixels.height, 1, areas, components
    )


def accepted_formats(formats: str | Iterable[str] | None) -> tuple[str, ...]:
    """The formats of `formats` this installation decodes (all of them for None).

    Raises:
        ValueError: an unknown format name, or none.
    """
    if formats is None:
        return SUPPORTED_FORMATS
    wanted = parse_formats(formats)
    return tuple(name for name in wanted if name in SUPPORTED_FORMATS)


def sniff_format(head: bytes, formats: str | Iterable[str] | None = None) -> str:
    """The format of an image from its first bytes (`_core.SNIFF_BYTES` suffice), whatever
    type was declared: one of `formats` (None: any supported).

    Raises:
        CorruptImage: none of them.
    """
    accepted = accepted_formats(formats)
    found = _core.sniff(head)
    if found not in accepted:
        raise CorruptImage(f"not {describe_formats(accepted)}")
    return found


def _core_options(
    metrics: tuple[str, ...], regions: tuple[Region, ...], components: tuple[int, int]
) -> dict[str, Any]:
    """What the core computes for these metrics, regions and placeholder components."""
    return {
        "colors": "colors" in metrics or "colorfulness" in metrics,
        "sharpness": "sharpness" in metrics,
        "text": "text" in metrics,
        "regions": [region.rect for region in regions],
        "placeholder": components if "placeholder" in metrics else None,
    }


def _run_core(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Calls the core, its failures as the pipeline's typed errors."""
    try:
        return function(*args, **kwargs)
    except _core.PixelLimitError as exc:
        pixels, max_pixels = exc.args
        raise ImageTooLarge(pixels, max_pixels) from None
    except _core.DecodeError as exc:
        raise CorruptImage(str(exc)) from None
    except _core.DeadlineExceeded:
        raise AnalysisTimeout(kwargs.get("timeout") or 0.0) from None
    except _core.InternalError as exc:
        raise InternalError(str(exc)) from None


__all__ = [
    "ALGORITHM",
    "ANALYSIS_MAX_SIDE",
    "DEFAULT_MAX_PIXELS",
    "HISTOGRAM_RANGES",
    "Prepared",
    "SUPPORTED_FORMATS",
    "accepted_formats",
    "analyze",
    "analyze_array",
    "prepare",
    "sniff_format",
]
