"""Load and fault campaigns against a real gunicorn on loopback, each bounded in requests and
in time and stopping by itself. `scripts/stress.py` runs them long and writes the figures to
docs/RELIABILITY.md; tests/test_stress_short.py runs them for a few seconds and checks the
behaviour. Every function returns its figures as a dict."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tests.support import png_files, synthetic
from tests.support.http_helpers import multipart
from tests.support.live_server import ROOT, LiveServer
from tests.support.procfs import children, peak_rss_bytes, rss_bytes

UPLOAD = "/v1/image/analysis?metrics=brightness,median,histogram&edge_mode=all"
#: The stated per-worker memory ceiling: the interpreter, Pillow and the app (~40 MB) plus the
#: analyzer's slots (ANALYSIS_THREADS, default 4) each decoding an RGBA PNG at the
#: 50-megapixel limit (205 MB each, measured), with headroom (docs/RELIABILITY.md).
RSS_CEILING_BYTES = 1024 * 1024 * 1024
#: What a 40-megapixel upload may be answered: 504 when four at once on two cores cannot
#: finish within the 2 s limit (the contract's answer); never anything else.
HEAVY_STATUSES = {200, 504}
#: The contract's processing limit, and how long past it an answer may take on this busy
#: 2-core machine (the request's own thread answering after the core's last deadline check).
TIME_LIMIT_S = 2.0
ANSWER_GRACE_S = 0.5
#: Every load loop stops after this many requests per client thread, whatever the time.
MAX_REQUESTS_PER_THREAD = 20_000


def multipart_body(data: bytes, content_type: str) -> tuple[bytes, str]:
    """A one-part upload body and its Content-Type."""
    body, headers = multipart([("image", data, content_type)])
    return body, headers["Content-Type"]


def small_jpeg() -> bytes:
    return synthetic.jpeg(synthetic.textured_photo(320, 240, seed=11), quality=85)


def post(port: int, body: bytes, content_type: str, timeout: float = 30) -> int:
    """One upload on a new connection: the status, or 0 when the connection failed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", UPLOAD, body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        conn.close()


def health_latency(port: int, timeout: float = 5) -> float | None:
    """Seconds for GET /health to answer 200, or None when it did not."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        response.read()
        return time.monotonic() - started if response.status == 200 else None
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def worker_rss(server: LiveServer) -> dict[int, int]:
    return {pid: rss_bytes(pid) for pid in children(server.process.pid)}


# --- wrk ----------------------------------------------------------------------------------------


def _wrk(port: int, body_file: Path, content_type: str, seconds: int, connections: int) -> str:
    env = {**os.environ, "WRK_BODY_FILE": str(body_file), "WRK_CONTENT_TYPE": content_type}
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
               "--latency", "-s", str(ROOT / "benches/load/post.lua"),
               f"http://127.0.0.1:{port}{UPLOAD}"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True,
                          timeout=seconds + 60, check=True)  # fmt: skip
    return done.stdout


def _parse_wrk(out: str) -> dict[str, Any]:
    def latency_ms(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)  # fmt: skip
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = re.search(r"(\d+) requests in", out)
    assert requests, out
    return {
        "requests": int(requests.group(1)),
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": latency_ms("50"),
        "p99_ms": latency_ms("99"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    }


def wrk_campaign(
    server: LiveServer, seconds: int, warmup_seconds: int, connections: int = 64
) -> dict[str, Any]:
    """wrk on a small JPEG: a warm-up run, the workers' RSS, the measured run, their RSS."""
    body, content_type = multipart_body(small_jpeg(), "image/jpeg")
    with tempfile.TemporaryDirectory() as folder:
        body_file = Path(folder) / "body"
        body_file.write_bytes(body)
        _wrk(server.port, body_file, content_type, warmup_seconds, connections)
        rss_warm = worker_rss(server)
        figures = _parse_wrk(_wrk(server.port, body_file, content_type, seconds, connections))
    rss_after = worker_rss(server)
    figures.update(
        seconds=seconds, connections=connections, rss_after_warmup=rss_warm,
        rss_after=rss_after, same_workers=sorted(rss_warm) == sorted(rss_after),
        rss_growth=max(rss_after[pid] / rss_warm[pid] - 1 for pid in rss_warm if pid in rss_after),
    )  # fmt: skip
    return figures


