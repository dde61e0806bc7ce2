"""The HTTP resources: one small class per endpoint, collaborators passed in."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import falcon
import orjson

from . import cache as cache_keys
from . import http_errors
from .analyzer import Analyzer
from .cache import ResultCache
from .config import MULTIPART_ALLOWANCE, Settings
from .errors import EmptyImage
from .fetch import Fetcher, check_url
from .options import (
    cache_fields,
    is_accepted_type,
    parse_edge_mode,
    parse_metrics,
    parse_placeholder_components,
    parse_regions,
)

log = logging.getLogger("image_insights")

SERVICE_NAME = "image-insights-api"
_CHUNK = 64 * 1024
#: A refused upload up to this size is read and dropped before answering (see _discard_body).
DISCARD_MAX_BYTES = 16 * 1024 * 1024
DISCARD_MAX_SECONDS = 1.0
#: The largest JSON body the URL endpoint reads.
MAX_URL_BODY_BYTES = 64 * 1024


class Root:
    def __init__(self, version: str) -> None:
        self._body = {"service": SERVICE_NAME, "version": version, "status": "healthy"}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self._body


class Health:
    def __init__(self, version: str) -> None:
        self._body = {"status": "healthy", "service": SERVICE_NAME, "version": version}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self._body


def check_core() -> None:
    """Runs the Rust core on a one-pixel white image; raises if it cannot load or is wrong."""
    from . import _core

    stats = _core.pixel_statistics(b"\xff\xff\xff", 1, 1, "RGB")
    if stats.pixel_count != 1 or stats.mean != 255.0:
        raise RuntimeError(f"the Rust core measured a white pixel as {stats.mean}")


class Ready:
    """Readiness, for the platform's start-up probe (/health stays the liveness check).

    Any answer at all means a gunicorn worker has loaded the app; 200 also means the Rust core
    ran correctly in this process. A failed check answers 503 and is tried again next time; a
    passed one is not repeated.
    """

    def __init__(self, version: str, check: Callable[[], None] = check_core) -> None:
        self._body = {"status": "ready", "service": SERVICE_NAME, "version": version}
        self._check = check
        self._checked = False

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not self._checked:
            try:
                self._check()
            except Exception:
                log.exception("readiness check failed (request %s)", req.context.request_id)
                raise http_errors.not_ready(req.context.request_id) from None
            self._checked = True
        resp.media = self._body


class _Upload:
    """The `image` part of a multipart body, read up to the size limit."""

    def __init__(self, content_type: str, data: bytes, size: int, limit: int) -> None:
        self.content_type = content_type
        self.data = data
        self.size = size
        self.too_large = size > limit


@contextmanager
def _reading_the_body(resp: falcon.Response) -> Iterator[None]:
    """A client that stops sending its body past the server's read deadline (the socket
    raises TimeoutError) is answered 408, on a connection that then closes."""
    try:
        yield
    except TimeoutError:
        resp.set_header("Connection", "close")
        raise falcon.HTTPError(falcon.HTTP_408) from None


def _is_chunked(req: falcon.Request) -> bool:
    """A body framed by Transfer-Encoding: chunked, with no Content-Length (the server has
    already refused a request that has both)."""
    coding = (req.get_header("Transfer-Encoding") or "").lower()
    return req.content_length is None and coding.rstrip(" \t").endswith("chunked")


class _ChunkedBody:
    """A chunked request body read into memory up to `cap` bytes; `size` is what was read
    (cap + 1 when there was more: the rest is left unread). `broken` when the framing was
    malformed or the client went away: the bytes are then what arrived before."""

    def __init__(self, req: falcon.Request, resp: falcon.Response, cap: int) -> None:
        self.broken = False
        pieces: list[bytes] = []
        size = 0
        with _reading_the_body(resp):
            try:
                while size <= cap and (piece := req.stream.read(min(_CHUNK, cap + 1 - size))):
                    pieces.append(piece)
                    size += len(piece)
            except TimeoutError:
                raise
            except Exception:
                # The WSGI server raises its own exception types (which this layer does not
                # import) for malformed chunk sizes, terminators and trailers, and an OSError
                # for a client gone.
                self.broken = True
        self.data = b"".join(pieces)
        self.size = size
        if self.broken or size > cap:
            resp.set_header("Connection", "close")


class _AnalysisResource:
    """What both analysis endpoints share: the cache and the timed analysis."""

    def __init__(self, settings: Settings, analyzer: Analyzer, cache: ResultCache) -> None:
        self._settings = settings
        self._analyzer = analyzer
        self._cache = cache

    def _answer(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        started: float,
        make_key: Callable[[], str],
        compute: Callable[[], dict[str, Any]],
    ) -> None:
        # The key hashes the whole image: not worth computing when nothing is cached.
        key = make_key() if self._cache.enabled else ""
        result = self._cache.get(key) if key else None
        cached = result is not None
        if result is None:
            result = compute()
            if key:
                self._cache.put(key, result)
        req.context.image_size = (result["width"], result["height"])
        req.context.cache_hit = cached
        result["cached"] = cached
        result["processing_time_ms"] = round((time.perf_counter() - started) * 1000, 2)
        resp.media = result


class UploadAnalysis(_AnalysisResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        started = time.perf_counter()
        limit = self._settings.max_upload_bytes
        length = req.content_length
        if length is not None and length > limit + MULTIPART_ALLOWANCE:
            # Refused from the header alone, nothing kept in memory.
            _discard_body(req, resp, length)
            raise http_errors.upload_too_large(length, limit)
        chunked = None
        if _is_chunked(req):
            # No Content-Length to refuse it from: the body is read up to the same bound,
            # and refused as soon as it passes it, with the bytes read so far.
            chunked = _ChunkedBody(req, resp, limit + MULTIPART_ALLOWANCE)
            if chunked.size > limit + MULTIPART_ALLOWANCE:
                raise http_errors.upload_too_large(chunked.size, limit)

        with _reading_the_body(resp):
            upload = self._read_image_part(req, limit, chunked, self._settings.accepted_types)
        metrics = parse_metrics(req.get_param("metrics"))
        edge_mode = parse_edge_mode(req.get_param("edge_mode"))
        regions = parse_regions(req.get_param("regions"))
        components = parse_placeholder_components(req.get_param("placeholder_components"))
        extras = cache_fields(metrics, regions, components)
        types = self._settings.accepted_types
        if not is_accepted_type(upload.content_type, types):
            raise http_errors.unsupported_type(upload.content_type, types)
        if upload.too_large:
            raise http_errors.upload_too_large(upload.size, limit)
        req.context.upload_bytes = upload.size
        if upload.size == 0:
            raise EmptyImage()

        self._answer(
            req,
            resp,
            started,
            lambda: cache_keys.upload_key(upload.data, metrics, edge_mode, extras),
            lambda: self._analyzer(upload.data, metrics, edge_mode, regions, components),
        )

    @staticmethod
    def _read_image_part(
        req: falcon.Request, limit: int, chunked: _ChunkedBody | None, types: tuple[str, ...]
    ) -> _Upload:
        """Streams the first `image` part, keeping at most limit + 1 bytes of it; from the
        request's stream, or from a chunked body already read. A body that is not
        multipart, or that breaks off, has no image part (422)."""
        media_type = (req.content_type or "").split(";", 1)[0].strip().lower()
        if media_type != falcon.MEDIA_MULTIPART or (chunked is not None and chunked.broken):
            # Another media type would be parsed by its own handler (JSON, URL-encoded
            # forms) into something that is not a list of parts.
            raise http_errors.missing_image()
        try:
            if chunked is None:
                form = req.get_media()
            else:
                # The same multipart handler (and its limits) as get_media(), over the bytes
                # read: Falcon's own parser needs a Content-Length to bound the stream.
                handler = req.options.media_handlers[falcon.MEDIA_MULTIPART]
                stream = io.BytesIO(chunked.data)
                form = handler.deserialize(stream, req.content_type, chunked.size)
            for part in form:
                if part.name != "image":
                    continue
                content_type = part.content_type
                if not is_accepted_type(content_type, types):
                    return _Upload(content_type, b"", 0, limit)
                data = part.stream.read(limit + 1)
                size = len(data)
                if size > limit:
                    # Count the rest of an oversize part (bounded: a body this large was
                    # already refused from its Content-Length) to report its real size.
                    while size <= limit + MULTIPART_ALLOWANCE and (chunk := part.stream.read(_CHUNK)):
                        size += len(chunk)
                return _Upload(content_type, data, size, limit)
        except falcon.HTTPError:
            # Not multipart, no or a bad boundary, a malformed or truncated part: Falcon's
            # parser says so with an HTTPError, and such a body has no image part.
            pass
        raise http_errors.missing_image()


def _discard_body(req: falcon.Request, resp: falcon.Response, length: int) -> None:
    """Reads and drops a refused body of moderate size, for at most a second, so that a
    client that sends it all before reading (most do) gets the answer rather than a reset
    connection. Larger bodies are not read at all and the connection is closed."""
    if length <= DISCARD_MAX_BYTES:
        deadline = time.monotonic() + DISCARD_MAX_SECONDS
        try:
            while time.monotonic() < deadline:
                if not req.bounded_stream.read(_CHUNK):
                    return
        except TimeoutError:
            pass  # the refusal is still the answer
    resp.set_header("Connection", "close")


class UrlAnalysis(_AnalysisResource):
    def __init__(
        self, settings: Settings, analyzer: Analyzer, cache: ResultCache, fetcher: Fetcher
    ) -> None:
        super().__init__(settings, analyzer, cache)
        self._fetcher = fetcher

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        started = time.perf_counter()
        url, raw_metrics, raw_edge_mode, raw_regions, raw_components = _parse_url_body(req, resp)
        metrics = parse_metrics(raw_metrics)
        edge_mode = parse_edge_mode(raw_edge_mode)
        regions = parse_regions(raw_regions)
        components = parse_placeholder_components(raw_components)
        extras = cache_fields(metrics, regions, components)
        check_url(url)  # before the cache: a URL refused outright is never looked up

        def download_and_analyze() -> dict[str, Any]:
            data = self._fetcher.fetch(url)
            req.context.upload_bytes = len(data)
            return self._analyzer(data, metrics, edge_mode, regions, components)

        self._answer(
            req,
            resp,
            started,
            lambda: cache_keys.url_key(url.strip(), metrics, edge_mode, extras),
            download_and_analyze,
        )


def _parse_url_body(
    req: falcon.Request, resp: falcon.Response
) -> tuple[str, str | None, str | None, str | list[str] | None, str | None]:
    """The URL endpoint's JSON body (with a Content-Length or chunked), validated with the
    contract's 422 shapes."""
    if _is_chunked(req):
        chunked = _ChunkedBody(req, resp, MAX_URL_BODY_BYTES)
        if chunked.broken:
            raise http_errors.validation_error(
                [{"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error"}]
            )
        raw = chunked.data
    else:
        with _reading_the_body(resp):
            raw = req.bounded_stream.read(MAX_URL_BODY_BYTES + 1)
    if len(raw) > MAX_URL_BODY_BYTES:
        raise http_errors.validation_error(
            [{"type": "json_invalid", "loc": ["body", 0], "msg": "JSON body is too large"}]
        )
    try:
        body = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError:
        raise http_errors.validation_error(
            [{"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error"}]
        ) from None
    if body is None:
        raise http_errors.validation_error([http_errors.missing_field()])
    if not isinstance(body, dict):
        raise http_errors.validation_error(
            [
                {
                    "type": "model_attributes_type",
                    "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                }
            ]
        )
    errors = []
    url = body.get("url")
    if "url" not in body:
        errors.append(http_errors.missing_field("url"))
    elif not isinstance(url, str):
        errors.append(_string_type("url"))
    for name in ("metrics", "edge_mode", "placeholder_components"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            errors.append(_string_type(name))
    regions = body.get("regions")
    if regions is not None and not (
        isinstance(regions, str)
        or (isinstance(regions, list) and all(isinstance(item, str) for item in regions))
    ):
        errors.append(
            {"type": "string_type", "loc": ["body", "regions"],
             "msg": "Input should be a valid string or a list of strings"}
        )  # fmt: skip
    if errors:
        raise http_errors.validation_error(errors)
    return (
        str(url), body.get("metrics"), body.get("edge_mode"), regions,
        body.get("placeholder_components"),
    )  # fmt: skip


def _string_type(name: str) -> dict[str, Any]:
    return {"type": "string_type", "loc": ["body", name], "msg": "Input should be a valid string"}
