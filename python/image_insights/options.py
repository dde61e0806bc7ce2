"""What may be asked for: the `metrics` and `edge_mode` options, as the contract defines and
parses them, and the image types accepted."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import InvalidEdgeMode, InvalidMetrics

#: Metric names: the contract's three in its order (the 400 body's `valid_metrics`), then
#: the additive ones, whose fields appear only when they are asked for.
VALID_METRICS: tuple[str, ...] = (
    "brightness", "median", "histogram",
    "contrast", "sharpness", "entropy", "colorfulness", "colors",
)  # fmt: skip
DEFAULT_METRICS: tuple[str, ...] = ("brightness",)
#: Edge modes in the order the contract lists them (the 400 body's `valid_modes`).
VALID_EDGE_MODES: tuple[str, ...] = ("left_right", "top_bottom", "all")
#: The media types an upload may declare and a download may be served as (the 415 body's
#: `allowed_types`); the bytes are still sniffed, whatever the type says.
ACCEPTED_TYPES: tuple[str, ...] = ("image/jpeg", "image/png")


def is_accepted_type(content_type: str) -> bool:
    """True for image/jpeg and image/png, whatever their case and parameters."""
    return content_type.split(";", 1)[0].strip().lower() in ACCEPTED_TYPES


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
