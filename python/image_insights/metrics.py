"""Prometheus metrics: what the service counts, the middleware that counts it, GET /metrics.

Under gunicorn every worker process writes its samples to files in PROMETHEUS_MULTIPROC_DIR
(made fresh, and removed, by gunicorn.conf.py) and a scrape, whichever worker answers it,
adds up the files of all of them. Without that variable (one process, the in-process test
client) the app's own registry is served.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import falcon
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

#: The variable prometheus-client reads to share samples between processes.
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Latency buckets (seconds): a cached answer takes about a millisecond, a large JPEG a few
#: tens, and the analysis limit is 2 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
#: Label of requests that matched no route (kept to one value, whatever path was asked).
UNMATCHED = "unmatched"
#: The one label value for whatever falls outside a label's fixed set (a made-up method, a
#: status code HTTP does not name, a refusal body the service does not write).
OTHER = "other"
#: Every label has a fixed set of values, so no request can add a series: the methods of
#: RFC 9110 and PATCH; the status codes HTTP names; the refusal reasons of the contract's
#: error bodies (the `error` of each, as a word).
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
STATUSES = frozenset(str(status.value) for status in HTTPStatus)
REFUSAL_REASONS = frozenset({
    "invalid_request", "invalid_metrics_requested", "invalid_edge_mode_requested",
    "unsupported_image_type", "unsupported_image_type_from_url",
    "image_exceeds_maximum_allowed_size_5mb", "image_from_url_exceeds_maximum_allowed_size_5mb",
    "empty_image_file", "downloaded_image_file_is_empty", "invalid_or_corrupted_image_file",
    "image_dimensions_exceed_the_maximum_allowed_pixel_count", "url_cannot_be_empty",
    "invalid_url_scheme", "invalid_url", "failed_to_download_image_from_url",
    "request_timeout_while_downloading_image", "image_processing_timed_out",
})  # fmt: skip

#: Why the core leaves a JPEG to Pillow (`_core.ImageAnalysis.fallback`).
FALLBACK_REASONS = frozenset(
    {"coding", "cmyk", "precision", "smoothing", "unsupported", "damaged", "disabled"}
)

_NOT_A_WORD = re.compile(r"[^a-z0-9]+")


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
            "Images decoded, by decoder (core, or pillow for what the core leaves to libjpeg) "
            "and the core's reason for leaving it (none for the core's own)",
            ["decoder", "reason"],
            registry=self.registry,
        )
        self.refused = Counter(
            "image_insights_images_refused",
            "Analysis requests refused, by reason (the error body's `error`, as a word)",
            ["reason"],
            registry=self.registry,
        )

    def observe_stages(self, seconds_by_stage: Mapping[str, float]) -> None:
        for stage, seconds in seconds_by_stage.items():
            self.stage_seconds.labels(stage).observe(seconds)

    def observe_decode(self, fallback: str | None) -> None:
        """One image decoded by the core (`fallback` None) or by Pillow, and why."""
        if fallback is None:
            self.decodes.labels("core", "none").inc()
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


def refusal_reason(body: Any) -> str | None:
    """'unsupported_image_type' for {"detail": {"error": "Unsupported image type"}}, and
    'invalid_request' for the 422 list; None for anything that is not a refusal body."""
    if not isinstance(body, dict):
        return None
    detail = body.get("detail")
    if isinstance(detail, list):
        return "invalid_request"
    if isinstance(detail, dict) and isinstance(detail.get("error"), str):
        reason = _NOT_A_WORD.sub("_", detail["error"].lower()).strip("_")
        return reason if reason in REFUSAL_REASONS else OTHER
    return None


class MetricsMiddleware:
    """Counts every request once it is answered, from what the resources left in
    req.context (cache_hit, upload_bytes) and the response itself."""

    #: The analysis endpoints and the byte source each one receives from.
    _SOURCES = {"/v1/image/analysis": "upload", "/v1/image/analysis/url": "url"}

    def __init__(self, metrics: ServiceMetrics) -> None:
        self._metrics = metrics

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.metrics_started = time.perf_counter()

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, succeeded: bool
    ) -> None:
        metrics = self._metrics
        endpoint = _endpoint(req)
        method = req.method if req.method in METHODS else OTHER
        status = str(resp.status_code)
        metrics.requests.labels(endpoint, method, status if status in STATUSES else OTHER).inc()
        started = req.context.get("metrics_started")
        if started is not None:
            metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
        source = self._SOURCES.get(endpoint)
        if source is None or req.method != "POST":
            return
        cache_hit = req.context.get("cache_hit")
        if cache_hit is not None:
            metrics.cache_lookups.labels("hit" if cache_hit else "miss").inc()
        received = req.context.get("upload_bytes")
        if received:
            metrics.bytes_received.labels(source).inc(received)
        if resp.status_code >= 400:
            reason = refusal_reason(resp.media)
            if reason is not None:
                metrics.refused.labels(reason).inc()


def _endpoint(req: falcon.Request) -> str:
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
