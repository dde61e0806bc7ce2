"""A gunicorn gthread worker whose threads only ever serve requests that have arrived.

gunicorn's ThreadWorker hands a connection to a thread as soon as its first bytes arrive,
and the thread then reads the request head and body with blocking reads: each client that
dribbles its request holds a thread for as long as it likes, and a few hundred of them hold
all of them (/health unanswered). Here the worker's event loop reads every request itself,
without blocking, into a buffer per connection, and hands it to a thread only once all of
it is there (its head, and its body by Content-Length or chunked framing), within one
deadline per request (`request_read_timeout_seconds` from its first byte; then 408 and the
connection closes). A connection that sends nothing closes after the keep-alive timeout,
as gunicorn closes idle ones.

Bodies are buffered while the worker's whole buffer (`request_buffer_bytes`) has room.
A body larger than the largest the app reads, or one that no longer fits, goes to a thread
with what has arrived, and the thread reads the rest under the same deadline (a socket
wrapper gives every read what is left of it); a body the app only refuses (declared too
large) gets a second at most. gunicorn's parser still parses every request, from the
buffered bytes (handed over without a copy, and read out in the pieces the parser asks for,
through an unreader whose reads cost what they return: gunicorn's own copies everything it
holds on each read); keep-alive, pipelining, max_requests and graceful shutdown are gunicorn's,
except that a stopping worker answers the connections already queued for it.
Closing a connection lingers in the event loop rather than blocking it.

Selected in gunicorn.conf.py. TLS and HTTP/2 are terminated in front of the service; with
either configured here, this worker behaves exactly as gunicorn's ThreadWorker.
"""

from __future__ import annotations

import errno
import io
import math
import select
import selectors
import socket
import time
from collections import deque
from concurrent.futures import Future
from functools import partial
from typing import Any

from gunicorn import http as gunicorn_http  # type: ignore[import-untyped]
from gunicorn.http.unreader import SocketUnreader  # type: ignore[import-untyped]
from gunicorn.workers.gthread import (  # type: ignore[import-untyped]
    STOP_KEEPALIVE_LINGER,
    TConn,
    ThreadWorker,
)

# Only the settings: gunicorn imports this module in the master, before gunicorn.conf.py has
# prepared the metrics folder that prometheus_client must see when it is first imported.
from ..config import MULTIPART_ALLOWANCE, Settings
from .request_scan import ChunkedScan, Head, parse_head

#: Largest single read from a client in the event loop.
_RECV_BYTES = 256 * 1024
#: How long a thread may read a body the app only refuses (declared over the largest it
#: reads): enough to drain what is in flight, never a slow client's whole deadline.
_REFUSED_BODY_READ_SECONDS = 1.0
#: A closing connection's lingering (RFC 9112 section 9.6): its unread input is drained for
#: this long, or this much, so that the kernel does not reset the answer just sent.
_LINGER_SECONDS = 2.0
_LINGER_BYTES = 64 * 1024
#: Chunked framing (size lines, CRLFs) buffered beyond the largest body the app reads: the
#: app reads a chunked body up to that many decoded bytes, and should find them buffered.
_CHUNKED_FRAMING_SLACK = 64 * 1024
#: How often the expiry of connections still reading is checked.
_EXPIRY_PERIOD = 0.25
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_TIMEOUT_BODY = b'{"detail":"Request Timeout"}'
_TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(_TIMEOUT_BODY) + _TIMEOUT_BODY
)


class _DeadlineSource:
    """What gunicorn's parser reads a connection through: first the bytes the event loop
    received (handed over whole, without a copy, and read out in the pieces the parser
    asks for), then the socket, every read of which ends by the connection's read deadline
    (a body that was not buffered)."""

    def __init__(self, conn: _Conn) -> None:
        self._conn = conn
        self._received = bytearray()
        self._at = 0

    def hold(self, received: bytearray) -> None:
        """Bytes received in the event loop: the parser reads them before the socket's."""
        if self._at < len(self._received):
            received = self._received[self._at :] + received
        self._received, self._at = received, 0

    def peek_held(self) -> bytes:
        return bytes(self._received[self._at :])

    def take_held(self) -> bytes:
        """What the parser has not read of the held bytes (a pipelined request's start)."""
        rest = self.peek_held()
        self._received, self._at = bytearray(), 0
        return rest

    def recv(self, size: int) -> bytes:
        if self._at < len(self._received):
            piece = bytes(self._received[self._at : self._at + size])
            self._at += len(piece)
            if self._at == len(self._received):
                self._received, self._at = bytearray(), 0
            return piece
        conn = self._conn
        remaining = conn.read_until - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("request read deadline")
        conn.sock.settimeout(remaining)
        try:
            return bytes(conn.sock.recv(size))
        finally:
            conn.sock.settimeout(conn.write_timeout)


