"""The WSGI application: `create_app(settings)` is the only place things are wired."""

from __future__ import annotations

import logging
from http import HTTPStatus
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import falcon
import falcon.media
import orjson

from . import __version__, http_errors
from .analyzer import Analyzer
from .cache import ResultCache
from .config import Settings, SettingsError
from .docs import DocsPage, OpenApiDocument
from .errors import ImageInsightsError, InternalError
from .fetch import Fetcher
from .monitoring import MetricsEndpoint, MetricsMiddleware, ServiceMetrics
from .options import FORMATS
from .pipeline import accepted_formats
from .request_state import Request
from .resources import Health, Ready, Root, UploadAnalysis, UrlAnalysis

log = logging.getLogger("image_insights")
access_log = logging.getLogger("image_insights.access")

_CACHE_LABELS = {True: "hit", False: "miss", None: "-"}
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
STATIC_DIR = Path(__file__).parent / "static"
#: Parts of a multipart upload read before the form is refused as malformed (422).
MAX_FORM_PARTS = 1000


class RequestContext:
    """Gives every request an id (the client's when sane) and logs one line per request."""

    def __init__(self, detailed_logging: bool) -> None:
        self._detailed = detailed_logging

    def process_request(self, req: Request, resp: falcon.Response) -> None:
        sent = req.get_header("X-Request-ID")
        state = req.context
        state.request_id = sent if sent and _SANE_REQUEST_ID.match(sent) else uuid.uuid4().hex
        state.started = time.perf_counter()
        resp.set_header("X-Request-ID", state.request_id)

    def process_response(
        self, req: Request, resp: falcon.Response, resource: object, succeeded: bool
    ) -> None:
        state = req.context
        resp.set_header("X-Request-ID", state.request_id)
        if not self._detailed:
            return
        elapsed_ms = (time.perf_counter() - state.started) * 1000
        size = state.image_size
        received = state.upload_bytes if state.upload_bytes is not None else req.content_length
        access_log.info(
            "%s %s %s bytes=%s dims=%s time_ms=%.1f cache=%s refusal=%s id=%s",
            req.method,
            req.path,
            resp.status_code,
            received or 0,
            f"{size[0]}x{size[1]}" if size else "-",
            elapsed_ms,
            _CACHE_LABELS[state.cache_hit],
            state.refusal or "-",
            state.request_id,
        )


class VaryOnOrigin:
    """`Vary: Origin` on every answer. The CORS middleware echoes the caller's origin, so a
    shared cache must keep one copy per origin, and must not hand a copy made for a request
    without an Origin (no CORS headers) to a page that needs them."""

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, succeeded: bool
    ) -> None:
        varies = [name.strip().lower() for name in (resp.get_header("Vary") or "").split(",")]
        if "origin" not in varies and "*" not in varies:
            resp.append_header("Vary", "Origin")


def _render(req: Request, resp: falcon.Response, error: http_errors.ApiError) -> None:
    req.context.refusal = error.code
    resp.status = error.status
    resp.media = error.body


def _handle_api_error(
    req: Request, resp: falcon.Response, ex: http_errors.ApiError, params: Any
) -> None:
    _render(req, resp, ex)


def _handle_library_error(
    req: Request, resp: falcon.Response, ex: ImageInsightsError, params: Any
) -> None:
    """Any failure of the library, answered by its class (http_errors.render); one without
    an answer of its own is a bug, answered as one."""
    answer = http_errors.render(ex)
    if answer is None:
        _handle_unexpected(req, resp, ex, params)
    else:
        _render(req, resp, answer)


def _handle_http_error(
    req: Request, resp: falcon.Response, ex: falcon.HTTPError, params: Any
) -> None:
    """Falcon's own errors (404, 405, ...) as {"detail": "<title>"}, as FastAPI answered."""
    resp.status = ex.status
    resp.media = {"detail": HTTPStatus(ex.status_code).phrase}
    if ex.headers:
        resp.set_headers(ex.headers)


