"""The contract's response fields from the core's statistics, rounded as Python's `round`
does; fields of the metrics beyond the contract's three appear only when asked for."""

from __future__ import annotations

import base64
from typing import Any

from .. import _core
from ..options import DEFAULT_PLACEHOLDER_COMPONENTS, Region
from .readable import text_block

ALGORITHM = "rec709"
#: Contract histogram labels, bucket i covering [i x 25.6, (i + 1) x 25.6).
HISTOGRAM_RANGES: tuple[str, ...] = (
    "0-24", "25-50", "51-75", "76-101", "102-127",
    "128-152", "153-178", "179-203", "204-229", "230-255",
)  # fmt: skip

#: Which strips' colours each edge mode reports, in the core's side order.
_EDGE_SIDES = {
    "left_right": ("left", "right"),
    "top_bottom": ("top", "bottom"),
    "all": ("left", "right", "top", "bottom"),
}
def build_result(
    stats: _core.ImageStatistics,
    metrics: tuple[str, ...],
    edge_mode: str | None,
    width: int,
    height: int,
    orientation: int = 1,
    regions: tuple[Region, ...] = (),
    placeholder_components: tuple[int, int] = DEFAULT_PLACEHOLDER_COMPONENTS,
    frames: int = 1,
) -> dict[str, Any]:
    """The response fields of one analysis (all but `cached` and `processing_time_ms`,
    which belong to the HTTP layer): `frames` only for a file of several frames (the
    first is measured), `color_profile` only when an embedded profile was converted."""
    result = metric_fields(stats, metrics, edge_mode)
    if regions:
        result["regions"] = [
            {"name": region.name, "x": region.x, "y": region.y, "w": region.w, "h": region.h,
             **metric_fields(region_stats, metrics)}
            for region, region_stats in zip(regions, stats.regions, strict=True)
        ]  # fmt: skip
    if "placeholder" in metrics and stats.placeholder is not None:
        blurhash, thumbhash, average, preview = stats.placeholder
        result["placeholder"] = {
            "blurhash": blurhash,
            "blurhash_components": list(placeholder_components),
            "thumbhash": base64.b64encode(thumbhash).decode("ascii"),
            "average_color": average,
            "thumbhash_data_url": "data:image/png;base64," + base64.b64encode(preview).decode("ascii"),
        }
    result["width"] = width
    result["height"] = height
    if orientation != 1:
        result["orientation"] = orientation
    if frames > 1:
        result["frames"] = {"count": frames, "analyzed": "first"}
    if stats.color_profile is not None:
        result["color_profile"] = {
            "source": "icc", "description": stats.color_profile, "converted_to": "sRGB",
        }  # fmt: skip
    result["algorithm"] = ALGORITHM
    return result


def metric_fields(
    stats: _core.ImageStatistics, metrics: tuple[str, ...], edge_mode: str | None = None
) -> dict[str, Any]:
    """The fields of the metrics asked for (and of the edges, for an edge mode): the whole
    image's, or a region's."""
    result: dict[str, Any] = {}
    if "brightness" in metrics:
        result["brightness_score"] = _score(stats.mean)
        result["average_luminance"] = round(stats.mean, 2)
    if "median" in metrics:
        result["median_luminance"] = round(stats.median, 2)
    if "histogram" in metrics:
        total = stats.pixel_count
        result["histogram"] = [
            {"range": label, "percent": round(count / total * 100, 1)}
            for label, count in zip(HISTOGRAM_RANGES, stats.buckets, strict=True)
        ]
    if edge_mode is not None:
        edge_mean = stats.edge_mean(edge_mode)
        result["edge_brightness_score"] = _score(edge_mean)
        result["edge_average_luminance"] = round(edge_mean, 2)
        result["edge_mode"] = edge_mode
    if "contrast" in metrics:
        result["contrast_rms"] = round(stats.contrast_rms, 2)
        result["luminance_p5"] = round(stats.p5, 2)
        result["luminance_p95"] = round(stats.p95, 2)
        result["dynamic_range"] = round(stats.p95 - stats.p5, 2)
    if "sharpness" in metrics and stats.sharpness is not None:
        result["sharpness"] = round(stats.sharpness, 2)
    if "entropy" in metrics:
        result["entropy_bits"] = round(stats.entropy_bits, 3)
    if "colorfulness" in metrics or "colors" in metrics:
        _add_colour_fields(result, stats, metrics, edge_mode)
    if "text" in metrics and stats.relative_luminance is not None:
        result["text"] = text_block(*stats.relative_luminance)
    return result


def _add_colour_fields(
    result: dict[str, Any],
    stats: _core.ImageStatistics,
    metrics: tuple[str, ...],
    edge_mode: str | None,
) -> None:
    if "colorfulness" in metrics:
        colorfulness = stats.colorfulness
        result["colorfulness"] = None if colorfulness is None else round(colorfulness, 2)
    if "colors" not in metrics:
        return
    opaque = stats.opaque_pixel_count or 0
    result["average_color"] = stats.average_color
    result["dominant_colors"] = [
        {"color": color, "percent": round(count / opaque * 100, 1)}
        for color, count in (stats.dominant_colors or [])
    ]
    if edge_mode is not None and stats.edge_colors is not None:
        sides = stats.edge_colors
        result["edge_colors"] = {side: sides[side] for side in _EDGE_SIDES[edge_mode]}


def _score(mean_luminance: float) -> int:
    return round(mean_luminance / 255 * 100)
