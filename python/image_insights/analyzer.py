"""Runs the analysis pipeline under the time limit, in a pool of its own threads.

A request waits at most `processing_timeout_seconds` and is then answered with 504; the
abandoned computation finishes in the background (bounded by the pixel limit) and is dropped.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from collections.abc import Callable
from typing import Any

from . import http_errors
from .config import Settings
from .imaging import analyze
from .metrics import ServiceMetrics


class Analyzer:
    def __init__(
        self,
        settings: Settings,
        max_workers: int = 8,
        pipeline: Callable[..., dict[str, Any]] = analyze,
        service_metrics: ServiceMetrics | None = None,
    ) -> None:
        self._settings = settings
        self._pipeline = pipeline
        self._service_metrics = service_metrics
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="analyze")

    def __call__(
        self, data: bytes, metrics: tuple[str, ...], edge_mode: str | None
    ) -> dict[str, Any]:
        """The contract's fields for `data`; raises the pipeline's typed errors, or the 504."""
        future = self._pool.submit(self._run, data, metrics, edge_mode)
        timeout = self._settings.processing_timeout_seconds
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()
            raise http_errors.processing_timeout(timeout) from None

    def _run(
        self, data: bytes, metrics: tuple[str, ...], edge_mode: str | None
    ) -> dict[str, Any]:
        max_pixels = self._settings.max_image_pixels
        fast_path = self._settings.jpeg_fast_path
        if self._service_metrics is None:
            return self._pipeline(
                data, metrics, edge_mode, max_pixels=max_pixels, jpeg_fast_path=fast_path
            )
        timings: dict[str, float] = {}
        try:
            return self._pipeline(
                data,
                metrics,
                edge_mode,
                max_pixels=max_pixels,
                timings=timings,
                jpeg_fast_path=fast_path,
            )
        finally:
            self._service_metrics.observe_stages(timings)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
