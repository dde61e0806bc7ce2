"""The result cache: an in-memory LRU with a time-to-live, shared by a worker's threads.

It holds result dictionaries only, under BLAKE2b keys: never image bytes, never URLs.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any


def upload_key(
    image: bytes, metrics: Iterable[str], edge_mode: str | None, extras: Iterable[str] = ()
) -> str:
    return _key(b"upload", image, metrics, edge_mode, extras)


def url_key(
    url: str, metrics: Iterable[str], edge_mode: str | None, extras: Iterable[str] = ()
) -> str:
    return _key(b"url", url.encode("utf-8"), metrics, edge_mode, extras)


def _key(
    domain: bytes,
    subject: bytes,
    metrics: Iterable[str],
    edge_mode: str | None,
    extras: Iterable[str],
) -> str:
    """BLAKE2b over length-prefixed fields: the domain (upload or url) first, so that the two
    key spaces never meet, then the subject, the sorted metrics, the edge mode and, in their
    order, the further options that change a result (regions, placeholder components; none
    for a request without them, so its key is what it always was). With every field framed
    by its length, no two different inputs hash the same bytes."""
    digest = hashlib.blake2b(digest_size=32)
    names = sorted(metrics)
    fields = [domain, subject, len(names).to_bytes(8, "big"), *(n.encode("ascii") for n in names)]
    # An absent edge mode is a field of its own, never the same as any mode's name.
    fields.append(b"\x00" if edge_mode is None else b"\x01" + edge_mode.encode("ascii"))
    fields.extend(extra.encode("utf-8") for extra in extras)
    for field in fields:
        digest.update(len(field).to_bytes(8, "big"))
        digest.update(field)
    return digest.hexdigest()


class ResultCache:
    """LRU + TTL. `max_size` 0 or a disabled cache stores nothing."""

    def __init__(
        self, max_size: int, ttl_seconds: float, clock: Callable[[], float], enabled: bool = True
    ) -> None:
        self.enabled = enabled and max_size > 0
        self._max_size = max_size
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        """A copy of the stored result, or None when absent or expired."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, result = entry
            if self._clock() >= expires:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return dict(result)

    def put(self, key: str, result: dict[str, Any]) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self._ttl, dict(result))
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
