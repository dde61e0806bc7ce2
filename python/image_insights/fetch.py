"""Downloading an image from a URL without letting the URL reach inside the network.

Each hop (the URL and every redirect) is vetted the same way: the host is resolved here,
every address it resolves to must be public, and the connection then goes to that vetted
address (the Host header and TLS SNI keep the name), so a second DNS answer cannot switch it.
Numeric hosts in any spelling other than a plain dotted quad are refused outright.

URLs are encoded as browsers encode them before anything else (an internationalised host
in its IDNA form, non-ASCII and unsafe characters of the path and query percent-encoded),
so vetting, resolution and the request all see the same ASCII host.

One deadline covers the whole download, from the name lookup and the connection to the
last byte of the body: every read and write of the HTTP exchange gets what is left of it,
so an origin that sends its status line, headers, interim responses, chunk sizes or
trailers a byte at a time is cut off when it passes. The body is streamed with the size
cap. A worker runs a bounded number of downloads and of name lookups at once, and answers
at once when they are all taken, so slow origins and hanging lookups cannot hold every
thread or keep an instant lookup waiting.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import re
import socket
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes, urljoin, urlsplit

import idna

from .config import Resolver, Settings
from .errors import (
    DownloadBusy,
    DownloadEmpty,
    DownloadFailed,
    DownloadStatus,
    DownloadTimeout,
    DownloadTooLarge,
    DownloadUnsupportedType,
    EmptyUrl,
    UnsupportedUrlScheme,
    UrlNotAllowed,
)
from .options import is_accepted_type

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_DOTTED_QUAD = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
# Not globally reachable, listed here as well as in `ipaddress` (whose tables differ between
# Python releases): this-network, CGNAT, IETF protocol assignments, benchmarking, reserved,
# the deprecated 6to4 relay anycast; in IPv6 the deprecated IPv4-compatible ::/96 (::7f00:1
# is 127.0.0.1) and site-local fec0::/10, both of which `ipaddress` calls global.
_NEVER_PUBLIC = tuple(
    ipaddress.ip_network(net)
    for net in ("0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4",
                "192.88.99.0/24", "::/96", "fec0::/10")
)  # fmt: skip
_USER_AGENT = "image-insights-fetch/1.0"
#: What the WHATWG URL standard percent-encodes in the path and in the query of an http(s)
#: URL, besides C0 controls, space and every non-ASCII character: all other printable ASCII
#: (reserved characters and '%' included) is kept as it is.
_PATH_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"#<>?`{}')
_QUERY_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "\"#<>'")
#: The WHATWG URL standard's forbidden host code points (after percent-decoding), besides
#: controls; ':' is left to IPv6 literals.
_FORBIDDEN_IN_HOST = frozenset(" #%/<>?@[\\]^|")


class _Timeout(Exception):
    """The overall download deadline passed."""


class _Busy(Exception):
    """Every download or name lookup slot of this worker is taken."""


@dataclass(frozen=True)
class Target:
    """One vetted hop: where to connect, and what to call it."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def redact(url: str) -> str:
    """scheme://host[:port] of a URL: all that is ever logged or echoed of it (the host in
    its IDNA form when it has one)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid url>"
    try:
        host = ascii_host(host)
    except ValueError:
        pass
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def ascii_host(host: str) -> str:
    """The host as a browser puts it on the wire: percent-escapes decoded (as UTF-8), then a
    name with non-ASCII characters in its IDNA form (UTS #46 mapping, non-transitional:
    fullwidth letters and digits become ASCII, 'ß' stays 'ß'), lower case. IPv6 literals
    (which urlsplit gives without their brackets) are left as they are. Raises ValueError
    for a name that IDNA refuses or that holds a character no host may hold."""
    if ":" in host:
        return host
    if "%" in host:
        try:
            host = unquote_to_bytes(host).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("percent-escapes that are not UTF-8") from None
    if host.isascii():
        name = host.lower()
    else:
        try:
            name = idna.encode(host.rstrip("."), uts46=True).decode("ascii")
        except UnicodeError as exc:  # idna.IDNAError is a UnicodeError
            raise ValueError(str(exc)) from None
    if any(c in _FORBIDDEN_IN_HOST or not c.isprintable() for c in name):
        raise ValueError("a character no host may hold")
    return name


def encoded_target(path: str, query: str) -> str:
    """Path and query percent-encoded as the WHATWG URL standard does for http(s): non-ASCII
    characters as their UTF-8 bytes (bytes that are not UTF-8, kept as surrogate escapes
    from a redirect's Location, as themselves), existing escapes left alone."""
    target = quote(path or "/", safe=_PATH_SAFE, errors="surrogateescape")
    if query:
        target += "?" + quote(query, safe=_QUERY_SAFE, errors="surrogateescape")
    return target


def location_text(value: str) -> str:
    """A Location header as the text its sender meant: http.client decodes header bytes as
    Latin-1, browsers read a Location as UTF-8 (bytes that are not, kept as they were)."""
    try:
        return value.encode("latin-1").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value


def has_http_scheme(url: str) -> bool:
    return url.strip().lower().startswith(("http://", "https://"))


def check_url(url: str) -> None:
    """The checks a URL passes before anything else is done with it.

    Raises:
        EmptyUrl: blank. UnsupportedUrlScheme: not http:// or https://.
    """
    if not url.strip():
        raise EmptyUrl()
    if not has_http_scheme(url):
        raise UnsupportedUrlScheme()


def is_public_address(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses, looking inside IPv4-mapped,
    NAT64, 6to4 and Teredo forms."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded: list[IPAddress] = []
        if address.ipv4_mapped is not None:
            embedded.append(address.ipv4_mapped)
        if address in _NAT64 or address in _NAT64_LOCAL:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
            if address in _NAT64_LOCAL:
                return False
        if address.sixtofour is not None:
            embedded.append(address.sixtofour)
        if address.teredo is not None:
            embedded.extend(address.teredo)
        if embedded:
            return all(is_public_address(inner) for inner in embedded)
    if any(address in network for network in _NEVER_PUBLIC):
        return False
    return address.is_global and not address.is_multicast


def is_odd_numeric_host(host: str) -> bool:
    """A host made only of numbers that is not a plain dotted quad: decimal (2130706433),
    octal (0177.0.0.1), hex (0x7f.1) or short (127.1) IPv4 spellings."""
    labels = host.split(".")
    numeric = 1 <= len(labels) <= 4 and all(_NUMERIC_LABEL.match(label) for label in labels)
    return numeric and not _DOTTED_QUAD.match(host)


class Fetcher:
    """Downloads one image per call; every failure is a DownloadError (errors.py)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._downloads = threading.BoundedSemaphore(settings.max_concurrent_downloads)
        self._lookups = _Lookups(settings.resolver, settings.max_concurrent_lookups)

    def fetch(self, url: str) -> bytes:
        """The image at `url`, after `check_url` and the vetting of every hop.

        Raises:
            DownloadError: any of its subclasses (errors.py).
        """
        check_url(url)
        settings = self._settings
        redacted = redact(url)
        deadline = settings.clock() + settings.download_timeout_seconds
        if not self._downloads.acquire(blocking=False):
            raise DownloadBusy("too many downloads in progress", redacted)
        try:
            return self._follow(url.strip(), deadline, redacted)
        except _Timeout:
            raise DownloadTimeout(redacted) from None
        finally:
            self._downloads.release()

    def _follow(self, url: str, deadline: float, redacted: str) -> bytes:
        current = url
        for _hop in range(self._settings.max_redirects + 1):
            target = self._vet(current, deadline, redacted)
            location, data = self._get(target, deadline, redacted)
            if location is None:
                return data
            current = urljoin(current, location_text(location))
            if not has_http_scheme(current):
                raise UnsupportedUrlScheme()
        raise DownloadFailed(
            f"too many redirects (more than {self._settings.max_redirects})", redacted
        )

    def _remaining(self, deadline: float) -> float:
        remaining = deadline - self._settings.clock()
        if remaining <= 0:
            raise _Timeout()
        return remaining

    def _vet(self, url: str, deadline: float, redacted: str) -> Target:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise DownloadFailed("the URL is malformed", redacted) from None
        scheme = parts.scheme.lower()
        try:
            host = ascii_host((parts.hostname or "").rstrip(".")).rstrip(".")
        except ValueError:
            reason = "the URL's host is not a valid name"
            raise DownloadFailed(reason, redacted) from None
        if not host:
            raise DownloadFailed("the URL has no host", redacted)
        port = port or (443 if scheme == "https" else 80)
        path = encoded_target(parts.path, parts.query)
        allowlisted = self._allowlisted(host, port)

        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is None and is_odd_numeric_host(host):
            raise UrlNotAllowed()
        if literal is not None:
            addresses = [literal]
        else:
            addresses = self._resolve(host, port, deadline, redacted)
        if not allowlisted and not all(is_public_address(a) for a in addresses):
            raise UrlNotAllowed()
        return Target(scheme, host, port, path, str(addresses[0]))

    def _allowlisted(self, host: str, port: int) -> bool:
        allow = self._settings.url_fetch_allowlist
        name = f"[{host}]" if ":" in host else host
        return host in allow or name in allow or f"{name}:{port}" in allow

    def _resolve(self, host: str, port: int, deadline: float, redacted: str) -> list[IPAddress]:
        try:
            names = self._lookups.resolve(host, port, self._remaining(deadline))
        except FutureTimeout:
            raise _Timeout() from None
        except _Busy:
            raise DownloadBusy("too many name lookups in progress", redacted) from None
        except (OSError, UnicodeError):
            raise DownloadFailed("could not resolve the host", redacted) from None
        addresses = []
        for name in names:
            try:
                addresses.append(ipaddress.ip_address(name.split("%", 1)[0]))
            except ValueError:
                continue
        if not addresses:
            raise DownloadFailed("could not resolve the host", redacted)
        return addresses

    def _get(self, target: Target, deadline: float, redacted: str) -> tuple[str | None, bytes]:
        """Requests one hop. Returns (redirect location, b"") or (None, body)."""
        conn = self._connect(target, deadline, redacted)
        response: http.client.HTTPResponse | None = None
        try:
            try:
                accept = ", ".join(self._settings.accepted_types)
                conn.request(
                    "GET", target.path, headers={"User-Agent": _USER_AGENT, "Accept": accept}
                )
                response = conn.getresponse()
            except (TimeoutError, socket.timeout):
                raise _Timeout() from None
            except (OSError, http.client.HTTPException) as exc:
                raise DownloadFailed(_describe(exc), redacted) from None
            if response.status in _REDIRECTS and response.getheader("Location"):
                return response.getheader("Location"), b""
            if response.status != 200:
                raise DownloadStatus(response.status, redacted)
            self._check_headers(response, redacted)
            return None, self._read_body(response, deadline, redacted)
        finally:
            if response is not None:
                response.close()
            conn.close()

    def _connect(
        self, target: Target, deadline: float, redacted: str
    ) -> http.client.HTTPConnection:
        timeout = self._remaining(deadline)
        try:
            sock = socket.create_connection((target.address, target.port), timeout=timeout)
        except (TimeoutError, socket.timeout):
            raise _Timeout() from None
        except OSError as exc:
            raise DownloadFailed(_describe(exc), redacted) from None
        conn: http.client.HTTPConnection
        if target.scheme == "https":
            context = ssl.create_default_context()
            # The handshake as a whole is bounded by the socket's timeout, set to what is
            # left of the deadline.
            sock.settimeout(self._remaining(deadline))
            try:
                sock = context.wrap_socket(sock, server_hostname=target.host)
            except (TimeoutError, socket.timeout):
                sock.close()
                raise _Timeout() from None
            except OSError as exc:
                sock.close()
                raise DownloadFailed(_describe(exc), redacted) from None
            conn = http.client.HTTPSConnection(target.host, target.port, timeout=timeout)
        else:
            conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
        # The socket is already connected to the vetted address: http.client must not
        # resolve the name again. Every read and write on it ends by the deadline.
        conn.sock = _DeadlineSocket(sock, deadline, self._settings.clock)
        return conn

    def _check_headers(self, response: http.client.HTTPResponse, redacted: str) -> None:
        content_type = response.getheader("Content-Type") or ""
        types = self._settings.accepted_types
        if not is_accepted_type(content_type, types):
            raise DownloadUnsupportedType(content_type, redacted, types)
        length = response.getheader("Content-Length")
        limit = self._settings.max_upload_bytes
        if length is not None and length.strip().isdigit() and int(length) > limit:
            raise DownloadTooLarge(int(length), limit, redacted)

    def _read_body(
        self, response: http.client.HTTPResponse, deadline: float, redacted: str
    ) -> bytes:
        limit = self._settings.max_upload_bytes
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                chunk = response.read1(_CHUNK)
            except (TimeoutError, socket.timeout):
                raise _Timeout() from None
            except (OSError, http.client.HTTPException) as exc:
                raise DownloadFailed(_describe(exc), redacted) from None
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise DownloadTooLarge(size, limit, redacted)
            chunks.append(chunk)
            self._remaining(deadline)
        if size == 0:
            raise DownloadEmpty(redacted)
        return b"".join(chunks)


class _Lookups:
    """Name lookups for one worker, each in a thread of its own, at most `limit` at once.

    getaddrinfo cannot be interrupted: a lookup that hangs keeps its thread until the C
    library gives up. A shared pool would queue every later lookup behind the hanging
    ones; here an instant lookup is never kept waiting, a request waits for its own lookup
    no longer than its deadline, and when `limit` lookups are still running (all of them
    hanging, most likely) the next one is refused at once instead of starting one more
    thread."""

    def __init__(self, resolver: Resolver, limit: int) -> None:
        self._resolver = resolver
        self._slots = threading.BoundedSemaphore(limit)

    def resolve(self, host: str, port: int, timeout: float) -> list[str]:
        """The resolver's answer; raises FutureTimeout after `timeout` seconds, _Busy when
        every slot is taken, or what the resolver raised."""
        if not self._slots.acquire(blocking=False):
            raise _Busy()
        answer: Future[list[str]] = Future()

        def run() -> None:
            try:
                answer.set_result(self._resolver(host, port))
            except Exception as exc:
                answer.set_exception(exc)
            finally:
                self._slots.release()

        threading.Thread(target=run, name="resolve", daemon=True).start()
        return answer.result(timeout=timeout)


class _DeadlineReader(io.RawIOBase):
    """The read side of a _DeadlineSocket, for http.client's buffered reader."""

    def __init__(self, sock: _DeadlineSocket) -> None:
        super().__init__()
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._sock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._sock.reader_closed()


class _DeadlineSocket:
    """A connected socket whose reads and writes must all end by one deadline.

    http.client applies a socket's timeout to each read: an origin sending one byte of its
    status line, headers, chunk sizes or trailers at a time (or `100 Continue` after `100
    Continue`) would reset it with every byte. Here each read and write first sets the
    timeout to what is left of the deadline, and fails at once when nothing is left. It
    offers what http.client uses of a socket: sendall, makefile("rb") and close, which,
    as with a real socket's makefile, leaves the connection open while a reader made from
    it is (http.client closes its connection before it reads an EOF-delimited body)."""

    def __init__(self, sock: socket.socket, deadline: float, clock: Callable[[], float]) -> None:
        self._sock = sock
        self._deadline = deadline
        self._clock = clock
        self._readers = 0
        self._closed = False

    def _arm(self) -> None:
        remaining = self._deadline - self._clock()
        if remaining <= 0:
            raise TimeoutError("the download deadline passed")
        self._sock.settimeout(remaining)

    def recv_into(self, buffer: bytearray | memoryview, nbytes: int = 0) -> int:
        self._arm()
        return self._sock.recv_into(buffer, nbytes)

    def sendall(self, data: bytes) -> None:
        self._arm()
        self._sock.sendall(data)

    def makefile(self, mode: str = "rb", *args: object, **kwargs: object) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError("only reading is supported")
        self._readers += 1
        return io.BufferedReader(_DeadlineReader(self))

    def settimeout(self, timeout: float | None) -> None:
        """Ignored: the deadline sets every operation's timeout."""

    def reader_closed(self) -> None:
        self._readers -= 1
        if self._closed and not self._readers:
            self._sock.close()

    def close(self) -> None:
        self._closed = True
        if not self._readers:
            self._sock.close()


def _describe(exc: BaseException) -> str:
    """A short reason for a connection failure, without addresses or paths."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS certificate verification failed"
    if isinstance(exc, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, http.client.IncompleteRead):
        return "the server closed the connection before the whole body arrived"
    if isinstance(exc, http.client.HTTPException):
        return "the server sent an invalid HTTP response"
    return "could not connect to the server"
