"""HTTP benchmark of the service against the sharp peer (benches/peer) and the reference app,
on the traffic classes (benches/traffic.py).

Every server runs on its own free loopback port for the whole run, each with two worker
processes: the service under the project's gunicorn.conf.py (WEB_CONCURRENCY=2, cache off),
the peer under Node's cluster, the reference app under the same gunicorn settings. First a
pre-flight checks that every server's numbers agree with the service's within the contract's
downscaled tolerance (the comparison is of equal work; it stops the run if not). Then, for
every round, class and server (the server order rotates), it measures

  latency     N sequential requests on one keep-alive connection: median and p90;
  throughput  wrk, 2 threads, C connections for S seconds after a short warm-up: req/s and
              the count of non-2xx answers.

Medians over the rounds go in a Markdown table with the service's speed-up over the peer
(peer latency / service latency; service req/s / peer req/s) and their geometric means.
Nothing here asserts on time: the machine is shared.

Usage: python -m benches.load.run_http [--rounds R] [--requests N] [--seconds S]
           [--connections C] [--classes SUBSTRING,...] [--servers NAME,...]
           [--output FILE] [--check-only]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benches.traffic import TrafficClass, available_classes, encoded, source_description
from tests.support.http_helpers import multipart
from tests.support.live_server import GUNICORN, ROOT, free_port, stop, wait_until_healthy

PEER_DIR = ROOT / "benches" / "peer"
PATH = "/v1/image/analysis?metrics=brightness,median,histogram&edge_mode=all"
SERVICE, PEER, REFERENCE = "service", "peer", "reference"


@dataclass(frozen=True)
class Server:
    command: list[str]
    env: dict[str, str]
    cwd: Path


def _gunicorn(app: str, **env: str) -> Server:
    """`app` under the project's gunicorn.conf.py: two workers, cache and request logs off."""
    command = [str(GUNICORN), "--config", "gunicorn.conf.py",
               "--pythonpath", str(ROOT), app]  # fmt: skip
    settings = {"WEB_CONCURRENCY": "2", "CACHE_ENABLED": "false",
                "ENABLE_DETAILED_LOGGING": "false"}  # fmt: skip
    return Server(command, settings | env, ROOT)


#: Every server the runner knows; the first three run by default. `service-dc-off` is the
#: service without the JPEG DC reader (JPEG_FAST_PATH=false), to measure what the reader brings.
SERVERS: dict[str, Server] = {
    SERVICE: _gunicorn("image_insights.wsgi:app"),
    PEER: Server(["node", "server.js"], {"PEER_WORKERS": "2"}, PEER_DIR),
    REFERENCE: _gunicorn("benches.load.reference_app:app"),
    "service-dc-off": _gunicorn("image_insights.wsgi:app", JPEG_FAST_PATH="false"),
    # The peer with two libvips threads per image (sharp's default here is one).
    "peer-2-threads": Server(["node", "server.js"], {"PEER_WORKERS": "2", "SHARP_CONCURRENCY": "2"},
                             PEER_DIR),
}
DEFAULT_SERVERS = (SERVICE, PEER, REFERENCE)

#: The contract's downscaled tolerance (tests/test_pipeline.py's DOWNSCALED): the peer's
#: resize is libvips' Lanczos 3 after its JPEG shrink-on-load, not Pillow's after `draft`.
TOLERANCE = {"luminance": 0.5, "median": 2.0, "percent": 1.0, "score": 1}


# --- servers ------------------------------------------------------------------------------


