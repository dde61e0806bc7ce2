"""Prometheus metrics: what the service counts, the middleware that counts it, GET /metrics.

Under gunicorn every worker process writes its samples to files in PROMETHEUS_MULTIPROC_DIR
(made fresh, and removed, by gunicorn.conf.py) and a scrape, whichever worker answers it,
adds up the files of all of them. Without that variable (one process, the in-process test
client) the app's own registry is served.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from http import HTTPStatus

import falcon
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from .http_errors import refusal_codes
from .request_state import Request

#: The variable prometheus-client reads to share samples between processes.
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Latency buckets (seconds): a cached answer takes about a millisecond, a large JPEG a few
#: tens, and the analysis limit is 2 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
#: Label of requests that matched no route (kept to one value, whatever path was asked).
UNMATCHED = "unmatched"
#: The one label value for whatever falls outside a label's fixed set (a made-up method, a
#: status code HTTP does not name).
OTHER = "other"
#: Every label has a fixed set of values, so no request can add a series: the methods of
#: RFC 9110 and PATCH; the status codes HTTP names; the stable codes of the error answers
#: (errors.py and http_errors.py).
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
STATUSES = frozenset(str(status.value) for status in HTTPStatus)
REFUSAL_REASONS = refusal_codes()

#: Why the core leaves a JPEG to Pillow (`_core.ImageAnalysis.fallback`).
FALLBACK_REASONS = frozenset(
    {"coding", "cmyk", "precision", "smoothing", "unsupported", "damaged", "disabled"}
)
#: The formats their own decoders read (the `decoder` label, with the reason "format").
FORMAT_DECODERS = frozenset({"webp", "avif", "heif", "gif"})

class ServiceMetrics:
    """The service's metrics, on a registry of their own so that every app has its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "image_insights_http_requests",
            "HTTP requests answered, by endpoint (route template), method and status code",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "image_insights_http_request_duration_seconds",
            "Time from the request's arrival to its answer, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.cache_lookups = Counter(
            "image_insights_cache_lookups",
            "Result cache lookups by the analysis endpoints: result is hit or miss",
            ["result"],
            registry=self.registry,
        )
        self.bytes_received = Counter(
            "image_insights_image_bytes_received",
            "Bytes of images received: source is upload or url (downloaded)",
            ["source"],
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "image_insights_stage_duration_seconds",
            "Time of each pipeline stage: decode (bytes to pixels; for the Pillow fallback, "
            "its whole run) and analysis (resize, orientation, statistics)",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.decodes = Counter(
            "image_insights_decodes",
            "Images decoded, by decoder (core; pillow for the JPEGs the core leaves to "
            "libjpeg; webp, avif, heif or gif for those formats' own decoders) and the "
            "reason (none for the core's own, format for a format's decoder)",
            ["decoder", "reason"],
            registry=self.registry,
        )
        self.refused = Counter(
            "image_insights_images_refused",
            "Analysis requests refused, by reason (the error answer's stable code)",
            ["reason"],
            registry=self.registry,
        )

    def observe_stages(self, seconds_by_stage: Mapping[str, float]) -> None:
        for stage, seconds in seconds_by_stage.items():
            self.stage_seconds.labels(stage).observe(seconds)

    def observe_decode(self, fallback: str | None, format_name: str = "jpeg") -> None:
        """One image decoded by the core (`fallback` None), by Pillow's libjpeg and why, or
        by its format's own decoder."""
        if fallback is None:
            self.decodes.labels("core", "none").inc()
        elif fallback == "format":
            decoder = format_name if format_name in FORMAT_DECODERS else OTHER
            self.decodes.labels(decoder, "format").inc()
        else:
            reason = fallback if fallback in FALLBACK_REASONS else OTHER
            self.decodes.labels("pillow", reason).inc()

    def exposition(self) -> bytes:
        """The text format, for this process or, in multiprocess mode, for all workers."""
        if os.environ.get(MULTIPROCESS_DIR_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts every request once it is answered, from what its handling left in its
    RequestState (cache_hit, upload_bytes, refusal) and the response itself."""

    #: The analysis endpoints and the byte source each one receives from.
    _SOURCES = {"/v1/image/analysis": "upload", "/v1/image/analysis/url": "url"}

    def __init__(self, metrics: ServiceMetrics) -> None:
        self._metrics = metrics

    def process_response(
        self, req: Request, resp: falcon.Response, resource: object, succeeded: bool
    ) -> None:
        metrics = self._metrics
        endpoint = _endpoint(req)
        method = req.method if req.method in METHODS else OTHER
        status = str(resp.status_code)
        metrics.requests.labels(endpoint, method, status if status in STATUSES else OTHER).inc()
        state = req.context
        if state.started:
            metrics.latency.labels(endpoint).observe(time.perf_counter() - state.started)
        source = self._SOURCES.get(endpoint)
        if source is None or req.method != "POST":
            return
        if state.cache_hit is not None:
            metrics.cache_lookups.labels("hit" if state.cache_hit else "miss").inc()
        if state.upload_bytes:
            metrics.bytes_received.labels(source).inc(state.upload_bytes)
        if state.refusal is not None:
            reason = state.refusal if state.refusal in REFUSAL_REASONS else OTHER
            metrics.refused.labels(reason).inc()


def _endpoint(req: Request) -> str:
    template = req.uri_template
    if template:
        return template
    return "/static" if req.path.startswith("/static/") else UNMATCHED


class MetricsEndpoint:
    def __init__(self, metrics: ServiceMetrics) -> None:
        self._metrics = metrics

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = self._metrics.exposition()
