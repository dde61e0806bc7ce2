"""The analysis on a Dask cluster (the `dask` extra: dask, distributed, pandas, pyarrow).

`analyze(items)` is a Dask DataFrame with one row per image: its path (or URL), every
field the metrics ask for, and the error's code and message for an image that failed.
`results(items)` is the same work as a Dask Bag of `ItemResult`. Either way the items are
cut into batches and each task analyses one batch with `analyze_many`, so a worker needs
only this package installed; the paths must be readable where the workers run. A task
whose worker dies is run again by Dask, so no image is lost.

    >>> from distributed import Client
    >>> client = Client("tcp://scheduler:8786")
    >>> frame = image_insights.dask.analyze(paths, metrics="brightness,median")
    >>> frame.compute()
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import dask.bag
import dask.dataframe
import pandas as pd
import pyarrow as pa
from dask.delayed import delayed
from distributed import Client, LocalCluster, as_completed

from .config import Settings
from .limits import DEFAULT_MAX_PIXELS
from .many import ItemResult, analyze_many, usable_cores
from .options import parse_edge_mode, parse_metrics
from .pipeline import analyze_array

#: Items one task analyses, by default.
DEFAULT_BATCH_SIZE = 64
#: The columns around the fields: first the source, last the failure.
SOURCE_COLUMN = "path"
ERROR_COLUMNS = ("error", "error_message")


@dataclass(frozen=True)
class _Options:
    metrics: tuple[str, ...]
    edge_mode: str | None
    threads: int
    max_pixels: int
    timeout: float | None
    settings: Settings | None


def results(
    items: Sequence[Any] | dask.bag.Bag,
    metrics: str | Iterable[str] | None = "brightness",
    edge_mode: str | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    threads: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    timeout: float | None = None,
    settings: Settings | None = None,
) -> dask.bag.Bag:
    """A Bag of one `ItemResult` per item, in input order; `index` is the item's position
    in `items` (in its partition, for a Bag).

    Arguments:
        items: paths or URLs (anything `analyze_many` takes), as a sequence cut into
            batches of `batch_size`, or a Dask Bag whose partitions are the batches.
        threads: analyze_many's threads in each task (Dask's own threads and processes
            are the parallelism; more pay off for URLs).
        metrics, edge_mode, max_pixels, timeout: as for `analyze`; settings: as for
            `analyze_many` (default: each worker's environment).

    Raises:
        InvalidMetrics, InvalidEdgeMode: at the call.
    """
    options = _options(metrics, edge_mode, threads, max_pixels, timeout, settings)
    return _as_bag(items, batch_size).map_partitions(_analyze_batch, options)


def analyze(
    items: Sequence[Any] | dask.bag.Bag,
    metrics: str | Iterable[str] | None = "brightness",
    edge_mode: str | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    threads: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    timeout: float | None = None,
    settings: Settings | None = None,
) -> dask.dataframe.DataFrame:
    """A Dask DataFrame of one row per item, in input order, one partition per batch,
    indexed by the item's position in `items` (in its partition, for a Bag).

    Columns: `path` (the path or URL; empty for bytes), the fields of `analyze` for these
    metrics and edge mode (nested ones as Arrow lists and structs), `orientation`, then
    `error` (the error's stable code) and `error_message`, empty when the image was
    analysed. Every column is Arrow-backed and nullable: a failed image's fields are empty.

    Arguments: as for `results`.
    """
    options = _options(metrics, edge_mode, threads, max_pixels, timeout, settings)
    schema = row_schema(options.metrics, options.edge_mode)
    batches = _as_bag(items, batch_size).to_delayed()
    frames = [delayed(_batch_frame, pure=True)(batch, options, schema) for batch in batches]
    return dask.dataframe.from_delayed(frames, meta=_frame([], schema, []), verify_meta=False)


@contextmanager
def connect(scheduler: str | None, timeout: float | None = None) -> Iterator[Client]:
    """A client of the scheduler at `scheduler` (tcp://host:8786), or, for None, of a
    cluster started for the block on this machine: one single-threaded worker process per
    usable core, listening on loopback only (its HTTP status pages on a free port).

    Raises:
        OSError (TimeoutError included): the scheduler cannot be reached in `timeout` s
        (None: Dask's `distributed.comm.timeouts.connect`, 30 s unless configured, e.g. by
        DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s).
    """
    if scheduler is not None:
        with Client(scheduler, **({} if timeout is None else {"timeout": timeout})) as client:
            yield client
        return
    with LocalCluster(
        n_workers=usable_cores(), threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
    ) as cluster, Client(cluster) as client:  # fmt: skip
        yield client


def iter_results(
    client: Client,
    items: Sequence[Any],
    metrics: str | Iterable[str] | None = "brightness",
    edge_mode: str | None = None,
    *,
    tasks_per_thread: int = 4,
    settings: Settings | None = None,
) -> Iterator[ItemResult]:
    """Every item's ItemResult on `client`'s cluster, a batch at a time as each finishes:
    batches of at most DEFAULT_BATCH_SIZE items, about `tasks_per_thread` per worker
    thread so that the work spreads evenly."""
    threads = max(1, sum(client.nthreads().values()))
    per_task = math.ceil(len(items) / (tasks_per_thread * threads))
    batch_size = max(1, min(DEFAULT_BATCH_SIZE, per_task))
    bag = results(items, metrics, edge_mode, batch_size=batch_size, settings=settings)
    for future in as_completed(client.compute(bag.to_delayed())):
        yield from future.result()


def row_schema(metrics: tuple[str, ...], edge_mode: str | None) -> pa.Schema:
    """The Arrow types of a row: the fields' types read off the analysis of one pixel (so
    they follow whatever fields the metrics give)."""
    one_pixel = memoryview(b"\x80").cast("B", shape=[1, 1])
    probe = analyze_array(one_pixel, metrics, edge_mode)
    fields = [pa.field(SOURCE_COLUMN, pa.string())]
    for name, value in probe.items():
        kind = pa.array([value]).type
        fields.append(pa.field(name, pa.float64() if pa.types.is_null(kind) else kind))
    fields.append(pa.field("orientation", pa.int64()))
    fields.extend(pa.field(name, pa.string()) for name in ERROR_COLUMNS)
    return pa.schema(fields)


def row(item: ItemResult) -> dict[str, Any]:
    """One item as a row of `analyze`'s DataFrame."""
    if item.error is not None:
        return {
            SOURCE_COLUMN: item.source, "error": item.error.code, "error_message": str(item.error)
        }  # fmt: skip
    fields = item.result or {}
    return {SOURCE_COLUMN: item.source, **fields, "orientation": fields.get("orientation", 1)}


def _options(
    metrics: str | Iterable[str] | None,
    edge_mode: str | None,
    threads: int,
    max_pixels: int,
    timeout: float | None,
    settings: Settings | None,
) -> _Options:
    return _Options(
        parse_metrics(metrics), parse_edge_mode(edge_mode), threads, max_pixels, timeout, settings
    )


def _as_bag(items: Sequence[Any] | dask.bag.Bag, batch_size: int) -> dask.bag.Bag:
    """A Bag of the items; a sequence's items paired with their positions."""
    if isinstance(items, dask.bag.Bag):
        return items
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    numbered = [_Numbered(index, item) for index, item in enumerate(items)]
    if not numbered:
        return dask.bag.from_sequence([], npartitions=1)
    return dask.bag.from_sequence(numbered, partition_size=batch_size)


@dataclass(frozen=True)
class _Numbered:
    """An item of a sequence and its position in it."""

    index: int
    item: Any


def _analyze_batch(batch: Iterable[Any], options: _Options) -> list[ItemResult]:
    """One task: a batch through analyze_many, in order, each result numbered as its item
    was."""
    entries = list(batch)
    items = [e.item if isinstance(e, _Numbered) else e for e in entries]
    numbers = [e.index if isinstance(e, _Numbered) else n for n, e in enumerate(entries)]
    return [
        replace(result, index=numbers[result.index])
        for result in analyze_many(
            items,
            options.metrics,
            options.edge_mode,
            workers=options.threads,
            ordered=True,
            max_pixels=options.max_pixels,
            timeout=options.timeout,
            settings=options.settings,
        )
    ]


def _batch_frame(batch: Iterable[Any], options: _Options, schema: pa.Schema) -> pd.DataFrame:
    done = _analyze_batch(batch, options)
    return _frame([row(item) for item in done], schema, [item.index for item in done])


def _frame(rows: list[dict[str, Any]], schema: pa.Schema, index: list[int]) -> pd.DataFrame:
    frame = pa.Table.from_pylist(rows, schema=schema).to_pandas(types_mapper=pd.ArrowDtype)
    frame.index = pd.Index(index, dtype="int64")
    return frame


__all__ = [
    "DEFAULT_BATCH_SIZE", "analyze", "connect", "iter_results", "results", "row", "row_schema"
]  # fmt: skip
