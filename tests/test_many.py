"""`analyze_many`: item by item what `analyze` gives (or the error it raises), ordered or as
finished, over a folder of good and bad files, bytes, arrays and URLs; lazy and bounded in
what it holds; stopped by closing it or by an event."""

from __future__ import annotations

import errno
import http.server
import io
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import image_insights
from image_insights import ImageInsightsError, ItemResult, errors
from image_insights.config import Settings

METRICS = "brightness,median,histogram,colors"
#: Small enough that the "too large" image of the folder exceeds it.
MAX_PIXELS = 1_000_000


def encode(width: int, height: int, fmt: str, mode: str = "RGB", seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    gradient = np.linspace(0, 255, width)[None, :, None] * np.ones((height, 1, channels))
    noisy = np.clip(gradient + rng.normal(0, 20, gradient.shape), 0, 255).astype(np.uint8)
    image = Image.fromarray(noisy[..., 0] if mode == "L" else noisy, mode)
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 88} if fmt == "JPEG" else {}))
    return out.getvalue()


@pytest.fixture
def folder(tmp_path: Path) -> list[Path]:
    """JPEGs and PNGs of several sizes and modes, a corrupt file, an empty one, one over
    MAX_PIXELS, a missing path and a folder: every kind of outcome."""
    files = {
        "a.jpg": encode(1200, 800, "JPEG", seed=1),
        "b.png": encode(300, 200, "PNG", seed=2),
        "c.png": encode(90, 700, "PNG", "L", seed=3),
        "d.png": encode(640, 480, "PNG", "RGBA", seed=4),
        "e.jpg": encode(64, 48, "JPEG", "L", seed=5),
        "corrupt.jpg": encode(800, 600, "JPEG", seed=6)[:200],
        "junk.png": b"this is not an image at all",
        "empty.png": b"",
        "large.jpg": encode(1300, 800, "JPEG", seed=7),
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    (tmp_path / "sub").mkdir()
    return paths + [tmp_path / "missing.jpg", tmp_path / "sub"]


def expected_outcome(path: Path) -> tuple[str, Any]:
    """("result", fields) or ("error", (class, code, message)) of `analyze` on the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return "error", (errors.UnreadableFile, "unreadable_file", f"{path}: {exc.strerror}")
    try:
        return "result", image_insights.analyze(data, METRICS, "all", max_pixels=MAX_PIXELS)
    except ImageInsightsError as exc:
        return "error", (type(exc), exc.code, str(exc))


def outcome(item: ItemResult) -> tuple[str, Any]:
    if item.error is not None:
        assert item.result is None and not item.ok
        return "error", (type(item.error), item.error.code, str(item.error))
    assert item.ok
    return "result", item.result


@pytest.mark.parametrize("ordered", [True, False], ids=["ordered", "as-finished"])
@pytest.mark.parametrize("workers", [1, 3])
def test_each_item_is_what_analyze_gives(folder: list[Path], ordered: bool, workers: int) -> None:
    items: list[Any] = [str(p) for p in folder] + [p.read_bytes() for p in folder[:3]]
    items.append(folder[0])  # a Path as well as str
    results = list(
        image_insights.analyze_many(
            items, METRICS, "all", workers=workers, ordered=ordered, max_pixels=MAX_PIXELS
        )
    )
    assert sorted(r.index for r in results) == list(range(len(items)))
    if ordered:
        assert [r.index for r in results] == list(range(len(items)))
    by_index = {r.index: r for r in results}
    for index, item in enumerate(items):
        path = folder[index % len(folder)] if index < len(folder) + 3 else folder[0]
        assert outcome(by_index[index]) == expected_outcome(path), item
        assert by_index[index].source == (None if isinstance(item, bytes) else str(path))
    codes = {r.error.code for r in results if r.error is not None}
    assert codes == {
        "corrupt_image", "empty_image", "too_many_pixels", "unreadable_file"
    }  # fmt: skip


def test_a_timeout_is_each_item_s_own() -> None:
    data = encode(1200, 800, "JPEG")
    items = [data, b"junk", data]
    results = list(image_insights.analyze_many(items, timeout=1e-9, ordered=True))
    assert [type(r.error) for r in results] == [
        errors.AnalysisTimeout, errors.CorruptImage, errors.AnalysisTimeout
    ]  # fmt: skip


def test_arrays_bytes_and_paths_mix(tmp_path: Path) -> None:
    array = np.linspace(0, 255, 600 * 400 * 3).astype(np.uint8).reshape(400, 600, 3)
    png = tmp_path / "p.png"
    Image.fromarray(array).save(png)
    bad = np.zeros((2, 2, 7), np.uint8)
    items = [array, png.read_bytes(), png, bytearray(png.read_bytes()), bad]
    results = list(image_insights.analyze_many(items, METRICS, ordered=True))
    expected = image_insights.analyze(png.read_bytes(), METRICS)
    assert [r.result for r in results[:4]] == [expected] * 4
    assert isinstance(results[4].error, errors.InvalidArray)


class Counted:
    """An iterable that counts the items taken from it."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.taken = 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.taken += 1
            yield item


@pytest.mark.parametrize("ordered", [True, False], ids=["ordered", "as-finished"])
def test_items_are_taken_lazily_and_never_more_than_the_bound_in_flight(ordered: bool) -> None:
    data = encode(200, 150, "JPEG")
    items = Counted([data] * 40)
    bound = 5
    results = image_insights.analyze_many(items, workers=3, max_in_flight=bound, ordered=ordered)
    assert items.taken == 0  # nothing is taken before iteration starts
    in_flight = []
    for yielded, _ in enumerate(results):
        # The item being yielded is still in flight: taken - already yielded.
        in_flight.append(items.taken - yielded)
    assert max(in_flight) == bound
    assert len(in_flight) == 40


def test_closing_the_iteration_stops_taking_items() -> None:
    items = Counted([encode(200, 150, "JPEG")] * 1000)
    results = image_insights.analyze_many(items, workers=2, max_in_flight=4)
    firsts = [next(results) for _ in range(3)]
    assert all(r.ok for r in firsts)
    results.close()
    taken = items.taken
    assert taken <= 3 + 4
    assert list(results) == []
    assert items.taken == taken


def test_a_cancel_event_ends_the_iteration() -> None:
    items = Counted([encode(200, 150, "JPEG")] * 1000)
    cancel = threading.Event()
    seen: list[tuple[int, int | None]] = []

    def progress(done: int, total: int | None) -> None:
        seen.append((done, total))
        if done == 5:
            cancel.set()

    results = list(
        image_insights.analyze_many(
            items, workers=2, max_in_flight=4, progress=progress, cancel=cancel
        )
    )
    assert len(results) == 5
    assert seen == [(n, None) for n in range(1, 6)]
    assert items.taken <= 5 + 4


def open_writer_once_read(fifo: Path) -> int:
    """A write end of `fifo`, once a reader is blocked opening it (a non-blocking open for
    writing fails with ENXIO until then): proof that an item is being read."""
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
            time.sleep(0.005)


def test_files_are_read_by_the_workers_and_a_slow_one_holds_back_no_other(
    tmp_path: Path,
) -> None:
    # A named pipe is a file whose read lasts until the test writes it.
    fifo = tmp_path / "slow.png"
    os.mkfifo(fifo)
    data = encode(120, 90, "PNG")
    results = image_insights.analyze_many([fifo] + [data] * 6, workers=2)
    others = [next(results) for _ in range(6)]
    assert sorted(r.index for r in others) == list(range(1, 7))
    writer = open_writer_once_read(fifo)
    os.set_blocking(writer, True)
    with os.fdopen(writer, "wb") as pipe:
        pipe.write(data)
    (slow,) = list(results)
    assert (slow.index, slow.source, slow.result) == (0, str(fifo), image_insights.analyze(data))


def test_a_cancel_event_set_while_waiting_ends_the_iteration(tmp_path: Path) -> None:
    fifo = tmp_path / "slow.png"
    os.mkfifo(fifo)
    cancel = threading.Event()
    writers: list[int] = []

    def cancel_once_reading() -> None:
        writers.append(open_writer_once_read(fifo))
        cancel.set()

    setter = threading.Thread(target=cancel_once_reading)
    setter.start()
    # The read cannot finish while the write end is open and nothing is written.
    assert list(image_insights.analyze_many([fifo], cancel=cancel)) == []
    setter.join()
    os.close(writers[0])


def test_progress_counts_against_the_total() -> None:
    items = [encode(100, 80, "PNG", seed=n) for n in range(7)]
    seen: list[tuple[int, int | None]] = []
    results = list(
        image_insights.analyze_many(items, progress=lambda d, t: seen.append((d, t)))
    )
    assert len(results) == 7
    assert seen == [(n, 7) for n in range(1, 8)]


def test_wrong_options_fail_at_the_call_and_wrong_items_while_iterating() -> None:
    with pytest.raises(errors.InvalidMetrics):
        image_insights.analyze_many([b""], "brightness,nope")
    with pytest.raises(errors.InvalidEdgeMode):
        image_insights.analyze_many([b""], edge_mode="sideways")
    with pytest.raises(ValueError, match="at least 1"):
        image_insights.analyze_many([b""], workers=0)
    with pytest.raises(TypeError, match="not int"):
        list(image_insights.analyze_many([42]))


class _ImageOrigin(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:  # noqa: N802 - the handler's API
        if self.path != "/image.png":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_urls_go_through_the_vetted_fetcher() -> None:
    data = encode(300, 200, "PNG", seed=9)
    handler = type("Handler", (_ImageOrigin,), {"body": data})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        origin = f"127.0.0.1:{server.server_address[1]}"
        allowed = Settings(url_fetch_allowlist=frozenset({origin}))
        urls = [f"http://{origin}/image.png", f"http://{origin}/missing.png", "ftp://x/y.png"]
        results = list(image_insights.analyze_many(urls, ordered=True, settings=allowed))
        refused = list(image_insights.analyze_many(urls[:1], settings=Settings()))
    finally:
        server.shutdown()
        server.server_close()
    assert results[0].result == image_insights.analyze(data)
    assert results[0].source == urls[0]
    assert isinstance(results[1].error, errors.DownloadStatus)
    assert results[1].error.status_code == 404
    # An ftp:// string is no URL the fetcher takes: it is a (missing) file path.
    assert isinstance(results[2].error, errors.UnreadableFile)
    # Without the allowlist, loopback is refused as the service refuses it.
    assert isinstance(refused[0].error, errors.UrlNotAllowed)


@pytest.mark.parametrize(
    "error",
    [
        errors.ImageTooLarge(60_000_000, 50_000_000),
        errors.CorruptImage("bad CRC in IDAT chunk"),
        errors.UnreadableFile("/x.jpg", "No such file or directory"),
        errors.DownloadStatus(404, "http://example.com"),
        errors.DownloadTooLarge(6, 5, "http://example.com"),
        errors.EmptyImage(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_results_and_their_errors_pickle(error: ImageInsightsError) -> None:
    item = ItemResult(3, "/x.jpg", error=error)
    copy = pickle.loads(pickle.dumps(item))
    assert type(copy.error) is type(error)
    assert copy.error is not None
    assert (copy.index, copy.source, str(copy.error)) == (3, "/x.jpg", str(error))
    assert vars(copy.error) == vars(error)


def test_importing_the_package_loads_neither_dask_nor_numpy_nor_pillow() -> None:
    code = (
        "import sys, image_insights; "
        "print(sorted(m for m in ('dask', 'distributed', 'pandas', 'numpy', 'PIL', "
        "'image_insights.many', 'image_insights._core') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_readme_example_runs() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("\n## Many images\n", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    out = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("0 ") and lines[0].endswith(".jpg 0")
    assert "failed: corrupt_image" in lines[4]
    assert lines[5] == "5 None 0"


def test_regions_and_placeholders_reach_every_item() -> None:
    data = encode(64, 48, "PNG")
    array = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    options = {"metrics": "brightness,text,placeholder", "regions": "left;right",
               "placeholder_components": "2x2"}  # fmt: skip
    results = list(image_insights.analyze_many([data, array], ordered=True, **options))
    assert [r.error for r in results] == [None, None]
    expected = image_insights.analyze(data, **options)
    for item in results:
        assert item.result is not None
        assert item.result["regions"] == expected["regions"]
        assert item.result["placeholder"] == expected["placeholder"]
