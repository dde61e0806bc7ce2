"""Settings: read once from the environment into one typed object.

Tests build a `Settings` directly (or with `dataclasses.replace`) and inject a resolver,
clock or fetch timeout through it; nothing is monkeypatched.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from .limits import DEFAULT_MAX_PIXELS, MAX_UPLOAD_BYTES, TIME_LIMIT_SECONDS
from .options import FORMATS, media_types, parse_formats

#: getaddrinfo-shaped resolver: (host, port) -> addresses as strings.
Resolver = Callable[[str, int], list[str]]

#: Multipart framing (boundaries, part headers, small fields) allowed beyond the image limit
#: before a body is refused from its Content-Length alone.
MULTIPART_ALLOWANCE = 64 * 1024


N = TypeVar("N", int, float)


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used; the message names it."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host:port (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Settings:
    cache_enabled: bool = True
    cache_max_size: int = 512
    cache_ttl_seconds: float = 86400.0
    detailed_logging: bool = True
    port: int = 8080
    max_image_pixels: int = DEFAULT_MAX_PIXELS
    #: Large JPEGs decoded from their DC coefficients (off: always through Pillow).
    jpeg_fast_path: bool = True
    #: Analyses one worker runs at once; also its memory bound (see analyzer.py).
    analysis_threads: int = 4
    #: host or host:port entries (lower case) the URL endpoint may fetch although they
    #: resolve to private or loopback addresses.
    url_fetch_allowlist: frozenset[str] = frozenset()
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    processing_timeout_seconds: float = TIME_LIMIT_SECONDS
    download_timeout_seconds: float = TIME_LIMIT_SECONDS
    max_redirects: int = 5
    #: URL downloads one worker runs at once; one more is answered at once (400, "too many
    #: downloads in progress"), so slow origins never hold more than these request threads.
    max_concurrent_downloads: int = 16
    #: Name lookups one worker runs at once, each in a thread of its own; a lookup that
    #: hangs holds one until the C library gives up, and one more is refused at once.
    max_concurrent_lookups: int = 64
    #: The serving worker (serving/worker.py): a request's head and body must have arrived
    #: this long after its first byte (else 408 and the connection closes).
    request_read_timeout_seconds: float = 30.0
    #: Bytes of requests still arriving that one worker holds in memory at most; a body
    #: beyond it is read by a request thread instead, under the same deadline.
    request_buffer_bytes: int = 64 * 1024 * 1024
    #: The image formats accepted (names of options.FORMATS; `create_app` keeps those this
    #: installation decodes). ACCEPTED_FORMATS=jpeg,png is the contract's service exactly.
    accepted_formats: tuple[str, ...] = FORMATS
    resolver: Resolver = field(default=system_resolver, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Reads the contract's variables; raises SettingsError naming a malformed one."""
        env = os.environ if environ is None else environ
        return cls(
            cache_enabled=_bool(env, "CACHE_ENABLED", True),
            cache_max_size=_int(env, "CACHE_MAX_SIZE", 512, minimum=0),
            cache_ttl_seconds=_float(env, "CACHE_TTL_SECONDS", 86400.0, minimum=0.0),
            detailed_logging=_bool(env, "ENABLE_DETAILED_LOGGING", True),
            port=_int(env, "PORT", 8080, minimum=1, maximum=65535),
            max_image_pixels=_int(env, "MAX_IMAGE_PIXELS", DEFAULT_MAX_PIXELS, minimum=1),
            jpeg_fast_path=_bool(env, "JPEG_FAST_PATH", True),
            analysis_threads=_int(env, "ANALYSIS_THREADS", 4, minimum=1, maximum=256),
            url_fetch_allowlist=_allowlist(env.get("URL_FETCH_ALLOWLIST", "")),
            max_concurrent_downloads=_int(env, "URL_FETCH_CONCURRENCY", 16, minimum=1),
            request_read_timeout_seconds=_float(
                env, "REQUEST_READ_TIMEOUT_SECONDS", 30.0, minimum=0.1
            ),
            request_buffer_bytes=_int(env, "REQUEST_BUFFER_BYTES", 64 * 1024 * 1024, minimum=0),
            accepted_formats=_formats(env.get("ACCEPTED_FORMATS")),
        )

    @property
    def accepted_types(self) -> tuple[str, ...]:
        """The media types of the accepted formats, in the 415 body's order."""
        return media_types(self.accepted_formats)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _int(
    env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    return _number(env, name, default, int, "an integer", minimum, maximum)


def _float(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    return _number(env, name, default, float, "a number", minimum, None)


def _number(
    env: Mapping[str, str],
    name: str,
    default: N,
    parse: Callable[[str], N],
    kind: str,
    minimum: N,
    maximum: N | None,
) -> N:
    """A bounded number from `env`; the default when unset or blank."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = parse(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be {kind}, got {raw!r}") from None
    # `not >=` also catches a NaN float.
    if not value >= minimum or (maximum is not None and value > maximum):
        bounds = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise SettingsError(f"{name} must be {bounds}, got {raw.strip()}")
    return value


def _formats(raw: str | None) -> tuple[str, ...]:
    """ACCEPTED_FORMATS: names of options.FORMATS (unset or blank: all of them)."""
    if raw is None or not raw.strip():
        return FORMATS
    try:
        return parse_formats(raw)
    except ValueError as exc:
        raise SettingsError(f"ACCEPTED_FORMATS: {exc}") from None


def _allowlist(raw: str) -> frozenset[str]:
    entries = (item.strip().lower().rstrip(".") for item in raw.split(","))
    return frozenset(entry for entry in entries if entry)
