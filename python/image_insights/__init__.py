"""Image Insights: brightness analysis of JPEG and PNG images, computed in Rust.

    >>> import image_insights
    >>> image_insights.analyze(jpeg_bytes, metrics="brightness,median", edge_mode="all")
    >>> for item in image_insights.analyze_many(paths, metrics="brightness"):
    ...     print(item.source, item.result or item.error)
    >>> image_insights.analyze_array(numpy_pixels)

`image_insights.dask` runs the same analysis on a Dask cluster (the `dask` extra); importing
this package never imports Dask.

Importing the package changes nothing outside it (Pillow's settings included) and loads
neither Pillow nor the Rust core: those come with the first use of `analyze` or of a core
name, so that a process that only needs a submodule (gunicorn's master reading its settings,
say) stays light.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from .errors import (
    AnalysisTimeout,
    CorruptImage,
    DownloadError,
    EmptyImage,
    ImageInsightsError,
    ImageTooLarge,
    InternalError,
    InvalidArray,
    InvalidEdgeMode,
    InvalidMetrics,
    InvalidPlaceholderComponents,
    InvalidRegions,
    UnreadableFile,
)
from .options import FORMATS, VALID_EDGE_MODES, VALID_METRICS

if TYPE_CHECKING:
    from ._core import ImageStatistics, __version__, pixel_statistics
    from .many import ItemResult, analyze_many
    from .pipeline import SUPPORTED_FORMATS, analyze, analyze_array

#: The names loaded on first use, and the module each comes from.
_LAZY = {
    "analyze": ".pipeline",
    "analyze_array": ".pipeline",
    "SUPPORTED_FORMATS": ".pipeline",
    "analyze_many": ".many",
    "ItemResult": ".many",
    "ImageStatistics": "._core",
    "pixel_statistics": "._core",
    "__version__": "._core",
}


#: Former names, still answered with a DeprecationWarning: the statistics hold colours and
#: sharpness as well as luminance.
_RENAMED = {"LuminanceStats": "ImageStatistics", "luminance_stats": "pixel_statistics"}


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        warnings.warn(
            f"image_insights.{name} is now image_insights.{_RENAMED[name]}", DeprecationWarning, stacklevel=2
        )
        return __getattr__(_RENAMED[name])
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
    "FORMATS",
    "ImageInsightsError",
    "ImageTooLarge",
    "InternalError",
    "InvalidArray",
    "InvalidEdgeMode",
    "InvalidMetrics",
    "InvalidPlaceholderComponents",
    "InvalidRegions",
    "ImageStatistics",
    "ItemResult",
    "SUPPORTED_FORMATS",
    "UnreadableFile",
    "VALID_EDGE_MODES",
    "VALID_METRICS",
    "__version__",
    "analyze",
    "analyze_array",
    "analyze_many",
    "pixel_statistics",
]
