"""`image_insights.dask` on a real cluster: a `distributed.LocalCluster` of worker processes
started here, on loopback. Its rows equal the in-process results, errors stay per row, and
killing a worker in the middle of a batch loses no image."""

from __future__ import annotations

import errno
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from distributed import Client, LocalCluster
from PIL import Image

import image_insights
import image_insights.dask as on_dask
from image_insights import ImageInsightsError, errors

pytestmark = pytest.mark.cluster

METRICS = "brightness,median,histogram,colors"
SCRIPT = Path(sys.executable).with_name("image-insights")
#: How long the test waits for the cluster to reach a state, before it fails.
PATIENCE_SECONDS = 60


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL,
    ) as cluster, Client(cluster) as client:  # fmt: skip
        yield client


def encode(width: int, height: int, fmt: str, mode: str = "RGB", seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    gradient = np.linspace(0, 255, width)[None, :, None] * np.ones((height, 1, channels))
    noisy = np.clip(gradient + rng.normal(0, 20, gradient.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(noisy[..., 0] if mode == "L" else noisy, mode).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def folder(tmp_path: Path) -> list[str]:
    """Good JPEGs and PNGs, a corrupt file, an empty one and a missing path."""
    paths = []
    for n in range(12):
        fmt, mode = [("JPEG", "RGB"), ("PNG", "RGB"), ("PNG", "L"), ("PNG", "RGBA")][n % 4]
        if fmt == "JPEG" and mode != "RGB":
            mode = "RGB"
        path = tmp_path / f"{n:02d}.{fmt.lower()}"
        path.write_bytes(encode(200 + 60 * n, 150 + 35 * n, fmt, mode, seed=n))
        paths.append(path)
    (tmp_path / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (tmp_path / "empty.png").write_bytes(b"")
    paths += [tmp_path / "corrupt.jpg", tmp_path / "empty.png", tmp_path / "missing.png"]
    return [str(p) for p in paths]


def expected_row(path: str) -> dict[str, Any]:
    try:
        result = image_insights.analyze(Path(path).read_bytes(), METRICS, "all")
    except ImageInsightsError as exc:
        return {"path": path, "error": exc.code, "error_message": str(exc)}
    except OSError as exc:
        error = errors.UnreadableFile(path, exc.strerror or "")
        return {"path": path, "error": error.code, "error_message": str(error)}
    return {"path": path, **result, "orientation": 1, "error": None, "error_message": None}


def actual_rows(frame: Any) -> list[dict[str, Any]]:
    """The computed frame's rows with their empty cells left out."""
    rows = []
    for record in frame.to_dict("records"):
        rows.append({k: v for k, v in record.items() if v is not None and v is not np.nan})
    return rows


def without_empty(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v is not None}


def test_rows_equal_the_in_process_results(client: Client, folder: list[str]) -> None:
    frame = on_dask.analyze(folder, METRICS, "all", batch_size=4)
    assert frame.npartitions == 4
    computed = frame.compute()
    assert list(computed.index) == list(range(len(folder)))
    assert list(computed.columns) == list(on_dask.row_schema(
        ("brightness", "median", "histogram", "colors"), "all").names)  # fmt: skip
    assert actual_rows(computed) == [without_empty(expected_row(p)) for p in folder]
    assert set(computed["error"].dropna()) == {"corrupt_image", "empty_image", "unreadable_file"}


def test_a_bag_of_paths_is_analysed_partition_by_partition(
    client: Client, folder: list[str]
) -> None:
    import dask.bag

    frame = on_dask.analyze(dask.bag.from_sequence(folder, npartitions=3), METRICS, "all")
    assert frame.npartitions == 3
    assert actual_rows(frame.compute()) == [without_empty(expected_row(p)) for p in folder]


def test_the_bag_of_results_keeps_the_errors_themselves(client: Client, folder: list[str]) -> None:
    results = on_dask.results(folder, METRICS, batch_size=5).compute()
    in_process = list(image_insights.analyze_many(folder, METRICS, ordered=True))
    assert [r.index for r in results] == list(range(len(folder)))
    assert [(r.source, r.result) for r in results] == [(r.source, r.result) for r in in_process]
    assert [type(r.error) for r in results] == [type(r.error) for r in in_process]
    assert [vars(r.error) for r in results if r.error] == [
        vars(r.error) for r in in_process if r.error
    ]


def open_writer_once_read(fifo: Path) -> int:
    """A write end of `fifo`, once a reader is blocked opening it (a non-blocking open for
    writing fails with ENXIO until then)."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def test_a_worker_killed_in_the_middle_of_a_batch_loses_no_image(
    client: Client, folder: list[str], tmp_path: Path
) -> None:
    # A named pipe among the files: the task that reads it waits until the test writes it,
    # so the test knows which worker is in the middle of a batch.
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    pipe_image = encode(300, 200, "PNG", seed=99)
    items = folder[:6] + [str(fifo)] + folder[6:]
    future = client.compute(on_dask.analyze(items, METRICS, "all", batch_size=3))

    def reading(path: str) -> bool:
        """True in the worker one of whose threads is reading `path`."""
        for frame in sys._current_frames().values():
            while frame is not None:
                if frame.f_code.co_name == "_read" and frame.f_locals.get("source") == path:
                    return True
                frame = frame.f_back
        return False

    deadline = time.monotonic() + PATIENCE_SECONDS
    busy: list[str] = []
    while not busy:
        assert time.monotonic() < deadline, "no worker started reading the pipe"
        busy = [worker for worker, yes in client.run(reading, str(fifo)).items() if yes]
        time.sleep(0.02)
    (victim,) = busy
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    while victim in client.scheduler_info()["workers"]:
        assert time.monotonic() < deadline, "the scheduler did not notice the worker's death"
        time.sleep(0.02)

    # The batch runs again elsewhere (or on the restarted worker) and reads the pipe anew.
    writer = open_writer_once_read(fifo)
    os.set_blocking(writer, True)
    with os.fdopen(writer, "wb") as pipe:
        pipe.write(pipe_image)

    computed = future.result(timeout=PATIENCE_SECONDS)
    expected = [without_empty(expected_row(p)) for p in items[:6]]
    fields = image_insights.analyze(pipe_image, METRICS, "all")
    expected.append({"path": str(fifo), **fields, "orientation": 1})
    expected += [without_empty(expected_row(p)) for p in items[7:]]
    assert actual_rows(computed) == expected


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "analyze", *args], capture_output=True, text=True, timeout=180,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_the_cli_runs_a_folder_through_a_cluster(client: Client, folder: list[str]) -> None:
    directory = str(Path(folder[0]).parent)
    here = run_cli(directory, "--metrics", METRICS, "--format", "json")
    address = client.scheduler.address
    there = run_cli(directory, "--metrics", METRICS, "--format", "json", "--scheduler", address)
    assert (there.returncode, there.stdout, there.stderr) == (
        here.returncode, here.stdout, here.stderr
    )  # fmt: skip
    assert here.returncode == 1 and len(here.stdout) > 1000
    assert "1 of 13 inputs failed" in here.stderr


def test_the_cli_reports_a_scheduler_it_cannot_reach(folder: list[str]) -> None:
    with socket.socket() as unused:  # a loopback port that nothing listens on
        unused.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{unused.getsockname()[1]}"
    directory = str(Path(folder[0]).parent)
    result = run_cli(directory, "--scheduler", address,
                     env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert f"image-insights: cannot run on {address}: " in result.stderr
    assert "Traceback" not in result.stderr


def test_the_cli_starts_a_local_cluster(tmp_path: Path) -> None:
    for n in range(4):
        (tmp_path / f"{n}.jpg").write_bytes(encode(640, 480, "JPEG", seed=n))
    here = run_cli(str(tmp_path), "--format", "csv")
    local = run_cli(str(tmp_path), "--format", "csv", "--dask", "local")
    assert (local.returncode, local.stdout, local.stderr) == (0, here.stdout, "")
