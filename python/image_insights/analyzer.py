"""Runs the analysis pipeline under the time limit, in a pool of its own threads.

A request waits at most `processing_timeout_seconds` and is then answered with 504; the
abandoned computation finishes in the background (bounded by the pixel limit) and is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from . import http_errors
from .config import Settings
from .imaging import analyze
from .metrics import ServiceMetrics


class Analyzer:
    def __init__(
        self,
        settings: Settings,
        pipeline: Callable[..., dict[str, Any]] = analyze,
        service_metrics: ServiceMetrics | None = None,
    ) -> None:
        self._settings = settings
        self._pipeline = pipeline
        self._service_metrics = service_metrics
        # Decoding is CPU-bound: more threads than this only share the same cores, and each
        # running decode may hold up to ~165 MB (the pixel limit), so the pool size is also
        # the worker's memory bound.
        self._pool = ThreadPoolExecutor(
            max_workers=settings.analysis_threads, thread_name_prefix="analyze"
        )

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
        timings: dict[str, float] = {}
        try:
            return self._pipeline(
                data,
                metrics,
                edge_mode,
                max_pixels=self._settings.max_image_pixels,
                timings=timings,
                jpeg_fast_path=self._settings.jpeg_fast_path,
            )
        finally:
            if self._service_metrics is not None:
                self._service_metrics.observe_stages(timings)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
