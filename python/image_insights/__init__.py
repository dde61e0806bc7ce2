"""Image Insights: brightness analysis of JPEG and PNG images, computed in Rust.

    >>> import image_insights
    >>> image_insights.analyze(jpeg_bytes, metrics="brightness,median", edge_mode="all")
"""

from ._core import LuminanceStats, __version__, luminance_stats
from .errors import (
    AnalysisTimeout,
    CorruptImage,
    EmptyImage,
    ImageInsightsError,
    ImageTooLarge,
    InternalError,
    InvalidEdgeMode,
    InvalidMetrics,
)
from .pipeline import analyze
from .options import VALID_EDGE_MODES, VALID_METRICS


__all__ = [
    "AnalysisTimeout",
    "CorruptImage",
    "EmptyImage",
    "ImageInsightsError",
    "ImageTooLarge",
    "InternalError",
    "InvalidEdgeMode",
    "InvalidMetrics",
    "LuminanceStats",
    "VALID_EDGE_MODES",
    "VALID_METRICS",
    "__version__",
    "analyze",
    "luminance_stats",
]
