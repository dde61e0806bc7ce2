"""Many images at once: `analyze_many` analyses encoded bytes, files, URLs and pixel arrays
on a pool of threads (the core releases the GIL, so they run in parallel) and yields one
`ItemResult` per item, the result or the item's own error, never stopping the batch.

Memory stays bounded: the items are taken from the iterable only as room frees up, and at
most `max_in_flight` of them are between being taken and being yielded; a file is read and
a URL downloaded by the thread that analyses it, not up front. URLs go through the service's
fetcher (fetch.py: the same SSRF vetting, deadline and size limit).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sized
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import ImageInsightsError, InternalError, UnreadableFile
from .fetch import Fetcher, has_http_scheme
from .limits import DEFAULT_MAX_PIXELS
from .options import (
    DEFAULT_PLACEHOLDER_COMPONENTS,
    Region,
    parse_edge_mode,
    parse_metrics,
    parse_placeholder_components,
    parse_regions,
)
from .pipeline import accepted_formats, analyze, analyze_array

#: How often a wait for results looks at the `cancel` event.
_CANCEL_POLL_SECONDS = 0.05

#: (done, total) after each item; total is None when the items have no len().
ProgressCallback = Callable[[int, "int | None"], None]


@dataclass(frozen=True)
class ItemResult:
    """What became of one item: its `result` (the fields `analyze` returns) or its `error`.

    `index` is the item's position in the input; `source` the path or URL as given (None
    for bytes and arrays).
    """

    index: int
    source: str | None
    result: dict[str, Any] | None = None
    error: ImageInsightsError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class _Job:
    """What every item of one call is analysed with."""

    metrics: tuple[str, ...]
    edge_mode: str | None
    max_pixels: int
    timeout: float | None
    fetcher: Callable[[], Fetcher]
    regions: tuple[Region, ...] = ()
    placeholder_components: tuple[int, int] = DEFAULT_PLACEHOLDER_COMPONENTS
    formats: tuple[str, ...] | None = None


def usable_cores() -> int:
    """The cores this process may run on (its affinity, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS and Windows


def analyze_many(
    items: Iterable[Any],
    metrics: str | Iterable[str] | None = "brightness",
    edge_mode: str | None = None,
    *,
    regions: str | Iterable[str | Region] | None = None,
    placeholder_components: str | tuple[int, int] | None = None,
    workers: int | None = None,
    ordered: bool = False,
    max_in_flight: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    timeout: float | None = None,
    settings: Settings | None = None,
    formats: str | Iterable[str] | None = None,
) -> Iterator[ItemResult]:
    """Analyses every item on `workers` threads and yields an ItemResult for each, as each
    finishes (in input order with `ordered`).

    Arguments:
        items: encoded images (bytes, bytearray, a 1-D buffer), file paths
            (str or os.PathLike), http(s) URLs (str), or pixel arrays (any buffer of 2 or 3
            dimensions, as for `analyze_array`), mixed as you like; taken lazily.
        metrics, edge_mode, regions, placeholder_components, max_pixels, timeout, formats:
            as for `analyze`, for every item.
        workers: threads (default: the usable cores; more pay off for URLs).
        ordered: yield in input order (a slow item then holds back the ones after it).
        max_in_flight: most items taken but not yet yielded (default: twice `workers`).
        progress: called as progress(done, total) in the consuming thread, before each
            result is yielded.
        cancel: once set, nothing more is started and the iteration ends promptly (as when
            the generator is closed); results not yet yielded are dropped.
        settings: URL downloads' settings (default: from the environment, as the service).

    Raises (at the call, before any item is taken):
        InvalidMetrics, InvalidEdgeMode, InvalidRegions, InvalidPlaceholderComponents;
        ValueError for workers or max_in_flight below 1, or an unknown format name.
    Raises (while iterating):
        TypeError: an item of none of the types above.
    """
    wanted = parse_metrics(metrics)
    mode = parse_edge_mode(edge_mode)
    areas = parse_regions(regions)
    components = parse_placeholder_components(placeholder_components)
    threads = usable_cores() if workers is None else workers
    bound = 2 * threads if max_in_flight is None else max_in_flight
    if threads < 1 or bound < 1:
        raise ValueError("workers and max_in_flight must be at least 1")
    accepted = None if formats is None else accepted_formats(formats)
    job = _Job(
        wanted, mode, max_pixels, timeout, _lazy_fetcher(settings, threads), areas, components,
        accepted,
    )  # fmt: skip
    total = len(items) if isinstance(items, Sized) else None
    return _results(items, job, threads, bound, ordered, progress, cancel, total)


def _results(
    items: Iterable[Any],
    job: _Job,
    threads: int,
    bound: int,
    ordered: bool,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    total: int | None,
) -> Iterator[ItemResult]:
    def cancelled() -> bool:
        return cancel is not None and cancel.is_set()

    pending = enumerate(items)
    exhausted = False
    done = 0
    # In submission order, so that `ordered` waits for the first.
    in_flight: list[Future[ItemResult]] = []
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="image-insights")
    try:
        while True:
            while not exhausted and len(in_flight) < bound and not cancelled():
                taken = next(pending, None)
                if taken is None:
                    exhausted = True
                    break
                index, item = taken
                kind, source = classify(item)
                in_flight.append(executor.submit(_analyze_one, index, item, kind, source, job))
            if not in_flight or cancelled():
                return
            finished = _wait(in_flight[:1] if ordered else in_flight, cancelled)
            if not finished:
                return  # cancelled while waiting
            in_flight = [future for future in in_flight if future not in finished]
            for future in sorted(finished, key=_index_of):
                done += 1
                if progress is not None:
                    progress(done, total)
                yield future.result()
                if cancelled():
                    return
    finally:
        for future in in_flight:
            future.cancel()
        # Items already running finish in the background (an analysis takes milliseconds,
        # a download at most its deadline); nothing new starts.
        executor.shutdown(wait=False, cancel_futures=True)