class _HeldUnreader(SocketUnreader):  # type: ignore[misc]
    """gunicorn's SocketUnreader with a buffer that costs what is read, not what is held.

    gunicorn's Unreader keeps its bytes in a BytesIO that it copies whole on every read and
    unread. Its own socket reads hold little at a time, but here the event loop hands over
    the whole request at once: the head parse and each of the app's 64 KiB body reads then
    copied all of the body still held (about 30 ms of copying for a 3.3 MB upload; it reads
    up to 1 MiB from the source for each 64 KiB the app reads). The same contract as gunicorn's `Unreader.read`/`unread`/`take_buffered`, over a bytearray
    read from an offset."""

    def __init__(self, source: Any) -> None:
        super().__init__(source)
        self._held = bytearray()
        self._at = 0  # where the unread bytes of `_held` start

    @property
    def buf(self) -> io.BytesIO:
        """The bytes not yet parsed, for gunicorn's own code that peeks at `buf` (gthread's
        check for a pipelined request after a keep-alive answer)."""
        return io.BytesIO(bytes(self._held[self._at :]) + self.sock.peek_held())

    @buf.setter
    def buf(self, value: io.BytesIO) -> None:
        """gunicorn's constructor sets an empty `buf`; the bytes live in `_held`."""

    def _size(self) -> int:
        return len(self._held) - self._at

    def _take(self, size: int | None = None) -> bytes:
        end = len(self._held) if size is None else self._at + size
        taken = bytes(self._held[self._at : end])
        self._at = end
        if self._at == len(self._held):
            self._held.clear()
            self._at = 0
        elif self._at > len(self._held) // 2:
            del self._held[: self._at]  # keep the dead prefix under half of the buffer
            self._at = 0
        return taken

    def take_buffered(self) -> bytes:
        return self._take()

    def read(self, size: int | None = None, read_ahead: int | None = None) -> bytes:
        if size is not None and not isinstance(size, int):
            raise TypeError("size parameter must be an int or long.")
        if size == 0:
            return b""
        if size is not None and size < 0:
            size = None
        if size is None:
            # What is held, or else one read from the source as large as the caller may
            # consume.
            return self._take() if self._size() else bytes(self.chunk(read_ahead))
        while self._size() < size:
            chunk = self.chunk(max(size, read_ahead or 0) - self._size())
            if not chunk:
                return self._take()
            self._held += chunk
        return self._take(size)

    def unread(self, data: bytes) -> None:
        if data:
            self._held[: self._at] = data  # replaces the consumed prefix: data, then the rest
            self._at = 0


class _Conn(TConn):  # type: ignore[misc]
    """A client connection and the request it is receiving."""

    def __init__(self, cfg: Any, sock: socket.socket, client: Any, server: Any,
                 write_timeout: float) -> None:  # fmt: skip
        super().__init__(cfg, sock, client, server)
        self.write_timeout = write_timeout
        self.data_ready = True  # never wait in a thread: requests arrive in the event loop
        self.received = bytearray()  # the request's bytes so far (and any pipelined after)
        self.source = _DeadlineSource(self)
        self.head: Head | None = None
        self.chunks: ChunkedScan | None = None
        self.idle_until = math.inf  # closes silently then if no byte has arrived
        self.deadline = math.inf  # the request's read deadline, from its first byte
        self.read_until = math.inf  # what a thread's reads of this request may last
        self.continue_sent = False
        self.reading = False
        self.generation = 0  # which request of the connection is being read

    def start_request(self, now: float, idle_seconds: float, timeout: float) -> None:
        self.head = None
        self.chunks = None
        self.continue_sent = False
        # The deadline runs from the request's first byte (pipelined ones have theirs).
        self.deadline = now + timeout if self.received else math.inf
        self.idle_until = now + idle_seconds
        self.reading = True
        self.generation += 1

    def init(self) -> None:
        """In the thread, before gunicorn's parser reads: the parser reads through the
        deadline, starting with the bytes already received."""
        parser: Any = getattr(self, "parser")  # set by TConn, which has no annotations
        if parser is None:
            self.initialized = True
            parser = self.parser = gunicorn_http.get_parser(self.cfg, self.source, self.client)
            parser.unreader = _HeldUnreader(self.source)
        self.sock.settimeout(self.write_timeout)
        if self.received:
            self.source.hold(self.received)
            self.received = bytearray()

    def take_unparsed(self) -> bytearray:
        """After a request, the bytes received beyond it: the start of the next one."""
        parser: Any = getattr(self, "parser")
        return bytearray(parser.unreader.take_buffered() + self.source.take_held())


class DeadlineThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker, with requests read in the event loop (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = Settings.from_env()
        self.request_timeout = settings.request_read_timeout_seconds
        self.buffer_budget = settings.request_buffer_bytes
        self.largest_read_body = settings.max_upload_bytes + MULTIPART_ALLOWANCE
        self.buffered = 0
        #: (generation, connection) of every request being read, oldest first; an entry
        #: whose connection has moved on to another generation is stale.
        self.reading_conns: deque[tuple[int, _Conn]] = deque()
        self.lingering: dict[socket.socket, float] = {}
        self._next_expiry_check = 0.0
        self._stopping_since: float | None = None
        self.pre_read = not self.cfg.is_ssl and "h2" not in self.cfg.http_protocols

    # --- connections arrive -----------------------------------------------------------

    def accept(self, listener: socket.socket) -> None:
        if not self.pre_read:
            super().accept(listener)
            return
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = _Conn(self.cfg, client_sock, client_addr, listener.getsockname(),
                     self.request_timeout)  # fmt: skip
        self._read_next_request(conn)

    def set_accept_enabled(self, enabled: bool) -> None:
        """Stopping, the worker first takes the connections the kernel has already completed
        for it (the listen backlog): those clients have made their requests, and would be
        reset when the last process closes the listening socket, up to the graceful timeout
        later. It then closes its listeners, so that a connection made after that is refused
        at once rather than queued to be reset."""
        stopping = not enabled and self._accepting and not self.alive
        super().set_accept_enabled(enabled)
        if not stopping:
            return
        for listener in self.sockets:
            waiting = select.poll()
            waiting.register(listener.fileno(), select.POLLIN)
            while self.nr_conns < self.worker_connections and waiting.poll(0):
                self.accept(listener)
            listener.close()

    def on_client_socket_readable(self, conn: Any, client: socket.socket) -> None:
        if not self.pre_read:
            super().on_client_socket_readable(conn, client)
            return
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read_next_request(conn)

    def _read_next_request(self, conn: _Conn) -> None:
        idle = self.cfg.keepalive or self.request_timeout
        if not self.alive:
            idle = min(idle, STOP_KEEPALIVE_LINGER)
        conn.start_request(time.monotonic(), idle, self.request_timeout)
        conn.sock.setblocking(False)
        self.reading_conns.append((conn.generation, conn))
        if conn.received and self._check_complete(conn):
            return  # pipelined: it was all there already
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    # --- reading ---------------------------------------------------------------------------

    def _on_readable(self, conn: _Conn, sock: socket.socket) -> None:
        try:
            data = conn.sock.recv(_RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        if not conn.received and conn.head is None:
            conn.deadline = time.monotonic() + self.request_timeout
        conn.received += data
        self.buffered += len(data)
        if self._check_complete(conn):
            self.poller.unregister(conn.sock)

    def _check_complete(self, conn: _Conn) -> bool:
        """Hands the request to a thread when all of it has arrived, or when the rest is for
        a thread to read; True when it did."""
        received = conn.received
        if conn.head is None:
            end = received.find(b"\r\n\r\n")
            if end < 0:
                if len(received) <= self._max_head_bytes():
                    return False
                return self._hand_over(conn)  # gunicorn refuses an oversize head
            conn.head = parse_head(received, end + 4)
            head = conn.head
            if head.unusual:
                return self._hand_over(conn)
            if head.content_length is not None and head.content_length > self.largest_read_body:
                # Refused by the app from its Content-Length: no thread waits for it long.
                conn.read_until = min(conn.deadline, time.monotonic() + _REFUSED_BODY_READ_SECONDS)
                return self._hand_over(conn, read_until_set=True)
            if head.chunked:
                conn.chunks = ChunkedScan(head.length)
            if head.expects_continue and (head.chunked or head.content_length):
                conn.continue_sent = self._send_now(conn.sock, _CONTINUE)
        head = conn.head
        if head.chunked:
            assert conn.chunks is not None
            try:
                body_end = conn.chunks.scan(received)
            except ValueError:
                return self._hand_over(conn)  # gunicorn's parser refuses the framing
            if body_end is not None:
                return self._hand_over(conn)
            over = len(received) - head.length > self.largest_read_body + _CHUNKED_FRAMING_SLACK
        else:
            if len(received) >= head.length + (head.content_length or 0):
                return self._hand_over(conn)
            over = False
        if over or self.buffered > self.buffer_budget:
            # The app reads no more of it than it has (chunked), or the worker's buffer is
            # full: a thread reads the rest, under the deadline.
            return self._hand_over(conn)
        return False

    def _max_head_bytes(self) -> int:
        """The longest head gunicorn's limits allow: a request line and every field."""
        cfg = self.cfg
        line, fields = cfg.limit_request_line, cfg.limit_request_fields
        return int(line + 2 + fields * (cfg.limit_request_field_size + 2) + 2)

    def _hand_over(self, conn: _Conn, read_until_set: bool = False) -> bool:
        if not read_until_set:
            conn.read_until = conn.deadline
        conn.reading = False
        self.buffered -= len(conn.received)
        self.enqueue_req(conn)
        return True

    # --- threads ---------------------------------------------------------------------------

    def handle_request(self, req: Any, conn: Any) -> Any:
        if getattr(conn, "continue_sent", False):
            # The event loop answered the expectation before reading the body; gunicorn
            # would send a second 100 Continue.
            req._expected_100_continue = False
        return super().handle_request(req, conn)

    def finish_request(self, conn: Any, fs: Future[Any]) -> None:
        if not self.pre_read:
            super().finish_request(conn, fs)
            return
        try:
            keep_alive = fs.result() if not fs.cancelled() else False
        except Exception:
            keep_alive = False
        if keep_alive and self.alive and conn.parser is not None:
            # What the parser read beyond the request is the start of the next one.
            conn.received = conn.take_unparsed()
            if conn.received:
                self.buffered += len(conn.received)
                self._read_next_request(conn)
                return
            conn.sock.setblocking(False)
            conn.set_timeout()
            self.keepalived_conns.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ,
                                 partial(self.on_client_socket_readable, conn))  # fmt: skip
            return
        if keep_alive and conn.parser is not None:
            super().finish_request(conn, fs)  # stopping: gunicorn's own lingering keep-alive
            return
        self.nr_conns -= 1
        self._linger(conn.sock)

    # --- ending connections ----------------------------------------------------------------

    def _drop(self, conn: _Conn, answer: bytes = b"") -> None:
        """Ends a connection that is reading, answering `answer` first when given."""
        if conn.reading:
            conn.reading = False
            self.buffered -= len(conn.received)
            conn.received = bytearray()
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass
        self.nr_conns -= 1
        if answer:
            self._send_now(conn.sock, answer)
            self._linger(conn.sock)
        else:
            conn.close()

    @staticmethod
    def _send_now(sock: socket.socket, data: bytes) -> bool:
        """Sends what the socket takes without blocking; True when it took it all."""
        try:
            return bool(sock.send(data) == len(data))
        except OSError:
            return False

    def _linger(self, sock: socket.socket) -> None:
        """Closes a connection without blocking the loop: the write side at once, the read
        side once the client has closed its own, sent too much, or taken too long."""
        try:
            sock.setblocking(False)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            sock.close()
            return
        self.lingering[sock] = time.monotonic() + _LINGER_SECONDS
        self.poller.register(sock, selectors.EVENT_READ, partial(self._on_lingering, [0]))

    def _on_lingering(self, drained: list[int], sock: socket.socket) -> None:
        try:
            data = sock.recv(_LINGER_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        drained[0] += len(data)
        if not data or drained[0] >= _LINGER_BYTES:
            self._close_lingering(sock)

    def _close_lingering(self, sock: socket.socket) -> None:
        self.lingering.pop(sock, None)
        try:
            self.poller.unregister(sock)
        except (KeyError, ValueError, OSError):
            pass
        sock.close()

    def murder_pending(self) -> None:
        """gunicorn's own expiry, then that of connections still reading a request or
        lingering: checked a few times a second, not after every event."""
        super().murder_pending()
        now = time.monotonic()
        if not self.alive and self._stopping_since is None:
            # Stopping: a connection that has sent nothing yet gets what gunicorn gives a
            # kept-alive one, a short linger for a request already on its way.
            self._stopping_since = now
            for _, conn in self.reading_conns:
                conn.idle_until = min(conn.idle_until, now + STOP_KEEPALIVE_LINGER)
        if now < self._next_expiry_check:
            return
        self._next_expiry_check = now + _EXPIRY_PERIOD
        still_reading: deque[tuple[int, _Conn]] = deque()
        for generation, conn in self.reading_conns:
            if not conn.reading or conn.generation != generation:
                continue
            if now >= conn.deadline:
                self._drop(conn, _TIMEOUT_ANSWER)
            elif not conn.received and now >= conn.idle_until:
                self._drop(conn)
            else:
                still_reading.append((generation, conn))
        self.reading_conns = still_reading
        for sock, until in list(self.lingering.items()):
            if now >= until:
                self._close_lingering(sock)
