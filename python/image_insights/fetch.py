"""Downloading an image from a URL without letting the URL reach inside the network.

Each hop (the URL and every redirect) is vetted the same way: the host is resolved here,
every address it resolves to must be public, and the connection then goes to that vetted
address (the Host header and TLS SNI keep the name), so a second DNS answer cannot switch it.
Numeric hosts in any spelling other than a plain dotted quad are refused outright. One
deadline covers the whole download; the body is streamed with the size cap.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from . import http_errors
from .config import Settings

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

# Name resolution can block far past the deadline inside the C library; it runs here so the
# request can stop waiting for it.
_resolver_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="resolve")


class _Timeout(Exception):
    """The overall download deadline passed."""


@dataclass(frozen=True)
class Target:
    """One vetted hop: where to connect, and what to call it."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def redact(url: str) -> str:
    """scheme://host[:port] of a URL: all that is ever logged or echoed of it."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid url>"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def has_http_scheme(url: str) -> bool:
    return url.strip().lower().startswith(("http://", "https://"))


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
    """Downloads one image per call, raising the contract's ApiError for every failure."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def fetch(self, url: str) -> bytes:
        settings = self._settings
        redacted = redact(url)
        deadline = settings.clock() + settings.download_timeout_seconds
        current = url.strip()
        try:
            for _hop in range(settings.max_redirects + 1):
                target = self._vet(current, deadline, redacted)
                location, data = self._get(target, deadline, redacted)
                if location is None:
                    return data
                current = urljoin(current, location)
                if not has_http_scheme(current):
                    raise http_errors.url_bad_scheme()
        except _Timeout:
            raise http_errors.download_timeout(redacted) from None
        raise http_errors.download_failed(
            f"too many redirects (more than {settings.max_redirects})", redacted
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
            raise http_errors.download_failed("the URL is malformed", redacted) from None
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise http_errors.download_failed("the URL has no host", redacted)
        port = port or (443 if scheme == "https" else 80)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        allowlisted = self._allowlisted(host, port)

        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is None and is_odd_numeric_host(host):
            raise http_errors.url_not_allowed()
        if literal is not None:
            addresses = [literal]
        else:
            addresses = self._resolve(host, port, deadline, redacted)
        if not allowlisted and not all(is_public_address(a) for a in addresses):
            raise http_errors.url_not_allowed()
        return Target(scheme, host, port, path, str(addresses[0]))

    def _allowlisted(self, host: str, port: int) -> bool:
        allow = self._settings.url_fetch_allowlist
        name = f"[{host}]" if ":" in host else host
        return host in allow or name in allow or f"{name}:{port}" in allow

    def _resolve(self, host: str, port: int, deadline: float, redacted: str) -> list[IPAddress]:
        future = _resolver_pool.submit(self._settings.resolver, host, port)
        try:
            names = future.result(timeout=self._remaining(deadline))
        except FutureTimeout:
            raise _Timeout() from None
        except (OSError, UnicodeError):
            raise http_errors.download_failed("could not resolve the host", redacted) from None
        addresses = []
        for name in names:
            try:
                addresses.append(ipaddress.ip_address(name.split("%", 1)[0]))
            except ValueError:
                continue
        if not addresses:
            raise http_errors.download_failed("could not resolve the host", redacted)
        return addresses

    def _get(self, target: Target, deadline: float, redacted: str) -> tuple[str | None, bytes]:
        """Requests one hop. Returns (redirect location, b"") or (None, body)."""
        conn = self._connect(target, deadline, redacted)
        try:
            try:
                conn.request(
                    "GET",
                    target.path,
                    headers={"User-Agent": _USER_AGENT, "Accept": "image/jpeg, image/png"},
                )
                response = conn.getresponse()
            except (TimeoutError, socket.timeout):
                raise _Timeout() from None
            except (OSError, http.client.HTTPException) as exc:
                raise http_errors.download_failed(_describe(exc), redacted) from None
            if response.status in _REDIRECTS and response.getheader("Location"):
                return response.getheader("Location"), b""
            if response.status != 200:
                raise http_errors.download_status(response.status, redacted)
            self._check_headers(response)
            return None, self._read_body(conn, response, deadline, redacted)
        finally:
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
            raise http_errors.download_failed(_describe(exc), redacted) from None
        conn: http.client.HTTPConnection
        if target.scheme == "https":
            context = ssl.create_default_context()
            try:
                sock = context.wrap_socket(sock, server_hostname=target.host)
            except (TimeoutError, socket.timeout):
                sock.close()
                raise _Timeout() from None
            except OSError as exc:
                sock.close()
                raise http_errors.download_failed(_describe(exc), redacted) from None
            conn = http.client.HTTPSConnection(target.host, target.port, timeout=timeout)
        else:
            conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
        # The socket is already connected to the vetted address: http.client must not
        # resolve the name again.
        conn.sock = sock
        return conn

    def _check_headers(self, response: http.client.HTTPResponse) -> None:
        content_type = response.getheader("Content-Type") or ""
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type not in http_errors.ALLOWED_TYPES:
            raise http_errors.unsupported_type(content_type, from_url=True)
        length = response.getheader("Content-Length")
        limit = self._settings.max_upload_bytes
        if length is not None and length.strip().isdigit() and int(length) > limit:
            raise http_errors.too_large(int(length), limit, from_url=True)

    def _read_body(
        self,
        conn: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        deadline: float,
        redacted: str,
    ) -> bytes:
        limit = self._settings.max_upload_bytes
        chunks: list[bytes] = []
        size = 0
        while True:
            if conn.sock is not None:
                conn.sock.settimeout(self._remaining(deadline))
            try:
                chunk = response.read1(_CHUNK)
            except (TimeoutError, socket.timeout):
                raise _Timeout() from None
            except (OSError, http.client.HTTPException) as exc:
                raise http_errors.download_failed(_describe(exc), redacted) from None
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise http_errors.too_large(size, limit, from_url=True)
            chunks.append(chunk)
            self._remaining(deadline)
        if size == 0:
            raise http_errors.empty_image(from_url=True)
        return b"".join(chunks)


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
