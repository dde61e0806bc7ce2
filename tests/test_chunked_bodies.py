"""Request bodies with `Transfer-Encoding: chunked` and no Content-Length, over raw sockets to
real gunicorn: each gets the answer the same body gets with a Content-Length, and the 5 MB
limit holds while the body streams in."""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
from typing import Any

import pytest

import image_insights
from tests.support.http_helpers import encode, gradient, multipart
from tests.support.live_server import LiveServer
from tests.support.origin import Origin

pytestmark = pytest.mark.integration

UPLOAD = "/v1/image/analysis?metrics=brightness,median,histogram&edge_mode=all"
BY_URL = "/v1/image/analysis/url"
LIMIT = 5_242_880
#: Multipart framing allowed beyond the image limit (config.MULTIPART_ALLOWANCE).
ALLOWANCE = 64 * 1024


@pytest.fixture
def service(uncached_service: LiveServer) -> LiveServer:
    return uncached_service


def chunked(body: bytes, sizes: list[int] | None = None, trailer: bytes = b"",
            extension: bytes = b"") -> bytes:  # fmt: skip
    """`body` in chunked framing, in pieces of the given sizes (repeated), or one piece."""
    out, offset, index = [], 0, 0
    while offset < len(body):
        size = sizes[index % len(sizes)] if sizes else len(body)
        piece = body[offset : offset + size]
        out.append(b"%x%s\r\n%s\r\n" % (len(piece), extension, piece))
        offset += size
        index += 1
    return b"".join(out) + b"0\r\n" + trailer + b"\r\n"


class _OneReader:
    """What http.client.HTTPResponse needs of a socket, over one buffered reader shared by
    every response on the connection (each HTTPResponse would otherwise make its own and
    lose what it read ahead)."""

    def __init__(self, sock: socket.socket) -> None:
        self._file = sock.makefile("rb")

    def makefile(self, mode: str) -> Any:
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

    def close(self) -> None:
        """A response that has read its body closes its reader: the next one needs it."""

    def close_file(self) -> None:
        self._file.close()


def exchange(
    server: LiveServer,
    path: str,
    headers: dict[str, str],
    framed_body: bytes,
    then: bytes = b"",
) -> list[tuple[int, dict[str, str], bytes]]:
    """Sends one POST (headers as given, body already framed) and, on the same connection,
    the bytes of `then` (another request); returns every response read. The sending runs
    beside the reading: a server that refuses a body early answers before it has all."""
    head = f"POST {path} HTTP/1.1\r\nHost: test\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    ) + "\r\n"
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)

    def send() -> None:
        data = memoryview(head.encode() + framed_body + then)
        try:
            for offset in range(0, len(data), 65536):
                sock.sendall(data[offset : offset + 65536])
        except OSError:
            pass  # the server stopped reading: its answer says why

    sender = threading.Thread(target=send)
    sender.start()
    answers = []
    reader = _OneReader(sock)
    try:
        for _ in range(2 if then else 1):
            response = http.client.HTTPResponse(reader)  # type: ignore[arg-type]
            response.begin()
            answers.append((response.status, {k.lower(): v for k, v in response.getheaders()},
                            response.read()))  # fmt: skip
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the server has closed it already
        sender.join()
        reader.close_file()
        sock.close()
    return answers


def chunked_post(server: LiveServer, path: str, content_type: str, framed: bytes) -> tuple[int, Any]:
    status, _, payload = exchange(
        server, path, {"Content-Type": content_type, "Transfer-Encoding": "chunked"}, framed
    )[0]
    return status, json.loads(payload)


def length_post(server: LiveServer, path: str, content_type: str, body: bytes) -> tuple[int, Any]:
    status, _, payload = server.request("POST", path, body, {"Content-Type": content_type})
    return status, json.loads(payload)


def without_timing(answer: tuple[int, Any]) -> tuple[int, Any]:
    status, body = answer
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "processing_time_ms"}
    return status, body


IMAGE = encode(gradient(300, 200), "JPEG", quality=90)


@pytest.mark.parametrize(
    "sizes, trailer, extension",
    [(None, b"", b""), ([1000], b"", b""), ([1, 7, 4096, 13], b"", b""),
     ([65536], b"X-Checksum: abc\r\n", b""), ([3000], b"", b";name=value")],
    ids=["one-chunk", "1000-byte-chunks", "odd-chunks", "trailer", "extensions"],
)  # fmt: skip
def test_chunked_upload_is_answered_as_with_a_length(
    service: LiveServer, sizes: list[int] | None, trailer: bytes, extension: bytes
) -> None:
    body, headers = multipart([("image", IMAGE, "image/jpeg")])
    got = chunked_post(service, UPLOAD, headers["Content-Type"],
                       chunked(body, sizes, trailer, extension))  # fmt: skip
    assert got[0] == 200, got
    assert without_timing(got) == without_timing(length_post(service, UPLOAD, headers["Content-Type"], body))
    expected = image_insights.analyze(IMAGE, "brightness,median,histogram", "all")
    assert {k: got[1][k] for k in expected} == expected