# --- background load ------------------------------------------------------------------------------


@dataclass
class Load:
    """Client threads posting one small JPEG until stopped (or their request cap). Each
    request is recorded as (started, finished, status), status 0 for a failed connection."""

    port: int
    threads: int = 8
    records: list[tuple[float, float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> Load:
        body, content_type = multipart_body(small_jpeg(), "image/jpeg")
        lock = threading.Lock()

        def run() -> None:
            for _ in range(MAX_REQUESTS_PER_THREAD):
                if self._stop.is_set():
                    return
                started = time.monotonic()
                status = post(self.port, body, content_type)
                with lock:
                    self.records.append((started, time.monotonic(), status))

        self._pool = ThreadPoolExecutor(max_workers=self.threads)
        for _ in range(self.threads):
            self._pool.submit(run)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._pool is not None
        self._pool.shutdown(wait=True)


# --- slowloris -----------------------------------------------------------------------------------


#: The start of each kind of slow request; the client then sends one more byte now and then.
SLOW_STARTS = {
    "head": b"GET /health HTTP/1.1\r\nHost: x\r\n",
    "request-line": b"GET /hea",
    "body": (b"POST /v1/image/analysis HTTP/1.1\r\nHost: x\r\n"
             b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n--b\r\n"),
    "chunked-body": (b"POST /v1/image/analysis/url HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n100\r\n{"),
    "expect-continue": (b"POST /v1/image/analysis HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                        b"Content-Type: multipart/form-data; boundary=b\r\nExpect: 100-continue\r\n\r\n"),
    "idle": b"",
}  # fmt: skip


class SlowClients:
    """`count` connections, spread over the kinds above, each sending a byte every
    `interval` seconds until stopped (or cut off by the server)."""

    def __init__(self, port: int, count: int, interval: float = 0.5) -> None:
        self.port = port
        self.count = count
        self.interval = interval
        self.connected = 0
        self.cut_off = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _run(self, start: bytes) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        except OSError:
            return
        with self._lock:
            self.connected += 1
        try:
            sock.sendall(start)
            while not self._stop.wait(self.interval):
                if start:
                    sock.sendall(b"x")
        except OSError:
            with self._lock:
                self.cut_off += 1
        finally:
            sock.close()

    def __enter__(self) -> SlowClients:
        starts = list(SLOW_STARTS.values())
        for index in range(self.count):
            thread = threading.Thread(target=self._run, args=(starts[index % len(starts)],),
                                      daemon=True)  # fmt: skip
            thread.start()
            self._threads.append(thread)
        deadline = time.monotonic() + 60
        while self.connected < self.count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # every one has sent its start and is dribbling
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def probe_while(server: LiveServer, seconds: float) -> dict[str, Any]:
    """A normal client for `seconds`: /health every quarter second, a small JPEG upload every
    half second; their figures."""
    body, content_type = multipart_body(small_jpeg(), "image/jpeg")
    latencies: list[float | None] = []
    uploads: list[int] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        latencies.append(health_latency(server.port))
        if len(latencies) % 2 == 0:
            uploads.append(post(server.port, body, content_type))
        time.sleep(0.25)
    answered = [latency for latency in latencies if latency is not None]
    return {
        "seconds": seconds,
        "health_checks": len(latencies),
        "health_failed": len(latencies) - len(answered),
        "health_max_s": max(answered) if answered else None,
        "health_p50_s": sorted(answered)[len(answered) // 2] if answered else None,
        "uploads": len(uploads),
        "uploads_ok": uploads.count(200),
    }


def slowloris_campaign(server: LiveServer, seconds: float, clients: int = 300) -> dict[str, Any]:
    """`clients` connections dribbling, one byte every half second, request lines, heads,
    bodies, chunked bodies and bodies behind `Expect: 100-continue` that never end, or
    nothing at all (SLOW_STARTS), while a normal client checks /health every quarter second
    and uploads a small JPEG every half second."""
    with SlowClients(server.port, clients) as slow:
        figures = probe_while(server, seconds)
        connected, cut_off = slow.connected, slow.cut_off
    return {**figures, "clients": clients, "connected": connected, "slow_clients_cut_off": cut_off}


# --- slow origins ------------------------------------------------------------------------------


def slow_origin_campaign(
    server: LiveServer, origin_base: str, seconds: float, clients: int = 200
) -> dict[str, Any]:
    """`clients` threads asking, one request after another, for URLs whose origin never
    finishes its headers (tests/support/origin.py `/dribble/headers`), while a normal client checks
    /health every quarter second and uploads a small JPEG every half second. The service
    must be allowed to fetch from the origin (URL_FETCH_ALLOWLIST)."""
    import json

    stop = threading.Event()
    statuses: list[int] = []
    lock = threading.Lock()
    slow_body = json.dumps({"url": f"{origin_base}/dribble/headers"}).encode()

    def fetcher() -> None:
        for _ in range(MAX_REQUESTS_PER_THREAD):
            if stop.is_set():
                return
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            try:
                conn.request("POST", "/v1/image/analysis/url", body=slow_body,
                             headers={"Content-Type": "application/json"})  # fmt: skip
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
            finally:
                conn.close()
            with lock:
                statuses.append(status)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        for _ in range(clients):
            pool.submit(fetcher)
        time.sleep(1.0)
        figures = probe_while(server, seconds)
        stop.set()
    return {
        **figures,
        "clients": clients,
        "fetches": len(statuses),
        "fetch_statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
    }


# --- SIGKILL of a worker ----------------------------------------------------------------------------


def kill_worker_campaign(server: LiveServer, load_seconds: float) -> dict[str, Any]:
    """Under load, SIGKILL one worker; time until /health answers and until the master has
    replaced it; which requests failed, and whether they had started before the kill."""
    before = children(server.process.pid)
    with Load(server.port) as load:
        time.sleep(load_seconds / 2)
        victim = before[0]
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        answered_at = None
        replaced_at = None
        deadline = killed_at + 30
        while time.monotonic() < deadline and (answered_at is None or replaced_at is None):
            if answered_at is None and health_latency(server.port, timeout=2) is not None:
                answered_at = time.monotonic()
            workers = children(server.process.pid)
            if replaced_at is None and len(workers) == len(before) and victim not in workers:
                replaced_at = time.monotonic()
            time.sleep(0.02)
        time.sleep(load_seconds / 2)
    failed = [(start, end) for start, end, status in load.records if status != 200]
    return {
        "requests": len(load.records),
        "failed": len(failed),
        "failed_started_after_kill": sum(1 for start, _ in failed if start > killed_at),
        "health_after_s": None if answered_at is None else answered_at - killed_at,
        "replaced_after_s": None if replaced_at is None else replaced_at - killed_at,
        "client_threads": load.threads,
    }


# --- SIGTERM of the master ------------------------------------------------------------------------


def sigterm_campaign(server: LiveServer, load_seconds: float, graceful_timeout: float) -> dict[str, Any]:
    """Under load, SIGTERM the master: requests in flight must finish, later connections
    are refused (not reset mid-answer), and gunicorn exits within its graceful timeout."""
    with Load(server.port) as load:
        time.sleep(load_seconds)
        terminated_at = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=graceful_timeout + 10)
        except subprocess.TimeoutExpired:
            pass
        exited_after = time.monotonic() - terminated_at
    in_flight = [r for r in load.records if r[0] < terminated_at < r[1]]
    after = [r for r in load.records if r[0] > terminated_at]
    refused_after_exit = health_latency(server.port, timeout=1) is None
    return {
        "requests": len(load.records),
        "in_flight_at_sigterm": len(in_flight),
        "in_flight_failed": sum(1 for r in in_flight if r[2] != 200),
        "started_before_and_failed": sum(1 for r in load.records if r[0] < terminated_at and r[2] != 200),
        "failed_statuses": sorted({r[2] for r in load.records if r[2] != 200}),
        "started_after": len(after),
        "started_after_ok": sum(1 for r in after if r[2] == 200),
        "exited": server.process.poll() is not None,
        "exit_code": server.process.poll(),
        "exited_after_s": exited_after,
        "refused_after_exit": refused_after_exit,
    }


def _health_on_new_connection(port: int) -> tuple[float | None, bool]:
    """GET /health on a new connection: when connect() returned (None when it failed), and
    whether a 200 came back."""
    sock = socket.socket()
    sock.settimeout(20)
    try:
        sock.connect(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None, False
    connected_at = time.monotonic()
    answer = b""
    try:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while chunk := sock.recv(65536):
            answer += chunk
    except OSError:
        pass
    finally:
        sock.close()
    return connected_at, answer.startswith(b"HTTP/1.1 200")


def queued_at_sigterm_campaign(
    server: LiveServer, load_seconds: float, clients: int = 64
) -> dict[str, Any]:
    """`clients` threads opening connections to /health as fast as they are answered, so that
    some are always queued in the listen backlog; then SIGTERM of the master. A connection
    the kernel completed before the signal was a request made: it must be answered."""
    stop = threading.Event()
    records: list[tuple[float | None, bool]] = []
    lock = threading.Lock()

    def run() -> None:
        for _ in range(MAX_REQUESTS_PER_THREAD):
            if stop.is_set():
                return
            record = _health_on_new_connection(server.port)
            with lock:
                records.append(record)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        for _ in range(clients):
            pool.submit(run)
        time.sleep(load_seconds)
        terminated_at = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        stop.set()
    before = [ok for at, ok in records if at is not None and at < terminated_at]
    return {
        "connections_before_sigterm": len(before),
        "unanswered_before_sigterm": before.count(False),
        "exit_code": server.process.poll(),
    }


# --- memory ------------------------------------------------------------------------------------------


def five_mb_png() -> bytes:
    """A noise PNG just under the 5 MB upload limit (noise does not compress)."""
    rng = np.random.default_rng(5)
    side = 1320
    data = synthetic.png(rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8), 1)
    while len(data) > 5_242_880:
        side -= 8
        data = synthetic.png(rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8), 1)
    return data


def forty_mp_images() -> dict[str, bytes]:
    """8000 x 5000 images (40 megapixels) as PNG and as baseline and progressive JPEG, each
    small on the wire."""
    grad = np.linspace(0, 255, 8000, dtype=np.float32)[None, :, None]
    rows = np.linspace(0, 1, 5000, dtype=np.float32)[:, None, None]
    rgb = (grad * rows + np.array([0, 40, 80], np.float32)).clip(0, 255).astype(np.uint8)
    return {
        "png-40mp": synthetic.png(rgb),
        "jpeg-40mp": synthetic.jpeg(rgb, quality=60),
        "progressive-jpeg-40mp": synthetic.jpeg(rgb, quality=60, progressive=True),
    }


def memory_campaign(
    server: LiveServer, repeats: int, images: dict[str, bytes], concurrency: int = 4
) -> dict[str, Any]:
    """Posts each image `repeats` times, `concurrency` at once, and reads every worker's peak
    RSS (VmHWM) afterwards. Returns statuses and the largest peak."""
    start_rss = worker_rss(server)
    statuses: dict[str, list[int]] = {}
    for name, data in images.items():
        content_type = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        body, form_type = multipart_body(data, content_type)
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            statuses[name] = list(pool.map(lambda _: post(server.port, body, form_type, 60),
                                           range(repeats)))  # fmt: skip
    peaks = {pid: peak_rss_bytes(pid) for pid in children(server.process.pid)}
    return {
        "sizes": {name: len(data) for name, data in images.items()},
        "statuses": statuses,
        "rss_at_start": start_rss,
        "peak_rss": peaks,
        "max_peak_rss": max(peaks.values()),
        "same_workers": sorted(peaks) == sorted(start_rss),
    }


# --- amplifiers: small files that cost far more than their size ----------------------------------


def _grey_png(width: int, height: int) -> bytes:
    """An 8-bit grey PNG of bands 100,000 pixels wide (or tall); it deflates to almost
    nothing, so a file of tens of kilobytes holds up to the 50-megapixel limit."""
    row = np.zeros(width + 1, np.uint8)  # filter byte 0, then the samples
    row[1:] = (np.arange(width) // 100_000 % 200).astype(np.uint8)
    if height > 1:
        raw = np.tile(row, (height, 1))
        raw[:, 1:] = (np.arange(height) // 100_000 % 200).astype(np.uint8)[:, None]
    else:
        raw = row
    header = png_files.ihdr(width, height, 8, png_files.GREY)
    return png_files.assemble(header, zlib.compress(raw.tobytes(), 9))


def _grey16_png(side: int) -> bytes:
    """A 16-bit grey PNG of `side` x `side` in vertical bands."""
    raw = np.zeros((side, side * 2 + 1), np.uint8)
    raw[:, 1::2] = (np.arange(side) // 50 % 256).astype(np.uint8)[None, :]
    header = png_files.ihdr(side, side, 16, png_files.GREY)
    return png_files.assemble(header, zlib.compress(raw.tobytes(), 9))


def _many_scans_jpeg(scans: int) -> bytes:
    """A small progressive JPEG with `scans` DC refinement scans of 48 data bytes each put in
    front of its own scans."""
    data = synthetic.jpeg(synthetic.textured_photo(64, 48, seed=2), quality=80, progressive=True)
    first = data.index(b"\xff\xda")
    refinement = b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x10" + b"\x00" * 48
    return data[:first] + refinement * scans + data[first:]


#: name -> the statuses it may be answered. The pixel-heavy ones are 200, or the contract's
#: 504 when eight at once outrun the limit; the scan bomb is refused before it is decoded.
AMPLIFIER_STATUSES = {
    "png-2x25000000": {200, 504},
    "png-50000000x1": {200, 504},
    "png16-grey-7071x7071": {200, 504},
    "jpeg-20000-scans": {400},
    "jpeg-chroma-finer-than-luma": {200},
}


def amplifier_images() -> dict[str, bytes]:
    """The inputs that cost far more than their size , and a valid JPEG whose chroma is
    sampled more finely than its luma."""
    return {
        "png-2x25000000": _grey_png(2, 25_000_000),
        "png-50000000x1": _grey_png(50_000_000, 1),
        "png16-grey-7071x7071": _grey16_png(7071),
        "jpeg-20000-scans": _many_scans_jpeg(20_000),
        "jpeg-chroma-finer-than-luma": synthetic.cjpeg(
            synthetic.textured_photo(3072, 8, seed=1), "-sample", "1x1,2x1,1x1"
        ),
    }


def amplifier_campaign(
    server: LiveServer, images: dict[str, bytes], concurrency: int = 8
) -> dict[str, Any]:
    """Posts `concurrency` copies of each image at once while a normal client checks /health
    and uploads a small JPEG; per image the statuses, the slowest answer and what the normal
    client saw; then every worker's peak RSS (VmHWM)."""
    start_rss = worker_rss(server)
    per_image: dict[str, dict[str, Any]] = {}
    for name, data in images.items():
        content_type = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        body, form_type = multipart_body(data, content_type)

        def timed(_: int) -> tuple[int, float]:
            started = time.monotonic()
            status = post(server.port, body, form_type, 60)
            return status, time.monotonic() - started

        with ThreadPoolExecutor(max_workers=concurrency + 1) as pool:
            probe = pool.submit(probe_while, server, 2 * TIME_LIMIT_S)
            answers = list(pool.map(timed, range(concurrency)))
            normal = probe.result()
        per_image[name] = {
            "size": len(data),
            "statuses": [status for status, _ in answers],
            "slowest_s": max(seconds for _, seconds in answers),
            **{key: normal[key] for key in ("health_checks", "health_failed", "health_max_s",
                                            "uploads", "uploads_ok")},
        }  # fmt: skip
    peaks = {pid: peak_rss_bytes(pid) for pid in children(server.process.pid)}
    return {
        "concurrency": concurrency,
        "images": per_image,
        "peak_rss": peaks,
        "max_peak_rss": max(peaks.values()),
        "same_workers": sorted(peaks) == sorted(start_rss),
    }
