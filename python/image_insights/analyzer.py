"""Runs the analysis pipeline for the web layer, under the time limit and within the
worker's bounds.

The core's one call runs in the request's own thread, with the time left as its deadline
(it checks it between rows and answers `AnalysisTimeout`). The Pillow fallback cannot be
stopped once started, so it runs in a pool of its own, where the request can stop waiting
for it. A worker has `analysis_threads` slots, each sized for the largest PNG decode: an
analysis takes the slots its decode needs (one for a JPEG or PNG; more for a large WebP,
AVIF, HEIF, GIF or TIFF, which are decoded whole: `formats.decode_slots`, from the header)
before it decodes, and gives them back when its work has really ended (an abandoned
fallback keeps them until Pillow returns), which bounds a worker's memory by slots x the
largest PNG decode (docs/RELIABILITY.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from .config import Settings
from .errors import AnalysisTimeout
from .monitoring import ServiceMetrics
from .options import DEFAULT_PLACEHOLDER_COMPONENTS, Region
from .pipeline import Prepared, prepare
from .pipeline.formats import decode_slots


class _Slots:
    """A counting budget that is taken and given back several units at a time, all at once
    (a request never holds some while it waits for more)."""

    def __init__(self, total: int) -> None:
        self._free = total
        self._changed = threading.Condition()

    def acquire(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._free < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            self._free -= count
            return True

    def release(self, count: int) -> None:
        with self._changed:
            self._free += count
            self._changed.notify_all()


class Analyzer:
    def __init__(
        self,
        settings: Settings,
        pipeline: Callable[..., Prepared] = prepare,
        service_metrics: ServiceMetrics | None = None,
    ) -> None:
        self._settings = settings
        self._prepare = pipeline
        self._service_metrics = service_metrics
        self._slots = _Slots(settings.analysis_threads)
        self._fallbacks = ThreadPoolExecutor(
            max_workers=settings.analysis_threads, thread_name_prefix="pillow"
        )

    def __call__(
        self,
        data: bytes,
        metrics: tuple[str, ...],
        edge_mode: str | None,
        regions: tuple[Region, ...] = (),
        placeholder_components: tuple[int, int] = DEFAULT_PLACEHOLDER_COMPONENTS,
    ) -> dict[str, Any]:
        """The contract's fields for `data`.

        Raises:
            the pipeline's errors; AnalysisTimeout when the time limit passes first.
        """
        limit = self._settings.processing_timeout_seconds
        deadline = time.monotonic() + limit

        def remaining() -> float:
            return max(0.0, deadline - time.monotonic())

        slots = decode_slots(data, self._settings.max_image_pixels, self._settings.analysis_threads)
        if not self._slots.acquire(slots, timeout=limit):
            raise AnalysisTimeout(limit)
        handed_over = False
        try:
            prepared = self._prepare(
                data,
                metrics,
                edge_mode,
                regions=regions,
                placeholder_components=placeholder_components,
                max_pixels=self._settings.max_image_pixels,
                timeout=remaining(),
                jpeg_reader=self._settings.jpeg_fast_path,
                formats=self._settings.accepted_formats,
            )
            stats = prepared.stats
            if stats is None:
                started = time.perf_counter()
                future = self._fallbacks.submit(self._fallback, prepared, remaining(), slots)
                handed_over = True
                try:
                    stats = future.result(timeout=remaining())
                except FutureTimeout:
                    raise AnalysisTimeout(limit) from None
                self._observe(prepared, {"decode": time.perf_counter() - started})
            else:
                facts = prepared.analysis
                timings = {"decode": facts.decode_seconds, "analysis": facts.analysis_seconds}
                self._observe(prepared, timings)
            return prepared.result(stats)
        except AnalysisTimeout:
            raise AnalysisTimeout(limit) from None  # the limit, not the time left
        finally:
            if not handed_over:
                self._slots.release(slots)

    def _fallback(self, prepared: Prepared, timeout: float, slots: int) -> Any:
        """Pillow's decode and the core's rest, holding the request's slots to the end."""
        try:
            return prepared.decode_with_pillow(timeout)
        finally:
            self._slots.release(slots)

    def _observe(self, prepared: Prepared, seconds_by_stage: dict[str, float]) -> None:
        if self._service_metrics is not None:
            self._service_metrics.observe_decode(prepared.fallback, prepared.analysis.format)
            self._service_metrics.observe_stages(seconds_by_stage)

    def shutdown(self) -> None:
        self._fallbacks.shutdown(wait=False, cancel_futures=True)