@pytest.mark.parametrize(
    "parts",
    [
        [("image", b"GIF89a", "image/gif")],  # 415
        [("image", b"", "image/png")],  # empty
        [("image", b"not an image", "image/png")],  # corrupt
        [("file", IMAGE, "image/jpeg")],  # no image part
    ],
    ids=["415", "empty", "corrupt", "missing"],
)
def test_chunked_upload_refusals_match(service: LiveServer, parts: list[tuple[str, bytes, str]]) -> None:
    body, headers = multipart(parts)
    got = chunked_post(service, UPLOAD, headers["Content-Type"], chunked(body, [500]))
    assert got == length_post(service, UPLOAD, headers["Content-Type"], body)
    assert got[0] in (400, 415, 422)


def test_chunked_upload_over_the_limit_is_refused_while_streaming(service: LiveServer) -> None:
    """20 MB of chunks: refused once the body passes the bound, with the bytes read so far
    (the contract's "a service that stops reading early reports what it knows")."""
    image = b"\xff\xd8\xff" + random.Random(1).randbytes(20 * 1024 * 1024)
    body, headers = multipart([("image", image, "image/jpeg")])
    status, payload = chunked_post(service, UPLOAD, headers["Content-Type"], chunked(body, [65536]))
    assert status == 413
    detail = payload["detail"]
    assert detail["error"] == "Image exceeds maximum allowed size (5MB)"
    assert detail["max_size_bytes"] == LIMIT
    assert LIMIT < detail["received_size_bytes"] <= LIMIT + ALLOWANCE + 1


@pytest.mark.parametrize("extra", [1, 1000])
def test_chunked_part_just_over_the_limit_reports_its_size(service: LiveServer, extra: int) -> None:
    image = b"\xff\xd8\xff" + b"\x00" * (LIMIT - 3 + extra)
    body, headers = multipart([("image", image, "image/jpeg")])
    got = chunked_post(service, UPLOAD, headers["Content-Type"], chunked(body, [65536]))
    assert got == length_post(service, UPLOAD, headers["Content-Type"], body)
    assert got[0] == 413 and got[1]["detail"]["received_size_bytes"] == LIMIT + extra


def test_chunked_upload_exactly_at_the_limit_is_analysed(service: LiveServer) -> None:
    image = encode(gradient(64, 48), "PNG")
    image += b"\x00" * (LIMIT - len(image))  # trailing bytes after IEND: still the same PNG
    body, headers = multipart([("image", image, "image/png")])
    status, payload = chunked_post(service, UPLOAD, headers["Content-Type"], chunked(body, [100_000]))
    assert status == 200, payload
    assert (payload["width"], payload["height"]) == (64, 48)


@pytest.mark.parametrize(
    "document",
    [
        {"url": "ftp://example.com/a.png"},
        {"url": ""},
        {"url": "http://example.com/a.png", "metrics": "nope"},
        {"url": 5},
        {},
        {"url": "{base}/image.png", "metrics": "brightness,median"},
        {"url": "{base}/text"},
    ],
)
def test_chunked_json_body_is_read(
    service: LiveServer, origin_server: Origin, document: dict[str, Any]
) -> None:
    text = json.dumps(document).replace("{base}", origin_server.base).encode()
    got = chunked_post(service, BY_URL, "application/json", chunked(text, [7]))
    assert without_timing(got) == without_timing(length_post(service, BY_URL, "application/json", text))
    # Never the empty body's answer.
    assert got[1] != {"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required"}]}


def test_chunked_json_body_over_its_limit(service: LiveServer) -> None:
    text = json.dumps({"url": "http://example.com/" + "a" * 100_000}).encode()
    got = chunked_post(service, BY_URL, "application/json", chunked(text, [4096]))
    assert got == (422, {"detail": [{"type": "json_invalid", "loc": ["body", 0],
                                     "msg": "JSON body is too large"}]})  # fmt: skip


@pytest.mark.parametrize(
    "path, content_type, framed, expected",
    [
        (UPLOAD, "multipart/form-data; boundary=b", b"zz\r\n--b\r\n", 422),
        (UPLOAD, "multipart/form-data; boundary=b", b"5\r\n--b\r\nX0\r\n\r\n", 422),
        (BY_URL, "application/json", b"3\r\n{\"u\r\nnot hex\r\n", 422),
    ],
    ids=["bad-size", "missing-terminator", "json-bad-size"],
)
def test_malformed_chunked_framing_is_a_client_error(
    service: LiveServer, path: str, content_type: str, framed: bytes, expected: int
) -> None:
    status, payload = chunked_post(service, path, content_type, framed)
    assert status == expected
    assert "detail" in payload
    assert service.request("GET", "/health")[0] == 200


def test_keep_alive_after_a_chunked_upload(service: LiveServer) -> None:
    body, headers = multipart([("image", IMAGE, "image/jpeg")])
    answers = exchange(
        service, UPLOAD, {"Content-Type": headers["Content-Type"], "Transfer-Encoding": "chunked"},
        chunked(body, [999]), then=b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n",
    )  # fmt: skip
    assert [status for status, _, _ in answers] == [200, 200]
    assert json.loads(answers[1][2])["status"] == "healthy"
