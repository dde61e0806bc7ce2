"""A local origin server for the URL endpoint's tests: loopback only, one route per case."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


#: How long a hostile route keeps dribbling at most (it stops sooner when the client goes).
DRIBBLE_SECONDS = 30.0


class Origin:
    """Routes: /image.png, /image.jpg, /redirect?to=URL, /loop, /slow, /big-declared,
    /big-streamed, /text, /missing, /empty, /image.png;upper (content type in capitals);
    /named/<anything> (the PNG; `targets` keeps every request target as it arrived, still
    percent-encoded); /redirect-utf8 and /redirect-latin1 (a Location with a non-ASCII path,
    sent as UTF-8 or as a lone Latin-1 byte); and the hostile /dribble/<how> routes, which
    hold a client past any deadline: see `_dribble`."""

    def __init__(self, png: bytes, jpeg: bytes) -> None:
        self.png = png
        self.jpeg = jpeg
        self.hits: dict[str, int] = {}
        self.host_headers: list[str] = []
        self.targets: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, content_type: str | None = None,
                      length: int | None = None, **headers: str) -> None:
                self.send_response(status)
                if content_type is not None:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(body)

            def _drip(self, data: bytes, interval: float) -> bool:
                """Sends `data` a byte at a time; False once the client has gone."""
                for byte in data:
                    if time.monotonic() > self._dribble_until:
                        return False
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:
                        return False
                    time.sleep(interval)
                return True

            def _send_raw(self, data: bytes) -> bool:
                try:
                    self.wfile.write(data)
                    self.wfile.flush()
                except OSError:
                    return False
                return True

            def _dribble(self, how: str) -> None:
                """Never-ending answers, each slow or endless in one part of HTTP/1.1: the
                status line, the headers, `100 Continue` interim responses (slow or fast),
                a chunk-size line, the trailers (slow or fast); or silence."""
                self.close_connection = True
                self._dribble_until = time.monotonic() + DRIBBLE_SECONDS
                chunked = (b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n")  # fmt: skip
                body = b"%x\r\n" % len(origin.png) + origin.png + b"\r\n"
                if how == "status":
                    self._drip(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n", 0.25)
                elif how == "headers":
                    if self._send_raw(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n"):
                        self._drip(b"X-Pad: " + b"a" * 10_000, 0.25)
                elif how == "continue":
                    while self._send_raw(b"HTTP/1.1 100 Continue\r\n\r\n"):
                        if time.monotonic() > self._dribble_until:
                            break
                        time.sleep(0.1)
                elif how == "continue-fast":
                    while time.monotonic() < self._dribble_until:
                        if not self._send_raw(b"HTTP/1.1 100 Continue\r\n\r\n" * 100):
                            break
                elif how == "chunk-size":
                    if self._send_raw(chunked):
                        self._drip(b"1;ext=" + b"a" * 10_000, 0.25)
                elif how == "trailer":
                    if self._send_raw(chunked + body + b"0\r\n"):
                        self._drip(b"X-Trailer: " + b"b" * 10_000, 0.25)
                elif how == "trailers-fast":
                    if self._send_raw(chunked + body + b"0\r\n"):
                        while time.monotonic() < self._dribble_until:
                            if not self._send_raw(b"X-Trailer: b\r\n" * 1000):
                                break
                elif how == "silent":
                    time.sleep(min(DRIBBLE_SECONDS, 5.0))

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                origin.hits[path] = origin.hits.get(path, 0) + 1
                origin.host_headers.append(self.headers.get("Host", ""))
                origin.targets.append(self.path)
                if path.startswith("/dribble/"):
                    self._dribble(path.removeprefix("/dribble/"))
                elif path.startswith("/named/"):
                    self._send(200, origin.png, "image/png")
                elif path in ("/redirect-utf8", "/redirect-latin1"):
                    name = "café".encode("utf-8" if path.endswith("utf8") else "latin-1")
                    self._send_raw(b"HTTP/1.1 302 Found\r\nLocation: /named/" + name
                                   + b".png?q=\xc3\xbc\r\nContent-Length: 0\r\n\r\n")  # fmt: skip
                elif path == "/image.png":
                    self._send(200, origin.png, "image/png")
                elif path == "/image.jpg":
                    self._send(200, origin.jpeg, "image/jpeg; charset=binary")
                elif path == "/upper.png":
                    self._send(200, origin.png, "IMAGE/PNG")
                elif path == "/redirect":
                    self._send(302, b"", None, Location=query.removeprefix("to="))
                elif path == "/loop":
                    self._send(302, b"", None, Location="/loop")
                elif path == "/slow":
                    # Headers now, then the body far slower than the 2 s deadline.
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(origin.png)))
                    self.end_headers()
                    try:
                        for byte in origin.png[:40]:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(0.25)
                    except OSError:
                        self.close_connection = True
                elif path == "/big-declared":
                    self._send(200, b"", "image/png", length=6 * 1024 * 1024)
                elif path == "/big-streamed":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    chunk = b"\xff" * 65536
                    try:
                        for _ in range(100):
                            self.wfile.write(chunk)
                    except OSError:
                        pass
                    self.close_connection = True
                elif path == "/text":
                    self._send(200, b"<html></html>", "text/html; charset=utf-8")
                elif path == "/empty":
                    self._send(200, b"", "image/png")
                else:
                    self._send(404, b"not found", "text/plain")

        return Handler


@contextmanager
def running_origin(png: bytes, jpeg: bytes) -> Iterator[Origin]:
    origin = Origin(png, jpeg)
    origin.start()
    try:
        yield origin
    finally:
        origin.stop()
