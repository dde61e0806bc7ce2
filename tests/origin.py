"""A local origin server for the URL endpoint's tests: loopback only, one route per case."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Origin:
    """Routes: /image.png, /image.jpg, /redirect?to=URL, /loop, /slow, /big-declared,
    /big-streamed, /text, /missing, /empty, /image.png;upper (content type in capitals)."""

    def __init__(self, png: bytes, jpeg: bytes) -> None:
        self.png = png
        self.jpeg = jpeg
        self.hits: dict[str, int] = {}
        self.host_headers: list[str] = []
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

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                origin.hits[path] = origin.hits.get(path, 0) + 1
                origin.host_headers.append(self.headers.get("Host", ""))
                if path == "/image.png":
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