@contextmanager
def running(names: list[str], logs: Path) -> Iterator[dict[str, int]]:
    """Starts the named servers, each on a free loopback port; yields name -> port."""
    with ExitStack() as stack:
        ports: dict[str, int] = {}
        for name in names:
            server, port = SERVERS[name], free_port()
            env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **server.env}
            log = stack.enter_context((logs / f"{name}.log").open("wb"))
            process = subprocess.Popen(
                server.command, cwd=server.cwd, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            stack.callback(stop, process)
            wait_until_healthy(port, process)
            ports[name] = port
        yield ports


def post(conn: http.client.HTTPConnection, body: bytes, content_type: str) -> tuple[int, bytes]:
    conn.request("POST", PATH, body=body, headers={"Content-Type": content_type})
    response = conn.getresponse()
    return response.status, response.read()


# --- the pre-flight: equal work -----------------------------------------------------------


def deviations(result: dict[str, Any], expected: dict[str, Any]) -> dict[str, float]:
    """How far `result` is from `expected`, field by field (0 when equal)."""
    sizes_differ = (result["width"], result["height"]) != (expected["width"], expected["height"])
    return {
        "average": abs(result["average_luminance"] - expected["average_luminance"]),
        "edge average": abs(result["edge_average_luminance"] - expected["edge_average_luminance"]),
        "median": abs(result["median_luminance"] - expected["median_luminance"]),
        "bucket": max(
            abs(got["percent"] - want["percent"])
            for got, want in zip(result["histogram"], expected["histogram"], strict=True)
        ),
        "score": max(
            abs(result["brightness_score"] - expected["brightness_score"]),
            abs(result["edge_brightness_score"] - expected["edge_brightness_score"]),
        ),
        "size": math.inf if sizes_differ else 0.0,
    }


LIMITS = {
    "average": TOLERANCE["luminance"], "edge average": TOLERANCE["luminance"],
    "median": TOLERANCE["median"], "bucket": TOLERANCE["percent"],
    "score": TOLERANCE["score"], "size": 0.0,
}  # fmt: skip


def check_agreement(classes: list[TrafficClass], ports: dict[str, int]) -> tuple[list[str], bool]:
    """Every server's answer for every class against the service's. Returns Markdown lines
    and whether all are within tolerance."""
    others = [name for name in ports if name != SERVICE]
    lines = [
        "| class | server | Δ average | Δ edge average | Δ median | max Δ bucket (points) "
        "| Δ score | within tolerance |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    ok = True
    for cls in classes:
        body, headers = multipart([("image", encoded(cls.name), cls.content_type)])
        answers = {}
        for name, port in ports.items():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                status, raw = post(conn, body, headers["Content-Type"])
            finally:
                conn.close()
            if status != 200:
                raise SystemExit(f"{name} answered {status} for {cls.name}: {raw[:300]!r}")
            answers[name] = json.loads(raw)
        for name in others:
            dev = deviations(answers[name], answers[SERVICE])
            within = all(dev[key] <= LIMITS[key] + 1e-9 for key in dev)
            ok &= within
            lines.append(
                f"| {cls.name} | {name} | {dev['average']:.2f} | {dev['edge average']:.2f} "
                f"| {dev['median']:.2f} | {dev['bucket']:.1f} | {dev['score']:.0f} "
                f"| {'yes' if within else '**NO**'} |"
            )
    return lines, ok


# --- measurements -------------------------------------------------------------------------


def latency(port: int, body: bytes, content_type: str, requests: int) -> dict[str, float]:
    """`requests` sequential requests on one connection, after two untimed ones."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times, failures = [], 0
    try:
        for i in range(requests + 2):
            started = time.perf_counter()
            status, _ = post(conn, body, content_type)
            if i >= 2:
                times.append(time.perf_counter() - started)
                failures += status != 200
    finally:
        conn.close()
    return {
        "p50": statistics.median(times) * 1000,
        "p90": statistics.quantiles(times, n=10, method="inclusive")[8] * 1000,
        "failures": float(failures),
    }


def throughput(port: int, body_file: Path, content_type: str, seconds: int,
               connections: int) -> dict[str, float]:  # fmt: skip
    env = {**os.environ, "WRK_BODY_FILE": str(body_file), "WRK_CONTENT_TYPE": content_type}
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
         "-s", str(Path(__file__).with_name("post.lua")), f"http://127.0.0.1:{port}{PATH}"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return {
        "rps": float(rps.group(1)),
        "non_2xx": float(non_2xx.group(1)) if non_2xx else 0.0,
        "socket_errors": float(sum(map(int, socket_errors.groups()))) if socket_errors else 0.0,
    }


# --- the run ------------------------------------------------------------------------------

#: (class name, server name) -> one measurement per round.
Results = dict[tuple[str, str], list[dict[str, float]]]


def measure(classes: list[TrafficClass], ports: dict[str, int], args: argparse.Namespace,
            folder: Path) -> Results:  # fmt: skip
    """Every class on every server, `args.rounds` times. Within a class the servers take
    turns, and the order rotates from class to class and round to round, so a neighbour's
    burst of load does not always land on the same server."""
    names = list(ports)
    bodies: dict[str, tuple[bytes, Path, str]] = {}
    for index, cls in enumerate(classes):
        body, headers = multipart([("image", encoded(cls.name), cls.content_type)])
        path = folder / f"{index}.body"
        path.write_bytes(body)
        bodies[cls.name] = (body, path, headers["Content-Type"])
    results: Results = {}
    for round_index in range(args.rounds):
        for class_index, cls in enumerate(classes):
            body, path, content_type = bodies[cls.name]
            shift = (round_index + class_index) % len(names)
            for name in names[shift:] + names[:shift]:
                port = ports[name]
                entry = latency(port, body, content_type, args.requests)
                throughput(port, path, content_type, args.warmup, args.connections)
                entry |= throughput(port, path, content_type, args.seconds, args.connections)
                results.setdefault((cls.name, name), []).append(entry)
                print(f"  round {round_index + 1}  {cls.name:<30} {name:<15} "
                      f"p50 {entry['p50']:7.1f} ms  {entry['rps']:7.1f} req/s",
                      file=sys.stderr, flush=True)  # fmt: skip
    return results


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _geomean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else math.nan


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def report(classes: list[TrafficClass], names: list[str], results: Results) -> list[str]:
    """Two Markdown tables, latency and throughput, with the service's speed-up over every
    other server per class and its geometric mean over the classes."""
    others = [n for n in names if n != SERVICE]
    latency_head = ["class", "size"] + [f"{n} {q} ms" for n in names for q in ("p50", "p90")]
    latency_head += [f"{n} p50 / {SERVICE} p50" for n in others]
    lines = ["**Latency**: sequential requests on one connection; medians over the rounds.", "",
             _row(latency_head), _row(["---"] + ["---:"] * (len(latency_head) - 1))]  # fmt: skip
    speedups: dict[str, list[float]] = {n: [] for n in others}
    for cls in classes:
        runs = {n: results[(cls.name, n)] for n in names}
        p50 = {n: _median(runs[n], "p50") for n in names}
        cells = [cls.name, f"{len(encoded(cls.name)) / 1024:.0f} KB"]
        cells += [f"{_median(runs[n], q):.1f}" for n in names for q in ("p50", "p90")]
        for n in others:
            speedups[n].append(p50[n] / p50[SERVICE])
            cells.append(f"{speedups[n][-1]:.2f}×")
        lines.append(_row(cells))
    blanks = [""] * (1 + 2 * len(names))
    lines.append(_row(["**geometric mean**"] + blanks
                      + [f"**{_geomean(speedups[n]):.2f}×**" for n in others]))  # fmt: skip

    throughput_head = ["class"] + [f"{n} req/s" for n in names]
    throughput_head += [f"{SERVICE} / {n}" for n in others]
    throughput_head.append("non-2xx, socket errors (all rounds)")
    align = ["---"] + ["---:"] * (len(throughput_head) - 2) + ["---"]
    lines += ["", "**Throughput**: wrk req/s; medians over the rounds.", "",
              _row(throughput_head), _row(align)]  # fmt: skip
    gains: dict[str, list[float]] = {n: [] for n in others}
    for cls in classes:
        runs = {n: results[(cls.name, n)] for n in names}
        rps = {n: _median(runs[n], "rps") for n in names}
        cells = [cls.name] + [f"{rps[n]:.1f}" for n in names]
        for n in others:
            gains[n].append(rps[SERVICE] / rps[n] if rps[n] else math.inf)
            cells.append(f"{gains[n][-1]:.2f}×")
        errors = [f"{n} {int(sum(r['non_2xx'] + r['failures'] for r in runs[n]))}, "
                  f"{int(sum(r['socket_errors'] for r in runs[n]))}" for n in names]  # fmt: skip
        lines.append(_row(cells + ["; ".join(errors)]))
    lines.append(_row(["**geometric mean**"] + [""] * len(names)
                      + [f"**{_geomean(gains[n]):.2f}×**" for n in others] + [""]))  # fmt: skip
    return lines


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


#: What the service is built and served from: its build is the last commit that touched these.
SERVICE_SOURCES = ("rust_core", "python", "Cargo.toml", "Cargo.lock", ".cargo", "pyproject.toml",
                   "gunicorn.conf.py")  # fmt: skip


def describe_run(args: argparse.Namespace, names: list[str]) -> list[str]:
    commit = _git("log", "-1", "--format=%h", "--", *SERVICE_SOURCES)
    if _git("status", "--porcelain", "--", *SERVICE_SOURCES):
        commit += " with uncommitted changes"
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    sharp = json.loads((PEER_DIR / "node_modules/sharp/package.json").read_text())["version"]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"Service build {commit}; sharp {sharp} on Node {node}. Servers: {', '.join(names)}, "
        f"two processes each, cache off. `POST {PATH}`.",
        f"{args.rounds} round(s); in each, per class and server: {args.requests} sequential "
        f"requests, then wrk -t2 -c{args.connections} for {args.warmup} s (warm-up) and "
        f"{args.seconds} s. Classes {source_description()}. Load average at the start: {load}.",
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=25, help="sequential requests per round")
    parser.add_argument("--seconds", type=int, default=10, help="wrk run per round")
    parser.add_argument("--warmup", type=int, default=2, help="wrk warm-up per round")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--classes", help="comma-separated substrings of class names; default all")
    servers_help = f"comma-separated, of {', '.join(SERVERS)}; {SERVICE} always runs"
    parser.add_argument("--servers", default=",".join(DEFAULT_SERVERS), help=servers_help)
    parser.add_argument("--output", type=Path, help="also write the Markdown to this file")
    parser.add_argument("--check-only", action="store_true", help="run the pre-flight alone")
    args = parser.parse_args()
    args.names = [SERVICE] + [n for n in args.servers.split(",") if n and n != SERVICE]
    if unknown := [n for n in args.names if n not in SERVERS]:
        parser.error(f"unknown servers: {', '.join(unknown)}")
    if shutil.which("wrk") is None and not args.check_only:
        parser.error("wrk is not installed (make bench installs it)")
    if PEER in args.names and not (PEER_DIR / "node_modules").is_dir():
        parser.error("benches/peer has no node_modules: run `npm ci` there (make bench does)")
    args.selected = available_classes()
    if args.classes:
        wanted = [w.strip().lower() for w in args.classes.split(",") if w.strip()]
        args.selected = [c for c in args.selected if any(w in c.name.lower() for w in wanted)]
    if not args.selected:
        parser.error("no traffic class selected")
    return args


def main() -> None:
    args = parse_args()
    classes, names = args.selected, args.names
    lines = describe_run(args, names) + [
        "",
        "**Pre-flight**: each server's answer against the service's (tolerance: average and edge "
        "average ±0.5, median ±2, buckets ±1.0 point, scores ±1, same size).",
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp, running(names, Path(tmp)) as ports:
        agreement, ok = check_agreement(classes, ports)
        lines += agreement
        print("\n".join(lines), flush=True)
        if not ok:
            raise SystemExit("the servers disagree beyond the tolerance: not equal work")
        if not args.check_only:
            table = report(classes, names, measure(classes, ports, args, Path(tmp)))
            table += ["", "Load average at the end: "
                      + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + "."]  # fmt: skip
            print("\n" + "\n".join(table))
            lines += [""] + table
    if args.output:
        args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