def _index_of(future: Future[ItemResult]) -> int:
    return future.result().index


def _wait(
    futures: list[Future[ItemResult]], cancelled: Callable[[], bool]
) -> set[Future[ItemResult]]:
    """The futures that have finished, once one has; empty if cancelled first."""
    while True:
        finished, _ = wait(futures, timeout=_CANCEL_POLL_SECONDS, return_when=FIRST_COMPLETED)
        if finished:
            return finished
        if cancelled():
            return set()


def classify(item: Any) -> tuple[str, str | None]:
    """("data" | "path" | "url" | "array", source) of an item, without reading it.

    Raises:
        TypeError: none of the item types analyze_many takes.
    """
    if isinstance(item, (bytes, bytearray)):
        return "data", None
    if isinstance(item, str):
        return ("url" if has_http_scheme(item) else "path"), item
    if isinstance(item, os.PathLike):
        return "path", os.fspath(item)
    try:
        with memoryview(item) as view:
            dimensions = view.ndim
    except TypeError:
        raise TypeError(
            "an item must be bytes, a path, an http(s) URL or an array of pixels, "
            f"not {type(item).__name__}"
        ) from None
    return ("array" if dimensions >= 2 else "data"), None


def _analyze_one(index: int, item: Any, kind: str, source: str | None, job: _Job) -> ItemResult:
    """Runs in a pool thread: reads the item and analyses it; never raises."""
    try:
        if kind == "array":
            result = analyze_array(
                item, job.metrics, job.edge_mode, regions=job.regions,
                placeholder_components=job.placeholder_components, timeout=job.timeout,
            )  # fmt: skip
        else:
            data = _read(item, kind, source, job)
            result = analyze(
                data, job.metrics, job.edge_mode, regions=job.regions,
                placeholder_components=job.placeholder_components, max_pixels=job.max_pixels,
                timeout=job.timeout, formats=job.formats,
            )  # fmt: skip
    except ImageInsightsError as exc:
        return ItemResult(index, source, error=exc)
    except Exception as exc:  # a bug: this item fails, the batch goes on
        return ItemResult(index, source, error=InternalError(f"{type(exc).__name__}: {exc}"))
    return ItemResult(index, source, result=result)


def _read(item: Any, kind: str, source: str | None, job: _Job) -> bytes:
    if kind == "url":
        return job.fetcher().fetch(item)
    if kind == "path":
        assert source is not None
        try:
            return Path(source).read_bytes()
        except OSError as exc:
            raise UnreadableFile(source, exc.strerror or type(exc).__name__) from None
    return item if isinstance(item, bytes) else bytes(item)


def _lazy_fetcher(settings: Settings | None, threads: int) -> Callable[[], Fetcher]:
    """The one fetcher of a call, made when the first URL needs it, allowing as many
    downloads at once as there are threads."""
    lock = threading.Lock()
    made: list[Fetcher] = []

    def fetcher() -> Fetcher:
        with lock:
            if not made:
                base = settings if settings is not None else Settings.from_env()
                downloads = max(base.max_concurrent_downloads, threads)
                made.append(Fetcher(replace(base, max_concurrent_downloads=downloads)))
            return made[0]

    return fetcher


__all__ = ["ItemResult", "ProgressCallback", "analyze_many", "classify", "usable_cores"]
