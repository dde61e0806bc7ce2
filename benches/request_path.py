"""What a request costs beyond the analysis itself: for a small and a large upload, the
median time of a whole HTTP request to a real gunicorn on loopback, next to the median of
`image_insights.analyze()` of the same bytes in this process, measured in turns in the same
run. Their difference is the request path: the client's send and receive, the serving
worker's reading, Falcon's multipart parsing, the hand-offs and the JSON answer.

One gunicorn worker (the request never waits for another), cache off, one keep-alive
connection; `GET /health` on the same connection is the floor of an HTTP round trip.

    .venv/bin/python -m benches.request_path [--rounds 200]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time

import image_insights
from benches.inputs import REAL_PHOTOS_DIR
from tests.support import synthetic
from tests.support.http_helpers import multipart
from tests.support.live_server import running_service

METRICS = "brightness,median,histogram"
EDGE_MODE = "all"
PATH = f"/v1/image/analysis?metrics={METRICS}&edge_mode={EDGE_MODE}"
ENV = {"WEB_CONCURRENCY": "1", "CACHE_ENABLED": "false", "ENABLE_DETAILED_LOGGING": "false",
       "GUNICORN_MAX_REQUESTS": "0"}  # fmt: skip


def uploads() -> dict[str, bytes]:
    """Two sizes: the 15 KB 536 x 354 sample and the 3.3 MB 5000 x 3330 one
    (../shared/images), or generated stand-ins of the same sizes when absent."""
    small = REAL_PHOTOS_DIR / "sample2-536x354-color.jpg"
    large = REAL_PHOTOS_DIR / "sample3-5000x3330-color-progressive.jpg"
    return {
        "small": small.read_bytes() if small.exists()
        else synthetic.jpeg(synthetic.textured_photo(536, 354, seed=2), quality=80),
        "large": large.read_bytes() if large.exists()
        else synthetic.jpeg(synthetic.textured_photo(5000, 3330, seed=3), progressive=True),
    }  # fmt: skip


def timed_request(conn: http.client.HTTPConnection, method: str, path: str,
                  body: bytes | None, headers: dict[str, str]) -> tuple[float, bytes]:  # fmt: skip
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - started
    assert response.status == 200, (response.status, payload[:200])
    return elapsed, payload


def measure(rounds: int) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    with running_service(ENV) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        health = []
        for name, data in uploads().items():
            body, headers = multipart([("image", data, "image/jpeg")])
            for _ in range(5):  # warm-up of both sides
                image_insights.analyze(data, METRICS, EDGE_MODE)
                timed_request(conn, "POST", PATH, body, headers)
            in_process, http_times, reported = [], [], []
            for _ in range(rounds):
                started = time.perf_counter()
                image_insights.analyze(data, METRICS, EDGE_MODE)
                in_process.append(time.perf_counter() - started)
                elapsed, payload = timed_request(conn, "POST", PATH, body, headers)
                http_times.append(elapsed)
                reported.append(json.loads(payload)["processing_time_ms"] / 1000)
                health.append(timed_request(conn, "GET", "/health", None, {})[0])
            analyze_ms = statistics.median(in_process) * 1000
            http_ms = statistics.median(http_times) * 1000
            figures[name] = {
                "bytes": len(data),
                "analyze_ms": analyze_ms,
                "http_ms": http_ms,
                "request_path_ms": http_ms - analyze_ms,
                "processing_time_ms": statistics.median(reported) * 1000,
            }
        conn.close()
    for values in figures.values():
        values["health_round_trip_ms"] = statistics.median(health) * 1000
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    figures = measure(args.rounds)
    print("| upload | bytes | analyze() in process | whole request | request path | "
          "processing_time_ms | GET /health round trip |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, v in figures.items():
        print(f"| {name} | {v['bytes']:,} | {v['analyze_ms']:.2f} ms | {v['http_ms']:.2f} ms | "
              f"{v['request_path_ms']:.2f} ms | {v['processing_time_ms']:.2f} ms | "
              f"{v['health_round_trip_ms']:.2f} ms |")  # fmt: skip
    print(json.dumps(figures), file=sys.stderr)


if __name__ == "__main__":
    main()
