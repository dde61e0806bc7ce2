#!/usr/bin/env python3
"""HTTP load benchmark: the service against the reference pipeline, both under the project's
gunicorn settings, cache off, 8 connections, all metrics and edge_mode=all.

Usage: run_wrk.py [--seconds N] [--output FILE]   (prints a Markdown table)
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benches"))

from http_helpers import multipart  # noqa: E402
from inputs import REAL_PHOTOS_DIR, encoded  # noqa: E402
from live_server import GUNICORN, free_port, wait_until_healthy  # noqa: E402

PATH = "/v1/image/analysis?metrics=brightness,median,histogram&edge_mode=all"
CONNECTIONS = 8
#: name -> (WSGI app, extra environment). The service runs twice: with the JPEG DC reader
#: (the default) and without it (JPEG_FAST_PATH=false, Pillow's draft decoding).
APPS = {
    "service": ("image_insights.wsgi:app", {}),
    "service, fast path off": ("image_insights.wsgi:app", {"JPEG_FAST_PATH": "false"}),
    "reference": ("reference_app:app", {}),
}


def inputs() -> dict[str, bytes]:
    found = {
        "536x354 jpeg (generated)": encoded("536x354 jpeg baseline"),
        "5000x3330 progressive jpeg (generated)": encoded("5000x3330 jpeg progressive"),
    }
    for name in ("sample2-536x354-color.jpg", "sample3-5000x3330-color-progressive.jpg"):
        if (REAL_PHOTOS_DIR / name).exists():
            found[f"{name} (real)"] = (REAL_PHOTOS_DIR / name).read_bytes()
    return found


def multipart_file(data: bytes, folder: Path) -> tuple[Path, str]:
    """Writes a one-part upload body for wrk to send; returns its path and Content-Type."""
    body, headers = multipart([("image", data, "image/jpeg")])
    path = folder / f"{uuid.uuid4().hex}.body"
    path.write_bytes(body)
    return path, headers["Content-Type"]


def run_wrk(port: int, body: Path, content_type: str, seconds: int) -> dict[str, float]:
    env = {**os.environ, "WRK_BODY_FILE": str(body), "WRK_CONTENT_TYPE": content_type}
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "30s", "--latency",
         "-s", str(Path(__file__).with_name("post.lua")), f"http://127.0.0.1:{port}{PATH}"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    def latency_ms(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": latency_ms("50"),
        "p99": latency_ms("99"),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "socket_errors": 1.0 if socket_errors else 0.0,
    }


def serve(app: str, port: int, log: Path, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "CACHE_ENABLED": "false",
           "ENABLE_DETAILED_LOGGING": "false", **extra_env}
    process = subprocess.Popen(
        [str(GUNICORN), "--config", "gunicorn.conf.py", "--pythonpath", str(Path(__file__).parent), app],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_until_healthy(port, process)
    return process


def _ratio(fast: float, slow: float) -> str:
    return f"{fast / slow:.1f}x" if slow else "n/a (reference completed no request)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=1, help="alternate runs per pair; medians")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for label, data in inputs().items():
            body, content_type = multipart_file(data, folder)
            measured: dict[str, list[dict[str, float]]] = {name: [] for name in APPS}
            for _ in range(args.rounds):
                for name, (app, extra_env) in APPS.items():
                    port = free_port()
                    process = serve(app, port, folder / f"{name}.log", extra_env)
                    try:
                        run_wrk(port, body, content_type, 3)  # warm-up
                        measured[name].append(run_wrk(port, body, content_type, args.seconds))
                    finally:
                        process.terminate()
                        process.wait(timeout=30)
            med = {
                name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
                for name, runs in measured.items()
            }
            rows.append((label, med["service"], med["reference"], med["service, fast path off"]))

    print(f"wrk -t2 -c{CONNECTIONS} -d{args.seconds}s, cache off, metrics=brightness,median,"
          f"histogram, edge_mode=all; medians of {args.rounds} round(s)\n")  # fmt: skip
    print("| image | service req/s | p50 ms | p99 ms | reference req/s | p50 ms | p99 ms "
          "| req/s ratio | service p99/p50 | errors (non-2xx, socket) "
          "| fast path off: req/s | p50 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, svc, ref, off in rows:
        print(
            f"| {label} | {svc['rps']:.1f} | {svc['p50']:.1f} | {svc['p99']:.1f} "
            f"| {ref['rps']:.1f} | {ref['p50']:.1f} | {ref['p99']:.1f} "
            f"| {_ratio(svc['rps'], ref['rps'])} | {svc['p99'] / svc['p50']:.2f} "
            f"| {int(svc['non_2xx'] + ref['non_2xx'])}, "
            f"{int(svc['socket_errors'] + ref['socket_errors'])} "
            f"| {off['rps']:.1f} | {off['p50']:.1f} |"
        )


if __name__ == "__main__":
    main()
