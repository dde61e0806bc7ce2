"""Many images at once: `analyze_many` on threads against one thread, the CLI against a loop
over `analyze()`, and a 2-process Dask LocalCluster against `analyze_many`, all over the same
folder of generated 1920 x 1280 JPEGs, measured in one run. Prints a Markdown table of
medians and the ratios between them.

    python -m benches.many [--images 500] [--rounds 3] [--folder DIR] [--baseline-cli REV]

`--baseline-cli REV` also times the CLI as it is at git revision REV (run from a copy of
its cli.py against this package), to compare two ways the CLI has parallelised its work.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

import image_insights
from image_insights.many import usable_cores

METRICS = "brightness,median,histogram"
EDGE_MODE = "all"
WIDTH, HEIGHT = 1920, 1280
SCRIPT = Path(sys.executable).with_name("image-insights")


def make_folder(folder: Path, count: int) -> list[Path]:
    """`count` different photo-like JPEGs (gradients, shapes, noise), made once."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    paths = []
    for n in range(count):
        path = folder / f"{n:04d}.jpg"
        paths.append(path)
        if path.exists():
            continue
        tint = rng.uniform(0.3, 1.0, 3).astype(np.float32)
        cx, cy, radius = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(100, 600)
        disc = ((x - cx) ** 2 + (y - cy) ** 2 < radius**2).astype(np.float32) * 80
        base = (x / WIDTH * 160 + y / HEIGHT * 60 + disc)[..., None] * tint
        noise = rng.normal(0, 12, (HEIGHT, WIDTH, 1)).astype(np.float32)
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(path, quality=88)
    return paths


def median_seconds(run: Callable[[], object], rounds: int) -> float:
    run()  # warm-up: page cache, thread pools, the core's buffers
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def loop_over_analyze(paths: list[Path]) -> None:
    for path in paths:
        image_insights.analyze(path.read_bytes(), METRICS, EDGE_MODE)


def many(paths: list[Path], workers: int) -> None:
    for item in image_insights.analyze_many(paths, METRICS, EDGE_MODE, workers=workers):
        assert item.ok, item.error


def _analyze_path(path: Path) -> dict[str, object]:
    return image_insights.analyze(path.read_bytes(), METRICS, EDGE_MODE)


def process_pool(paths: list[Path], pool: ProcessPoolExecutor) -> None:
    list(pool.map(_analyze_path, paths, chunksize=1))


def cli(folder: Path, script: list[str]) -> None:
    command = [*script, "analyze", str(folder), "--metrics", METRICS, "--edge-mode", EDGE_MODE,
               "--format", "jsonl", "--quiet"]  # fmt: skip
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True)


def baseline_cli(revision: str, into: Path) -> list[str]:
    """A runnable copy of the CLI at `revision`, importing this package."""
    source = subprocess.run(
        ["git", "show", f"{revision}:python/image_insights/cli.py"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    source = source.replace("from . import", "from image_insights import")
    source = source.replace("from .", "from image_insights.")
    path = into / "cli_at_revision.py"
    path.write_text(source)
    return [sys.executable, str(path)]


def on_dask(paths: list[Path], batch_size: int) -> None:
    import image_insights.dask

    frame = image_insights.dask.analyze(
        [str(p) for p in paths], METRICS, EDGE_MODE, batch_size=batch_size
    ).compute()
    assert frame["error"].isna().all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=None, help="reuse generated images")
    parser.add_argument("--baseline-cli", metavar="REV", default=None)
    parser.add_argument("--note", default="", help="a line under the table (the conditions)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-many-"))
    folder = args.folder or scratch / "jpegs"
    paths = make_folder(folder, args.images)
    cores = usable_cores()
    rounds = args.rounds
    print(f"{len(paths)} JPEGs of {WIDTH}x{HEIGHT} in {folder}; {cores} usable cores; "
          f"metrics {METRICS}, edge mode {EDGE_MODE}; median of {rounds} rounds", file=sys.stderr)

    rows: list[tuple[str, float]] = []

    def measure(name: str, run: Callable[[], object]) -> float:
        seconds = median_seconds(run, rounds)
        rows.append((name, seconds))
        print(f"  {name}: {seconds:.2f} s", file=sys.stderr)
        return seconds

    one = measure("loop over `analyze()`, 1 thread", lambda: loop_over_analyze(paths))
    measure("`analyze_many`, workers=1", lambda: many(paths, 1))
    threads = measure(f"`analyze_many`, workers={cores}", lambda: many(paths, cores))
    with ProcessPoolExecutor(cores) as pool:
        measure(f"ProcessPoolExecutor({cores}) over `analyze()`",
                lambda: process_pool(paths, pool))  # fmt: skip
    measure("CLI `image-insights analyze FOLDER` (threads)", lambda: cli(folder, [str(SCRIPT)]))
    if args.baseline_cli:
        script = baseline_cli(args.baseline_cli, scratch)
        measure(f"CLI at `{args.baseline_cli}` (process pool)", lambda: cli(folder, script))

    from distributed import Client, LocalCluster

    batch_size = max(1, len(paths) // (4 * cores))
    with LocalCluster(
        n_workers=cores, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
    ) as cluster, Client(cluster):  # fmt: skip
        dask_seconds = measure(
            f"`image_insights.dask.analyze`, LocalCluster {cores} processes x 1 thread, "
            f"batches of {batch_size}",
            lambda: on_dask(paths, batch_size),
        )

    print(f"| what ({len(paths)} JPEGs, {WIDTH}x{HEIGHT}) | median s | images/s | vs 1 thread |")
    print("|---|---:|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {len(paths) / seconds:.0f} | {one / seconds:.2f}x |")
    overhead_ms = (dask_seconds - threads) / len(paths) * 1000
    print()
    print(f"`analyze_many` on {cores} threads: {one / threads:.2f}x one thread (target >= 1.8x). "
          f"Dask over `analyze_many`: {overhead_ms:+.2f} ms per image.")  # fmt: skip
    if args.note:
        print(f"\n{args.note}")


if __name__ == "__main__":
    main()
