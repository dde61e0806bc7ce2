"""Slow clients against real gunicorn with the service's worker (serving/worker.py): any number
of connections dribbling their requests, within the connection limits, leaves /health and
uploads answering, and a request that has not arrived by its deadline is answered 408.
gunicorn's own behaviour (keep-alive, pipelining, 100 Continue, max_requests) stays.

Assertions are on answers, never on timing; client timeouts are generous."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import image_insights
from scripts.stress_campaigns import SLOW_STARTS, SlowClients
from tests.support import synthetic
from tests.support.http_helpers import encode, gradient, multipart
from tests.support.live_server import LiveServer, running_service
from tests.support.procfs import children

pytestmark = pytest.mark.integration

UPLOAD = "/v1/image/analysis"
IMAGE = encode(gradient(120, 80), "PNG")
QUIET = {"ENABLE_DETAILED_LOGGING": "false", "CACHE_ENABLED": "false"}
#: A read deadline far beyond any test's length, so that no slow client is cut off by it.
PATIENT = {**QUIET, "REQUEST_READ_TIMEOUT_SECONDS": "900"}

def both_workers(server: LiveServer) -> list[int]:
    """The master's two workers, once both have booted."""
    deadline = time.monotonic() + 60
    while len(workers := children(server.process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    return workers


def upload(server: LiveServer) -> int:
    body, headers = multipart([("image", IMAGE, "image/png")])
    return server.request("POST", UPLOAD, body, headers, timeout=120)[0]


@pytest.fixture(scope="module")
def service() -> Iterator[LiveServer]:
    with running_service(PATIENT) as server:
        yield server


def test_300_slow_clients_leave_health_and_uploads_answering(service: LiveServer) -> None:
    """300 connections (more than twice the 2 x 64 threads) dribbling request lines, heads,
    bodies, chunked bodies, bodies behind `Expect: 100-continue`, or nothing at all."""
    workers = both_workers(service)
    with SlowClients(service.port, 300) as slow:
        assert slow.connected == 300
        health = [service.request("GET", "/health", timeout=120)[0] for _ in range(20)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            uploads = list(pool.map(lambda _: upload(service), range(16)))
        assert slow.cut_off == 0  # none was dropped to make room
    assert health == [200] * 20
    assert uploads == [200] * 16
    assert children(service.process.pid) == workers


def test_slow_clients_with_four_threads() -> None:
    """The same with 4 threads per worker: 300 slow clients against 8 threads, none held."""
    with running_service({**PATIENT, "GUNICORN_THREADS": "4"}) as server:
        with SlowClients(server.port, 300) as slow:
            assert slow.connected == 300
            health = [server.request("GET", "/health", timeout=120)[0] for _ in range(10)]
            uploads = [upload(server) for _ in range(5)]
    assert health == [200] * 10
    assert uploads == [200] * 5


# --- the deadline -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_deadline() -> Iterator[LiveServer]:
    env = {**QUIET, "REQUEST_READ_TIMEOUT_SECONDS": "1.5", "GUNICORN_KEEPALIVE": "1"}
    with running_service(env) as server:
        yield server


def read_all(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except OSError:
        pass
    return data


@pytest.mark.parametrize("kind", ["head", "request-line", "body", "chunked-body", "expect-continue"])
def test_a_request_not_arrived_by_its_deadline_is_answered_408(
    short_deadline: LiveServer, kind: str
) -> None:
    sock = socket.create_connection(("127.0.0.1", short_deadline.port), timeout=60)
    try:
        sock.sendall(SLOW_STARTS[kind])
        stop = threading.Event()

        def dribble() -> None:
            try:
                while not stop.wait(0.3):
                    sock.sendall(b"x")
            except OSError:
                pass

        sender = threading.Thread(target=dribble)
        sender.start()
        answer = read_all(sock)  # the server closes the connection after its answer
        stop.set()
        sender.join()
    finally:
        sock.close()
    answer = answer.replace(b"HTTP/1.1 100 Continue\r\n\r\n", b"", 1)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"Connection: close" in head
    assert json.loads(body) == {"detail": "Request Timeout"}


def test_an_idle_connection_is_closed_silently(short_deadline: LiveServer) -> None:
    sock = socket.create_connection(("127.0.0.1", short_deadline.port), timeout=60)
    try:
        assert read_all(sock) == b""
    finally:
        sock.close()


def test_a_request_that_arrives_in_time_is_served(short_deadline: LiveServer) -> None:
    sock = socket.create_connection(("127.0.0.1", short_deadline.port), timeout=60)
    try:
        for byte in b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"[:-1]:
            sock.sendall(bytes([byte]))
        time.sleep(0.5)
        sock.sendall(b"\n")
        answer = read_all(sock)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 200 ")


# --- gunicorn's behaviour kept ----------------------------------------------------------------


def test_keep_alive_and_pipelining(service: LiveServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=60)
    body, headers = multipart([("image", IMAGE, "image/png")])
    try:
        statuses = []
        for _ in range(3):
            conn.request("GET", "/health")
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
            conn.request("POST", UPLOAD, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        assert statuses == [200] * 6
    finally:
        conn.close()
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=60)
    try:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 4
                     + b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")  # fmt: skip
        answers = read_all(sock)
    finally:
        sock.close()
    assert answers.count(b"HTTP/1.1 200 OK") == 5


def test_pipelined_uploads_are_each_answered_with_their_own_numbers(service: LiveServer) -> None:
    """Requests with bodies back to back in one send: the worker hands each to gunicorn's
    parser with the bytes that follow it, and each is answered as if sent alone."""
    rng = np.random.default_rng(4)
    large = synthetic.png(rng.integers(0, 256, (500, 700, 3), dtype=np.uint8))  # ~1 MB
    small = encode(gradient(90, 60), "PNG")
    requests, expected = b"", []
    for data in (large, small, large, small):
        body, headers = multipart([("image", data, "image/png")])
        requests += (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
                     b"Content-Length: %d\r\n\r\n" % (UPLOAD.encode(),
                     headers["Content-Type"].encode(), len(body))) + body  # fmt: skip
        expected.append(image_insights.analyze(data)["average_luminance"])
    requests += b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=60)
    try:
        sock.sendall(requests)
        answers = read_all(sock)
    finally:
        sock.close()
    assert answers.count(b"HTTP/1.1 200 OK") == 5, answers[:300]
    bodies = re.findall(rb"\r\n\r\n(\{[^\r]*?\})(?=HTTP/1.1|$)", answers)
    assert [json.loads(body)["average_luminance"] for body in bodies[:4]] == expected


def test_one_100_continue_then_the_answer(service: LiveServer) -> None:
    body, headers = multipart([("image", IMAGE, "image/png")])
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=60)
    try:
        sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                     b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
                     % (UPLOAD.encode(), headers["Content-Type"].encode(), len(body)))  # fmt: skip
        interim = sock.recv(len(b"HTTP/1.1 100 Continue\r\n\r\n"))
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        answer = read_all(sock)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 200 OK"), answer[:100]
    assert b"100 Continue" not in answer


def test_bodies_beyond_the_buffer_are_read_by_a_thread() -> None:
    """With a 256 KiB buffer per worker, a 1 MB upload is read by its thread: still 200; a
    body declared over the limit is refused from its length."""
    big = synthetic.png(np.random.default_rng(3).integers(0, 256, (600, 600, 3), dtype=np.uint8))
    assert len(big) > 256 * 1024
    with running_service({**QUIET, "REQUEST_BUFFER_BYTES": str(256 * 1024)}) as server:
        body, headers = multipart([("image", big, "image/png")])
        assert server.request("POST", UPLOAD, body, headers, timeout=120)[0] == 200
        oversize, oversize_headers = multipart([("image", b"\xff\xd8\xff" + b"\0" * 6_000_000, "image/jpeg")])
        status, _, payload = server.request("POST", UPLOAD, oversize, oversize_headers, timeout=120)
        assert status == 413 and json.loads(payload)["detail"]["received_size_bytes"] == len(oversize)


def test_max_requests_still_recycles_workers() -> None:
    env = {**QUIET, "GUNICORN_MAX_REQUESTS": "10", "GUNICORN_MAX_REQUESTS_JITTER": "0"}
    with running_service(env) as server:
        before = set(both_workers(server))
        statuses = [server.request("GET", "/health", timeout=60)[0] for _ in range(60)]
        deadline = time.monotonic() + 30
        while set(children(server.process.pid)) & before and time.monotonic() < deadline:
            time.sleep(0.1)
        after = set(children(server.process.pid))
    assert statuses == [200] * 60
    assert after and not after & before  # every worker was replaced after its 10 requests
