"""Image Insights: brightness analysis of JPEG and PNG images, computed in Rust.

    >>> import image_insights
    >>> image_insights.analyze(jpeg_bytes, metrics="brightness,median", edge_mode="all")

Importing the package changes nothing outside it (Pillow's settings included) and loads
neither Pillow nor the Rust core: those come with the first use of `analyze` or of a core
name, so that a process that only needs a submodule (gunicorn's master reading its settings,
say) stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    AnalysisTimeout,
    CorruptImage,
    DownloadError,
    EmptyImage,
    ImageInsightsError,
    ImageTooLarge,
    InternalError,
    InvalidEdgeMode,
    InvalidMetrics,
)
from .options import VALID_EDGE_MODES, VALID_METRICS

if TYPE_CHECKING:
    from ._core import LuminanceStats, __version__, luminance_stats
    from .pipeline import analyze

#: The names loaded on first use, and the module each comes from.
_LAZY = {
    "analyze": ".pipeline",
    "LuminanceStats": "._core",
    "luminance_stats": "._core",
    "__version__": "._core",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AnalysisTimeout",
    "CorruptImage",
    "DownloadError",
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
