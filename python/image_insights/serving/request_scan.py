"""Where an HTTP/1.1 request ends in the bytes received so far, without parsing it.

The serving worker reads requests in its event loop and hands a request to a thread only
once all of it has arrived. It needs to know no more than where the head ends and how the
body is framed (Content-Length, or chunked: chunk sizes, data, trailers). Anything unusual
(several lengths, an unknown transfer coding, a malformed chunk size) is not judged here:
the request goes to gunicorn's own parser, which refuses it with the right status, under
the same read deadline.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The longest chunk-size line read here before the request goes to gunicorn's parser.
MAX_CHUNK_SIZE_LINE = 8192
#: The longest trailer section read here before the same.
MAX_TRAILER_BYTES = 8192 * 32
_HEX = frozenset(b"0123456789abcdefABCDEF")


@dataclass
class Head:
    """What the scan needs of a complete request head."""

    length: int  # bytes of the head, its blank line included
    content_length: int | None
    chunked: bool
    expects_continue: bool
    #: Framing that gunicorn's parser must judge (and will most likely refuse).
    unusual: bool


def parse_head(data: bytes | bytearray, end: int) -> Head:
    """The framing of the head data[:end] (end just after its blank line)."""
    lines = bytes(data[: end - 4]).split(b"\r\n")
    version = lines[0].rsplit(b" ", 1)[-1]
    lengths: list[bytes] = []
    codings: list[bytes] = []
    expects_continue = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.lower()
        value = value.strip(b" \t")
        if name == b"content-length":
            lengths.append(value)
        elif name == b"transfer-encoding":
            codings.extend(c.strip(b" \t").lower() for c in value.split(b","))
        elif name == b"expect":
            expects_continue = value.lower() == b"100-continue"
    chunked = bool(codings) and codings[-1] == b"chunked"
    unusual = (bool(codings) and (not chunked or bool(lengths) or version != b"HTTP/1.1")) or (
        len(lengths) > 1 or (bool(lengths) and not lengths[0].isdigit())
    )
    content_length = int(lengths[0]) if len(lengths) == 1 and lengths[0].isdigit() else None
    return Head(end, content_length, chunked, expects_continue and version == b"HTTP/1.1", unusual)


class ChunkedScan:
    """Walks a chunked body as its bytes arrive, remembering where it stopped. `scan` returns
    the offset just past the body's end once it is all there, None while it is not, and
    raises ValueError at framing that gunicorn's parser must judge."""

    def __init__(self, start: int) -> None:
        self._at = start  # the start of the next chunk-size line or of the trailers
        self._trailers = False

    def scan(self, data: bytes | bytearray) -> int | None:
        while True:
            if self._trailers:
                if data[self._at : self._at + 2] == b"\r\n":
                    return self._at + 2
                end = data.find(b"\r\n\r\n", self._at)
                if end >= 0:
                    return end + 4
                if len(data) - self._at > MAX_TRAILER_BYTES:
                    raise ValueError("trailer section too long")
                return None
            line_end = data.find(b"\r\n", self._at)
            if line_end < 0:
                if len(data) - self._at > MAX_CHUNK_SIZE_LINE:
                    raise ValueError("chunk-size line too long")
                return None
            size_text = bytes(data[self._at : line_end]).split(b";", 1)[0].rstrip(b" \t")
            if not size_text or not set(size_text) <= _HEX:
                raise ValueError("malformed chunk size")
            size = int(size_text, 16)
            if size == 0:
                self._at = line_end + 2
                self._trailers = True
                continue
            data_end = line_end + 2 + size
            if len(data) < data_end + 2:
                return None
            if data[data_end : data_end + 2] != b"\r\n":
                raise ValueError("chunk without its CRLF")
            self._at = data_end + 2