def _handle_unexpected(req: Request, resp: falcon.Response, ex: Exception, params: Any) -> None:
    request_id = req.context.request_id or uuid.uuid4().hex
    log.exception("unhandled error while serving request %s", request_id)
    _render(req, resp, http_errors.internal_error(request_id))


def installed_formats(settings: Settings) -> Settings:
    """The settings with the accepted formats this installation decodes: all of them by
    default; a format ACCEPTED_FORMATS names explicitly must be installed.

    Raises:
        SettingsError: ACCEPTED_FORMATS names a format whose decoder is missing.
    """
    supported = accepted_formats(None)
    kept = tuple(name for name in settings.accepted_formats if name in supported)
    if settings.accepted_formats != FORMATS and kept != settings.accepted_formats:
        missing = sorted(set(settings.accepted_formats) - set(kept))
        raise SettingsError(f"ACCEPTED_FORMATS names {missing}, whose decoders are not installed")
    return replace(settings, accepted_formats=kept)


def create_app(
    settings: Settings | None = None,
    *,
    analyzer: Analyzer | None = None,
    fetcher: Fetcher | None = None,
) -> falcon.App[Request, falcon.Response]:
    """Builds the service. Collaborators default to the real ones made from `settings`."""
    settings = installed_formats(settings or Settings.from_env())
    service_metrics = ServiceMetrics()
    analyzer = analyzer or Analyzer(settings, service_metrics=service_metrics)
    fetcher = fetcher or Fetcher(settings)
    cache = ResultCache(
        settings.cache_max_size,
        settings.cache_ttl_seconds,
        settings.clock,
        enabled=settings.cache_enabled,
    )

    middleware: list[Any] = [
        RequestContext(settings.detailed_logging),
        MetricsMiddleware(service_metrics),
        # Echoes the caller's origin (credentials allowed), as the contract's CORS row says.
        falcon.CORSMiddleware(
            allow_origins="*", allow_credentials="*", expose_headers=["X-Request-ID"]
        ),
        VaryOnOrigin(),
    ]
    app: falcon.App[Request, falcon.Response] = falcon.App(
        middleware=middleware, request_type=Request
    )
    json_handler = falcon.media.JSONHandler(dumps=orjson.dumps, loads=orjson.loads)
    multipart = falcon.media.MultipartFormHandler()
    multipart.parse_options.max_body_part_buffer_size = settings.max_upload_bytes
    # Falcon stops at 64 parts by default; forms of up to MAX_FORM_PARTS parts are read.
    multipart.parse_options.max_body_part_count = MAX_FORM_PARTS
    app.req_options.media_handlers.update(
        {falcon.MEDIA_JSON: json_handler, falcon.MEDIA_MULTIPART: multipart}
    )
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = json_handler

    app.add_route("/", Root(__version__))
    app.add_route("/health", Health(__version__))
    app.add_route("/ready", Ready(__version__))
    app.add_route("/v1/image/analysis", UploadAnalysis(settings, analyzer, cache))
    app.add_route("/v1/image/analysis/url", UrlAnalysis(settings, analyzer, cache, fetcher))
    app.add_route("/openapi.json", OpenApiDocument(__version__, settings.accepted_formats))
    app.add_route("/docs", DocsPage("swagger.html"))
    app.add_route("/redoc", DocsPage("redoc.html"))
    app.add_route("/ui", DocsPage("ui.html"))
    app.add_route("/metrics", MetricsEndpoint(service_metrics))
    app.add_static_route("/static", str(STATIC_DIR))

    # Falcon picks the handler of the nearest class in the exception's MRO.
    app.add_error_handler(Exception, _handle_unexpected)
    app.add_error_handler(falcon.HTTPError, _handle_http_error)
    app.add_error_handler(ImageInsightsError, _handle_library_error)
    app.add_error_handler(InternalError, _handle_unexpected)
    app.add_error_handler(http_errors.ApiError, _handle_api_error)
    return app
