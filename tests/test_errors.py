"""The library's failures and their answers: every class of errors.py has a stable code and
is answered with the contract's exact body (http_errors.render), subclasses as their nearest
answered ancestor, through the app as well as directly."""

from __future__ import annotations

import dataclasses
from typing import Any

import falcon.testing
import pytest

from image_insights import errors, http_errors
from image_insights.analyzer import Analyzer
from image_insights.app import create_app
from image_insights.config import Settings
from tests.support.http_helpers import multipart

UPLOAD = "/v1/image/analysis"
URL = "http://example.com:8080"

#: One instance of every class that has an answer, with its status and the contract's body.
ANSWERS: list[tuple[errors.ImageInsightsError, int, dict[str, Any]]] = [
    (errors.InvalidMetrics(["x", "y"]), 400, {"detail": {
        "error": "Invalid metrics requested", "invalid_metrics": ["x", "y"],
        "valid_metrics": ["brightness", "median", "histogram", "contrast", "sharpness",
                          "entropy", "colorfulness", "colors", "text", "placeholder"]}}),
    (errors.InvalidEdgeMode("Sides"), 400, {"detail": {
        "error": "Invalid edge_mode requested", "received": "Sides",
        "valid_modes": ["left_right", "top_bottom", "all"]}}),
    (errors.InvalidRegions(["top;x"], "a rectangle is four decimals x,y,w,h in 0-1"), 400,
     {"detail": {
        "error": "Invalid regions requested", "invalid_regions": ["top;x"],
        "reason": "a rectangle is four decimals x,y,w,h in 0-1",
        "valid_forms": ["top", "bottom", "left", "right", "center", "top:25", "x,y,w,h",
                        "name=x,y,w,h"],
        "max_regions": 16}}),
    (errors.InvalidPlaceholderComponents("10x3"), 400, {"detail": {
        "error": "Invalid placeholder_components requested", "received": "10x3",
        "valid_range": "1x1 to 9x9"}}),
    (errors.EmptyImage(), 400, {"detail": {"error": "Empty image file"}}),
    (errors.CorruptImage("bad CRC in IDAT chunk"), 400, {"detail": {
        "error": "Invalid or corrupted image file", "details": "bad CRC in IDAT chunk"}}),
    (errors.ImageTooLarge(60_000_000, 50_000_000), 413, {"detail": {
        "error": "Image dimensions exceed the maximum allowed pixel count",
        "max_pixels": 50_000_000, "received_pixels": 60_000_000}}),
    (errors.AnalysisTimeout(2.0), 504, {"detail": {
        "error": "Image processing timed out", "timeout_seconds": 2}}),
    (errors.EmptyUrl(), 400, {"detail": {"error": "URL cannot be empty"}}),
    (errors.UnsupportedUrlScheme(), 400, {"detail": {
        "error": "Invalid URL scheme", "detail": "URL must start with http:// or https://"}}),
    (errors.UrlNotAllowed(), 400, {"detail": {
        "error": "Invalid URL",
        "detail": "URLs pointing to private or local network addresses are not allowed"}}),
    (errors.DownloadFailed("connection refused", URL), 400, {"detail": {
        "error": "Failed to download image from URL", "detail": "connection refused",
        "url": URL}}),
    (errors.DownloadBusy("too many downloads in progress", URL), 400, {"detail": {
        "error": "Failed to download image from URL",
        "detail": "too many downloads in progress", "url": URL}}),
    (errors.DownloadStatus(404, URL), 400, {"detail": {
        "error": "Failed to download image from URL", "status_code": 404, "url": URL}}),
    (errors.DownloadTimeout(URL), 408, {"detail": {
        "error": "Request timeout while downloading image", "url": URL}}),
    (errors.DownloadTooLarge(6_000_000, 5_242_880, URL), 413, {"detail": {
        "error": "Image from URL exceeds maximum allowed size (5MB)",
        "max_size_bytes": 5_242_880, "received_size_bytes": 6_000_000}}),
    (errors.DownloadUnsupportedType("text/html", URL), 415, {"detail": {
        "error": "Unsupported image type from URL", "allowed_types": ["image/jpeg", "image/png"],
        "received_type": "text/html"}}),
    (errors.DownloadEmpty(URL), 400, {"detail": {"error": "Downloaded image file is empty"}}),
]  # fmt: skip
#: The classes without an answer of their own: bases, the bug that is a 500, and the
#: library's failures of inputs that never come over HTTP (files, arrays).
UNANSWERED = {errors.ImageInsightsError, errors.DownloadError, errors.InvalidUrl,
              errors.InternalError, errors.UnreadableFile, errors.InvalidArray}  # fmt: skip


def test_every_class_is_answered_or_deliberately_not() -> None:
    answered = {type(error) for error, _, _ in ANSWERS}
    assert answered | UNANSWERED == set(errors.error_classes())
    assert not answered & UNANSWERED
    for klass in UNANSWERED:
        assert http_errors.renderer(klass) is None, klass


def test_codes_are_stable_words_one_per_class() -> None:
    codes = [klass.code for klass in errors.error_classes()]
    assert len(codes) == len(set(codes))
    assert all(code.replace("_", "").isalpha() and code.islower() for code in codes)


@pytest.mark.parametrize("error, status, body", ANSWERS, ids=lambda v: type(v).__name__)
def test_each_class_renders_the_contract_answer(
    error: errors.ImageInsightsError, status: int, body: dict[str, Any]
) -> None:
    answer = http_errors.render(error)
    assert answer is not None
    assert (answer.status, answer.body, answer.code) == (status, body, error.code)


def test_a_subclass_is_answered_as_its_nearest_answered_ancestor() -> None:
    class ProxyRefused(errors.DownloadFailed):
        code = "proxy_refused"

    answer = http_errors.render(ProxyRefused("the proxy refused", URL))
    assert answer is not None and answer.status == 400
    assert answer.body["detail"]["detail"] == "the proxy refused"
    assert answer.code == "proxy_refused"


@pytest.fixture
def raising(settings: Settings) -> Any:
    """A client whose analysis raises the given error."""

    def client(error: Exception) -> falcon.testing.TestClient:
        def pipeline(*args: Any, **kwargs: Any) -> Any:
            raise error

        quiet = dataclasses.replace(settings, cache_enabled=False)
        return falcon.testing.TestClient(
            create_app(quiet, analyzer=Analyzer(quiet, pipeline=pipeline))
        )

    return client


@pytest.mark.parametrize("error, status, body", ANSWERS, ids=lambda v: type(v).__name__)
def test_the_app_answers_each_class_as_rendered(
    raising: Any, png_bytes: bytes, error: errors.ImageInsightsError, status: int,
    body: dict[str, Any],
) -> None:  # fmt: skip
    form, headers = multipart([("image", png_bytes, "image/png")])
    result = raising(error).simulate_post(UPLOAD, body=form, headers=headers)
    assert (result.status_code, result.json) == (status, body)


def test_the_app_answers_an_internal_error_as_a_generic_500(
    raising: Any, png_bytes: bytes
) -> None:
    form, headers = multipart([("image", png_bytes, "image/png")])
    result = raising(errors.InternalError("index out of bounds")).simulate_post(
        UPLOAD, body=form, headers=headers
    )
    assert result.status_code == 500
    assert result.json == {"error": "Internal server error",
                           "details": result.headers["x-request-id"]}  # fmt: skip
