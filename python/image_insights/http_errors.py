"""Every error answer of the HTTP contract, rendered in one place.

`render(error)` turns any of the library's failures (errors.py) into the contract's status
and exact body: each class has its renderer, found along the class's MRO, so a subclass is
answered as its nearest rendered ancestor. The functions below it build the answers that
only the web layer can give (a malformed request, an upload's own checks, 500 and 503).
`ApiError` carries the status, the body and the failure's stable `code`, which the access
log and the refusal counter use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import errors
from .limits import MAX_UPLOAD_BYTES
from .options import ACCEPTED_TYPES, MAX_REGIONS, REGION_FORMS, VALID_EDGE_MODES, VALID_METRICS


class ApiError(Exception):
    """An answer other than 200, with its exact body and the failure's stable code."""

    def __init__(self, status: int, body: dict[str, Any], code: str) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.code = code


def _detail(status: int, code: str, **detail: Any) -> ApiError:
    return ApiError(status, {"detail": detail}, code)


def _megabytes(size: int) -> str:
    """5242880 -> '5MB', as the contract's size errors name the limit."""
    return f"{size / (1024 * 1024):g}MB"


def _seconds(value: float) -> float:
    """2.0 -> 2: the contract writes whole seconds as integers."""
    return int(value) if float(value).is_integer() else value


# --- the library's failures --------------------------------------------------------------

_Renderer = Callable[[Any], ApiError]

_RENDERERS: dict[type[errors.ImageInsightsError], _Renderer] = {
    errors.InvalidMetrics: lambda e: _detail(
        400, e.code, error="Invalid metrics requested", invalid_metrics=e.invalid,
        valid_metrics=list(VALID_METRICS)),
    errors.InvalidEdgeMode: lambda e: _detail(
        400, e.code, error="Invalid edge_mode requested", received=e.received,
        valid_modes=list(VALID_EDGE_MODES)),
    errors.InvalidRegions: lambda e: _detail(
        400, e.code, error="Invalid regions requested", invalid_regions=e.invalid,
        reason=e.reason, valid_forms=list(REGION_FORMS), max_regions=MAX_REGIONS),
    errors.InvalidPlaceholderComponents: lambda e: _detail(
        400, e.code, error="Invalid placeholder_components requested", received=e.received,
        valid_range="1x1 to 9x9"),
    errors.EmptyImage: lambda e: _detail(400, e.code, error="Empty image file"),
    errors.CorruptImage: lambda e: _detail(
        400, e.code, error="Invalid or corrupted image file", details=e.reason),
    errors.ImageTooLarge: lambda e: _detail(
        413, e.code, error="Image dimensions exceed the maximum allowed pixel count",
        max_pixels=e.max_pixels, received_pixels=e.pixels),
    errors.AnalysisTimeout: lambda e: _detail(
        504, e.code, error="Image processing timed out",
        timeout_seconds=_seconds(e.timeout_seconds)),
    errors.EmptyUrl: lambda e: _detail(400, e.code, error="URL cannot be empty"),
    errors.UnsupportedUrlScheme: lambda e: _detail(
        400, e.code, error="Invalid URL scheme",
        detail="URL must start with http:// or https://"),
    errors.UrlNotAllowed: lambda e: _detail(
        400, e.code, error="Invalid URL",
        detail="URLs pointing to private or local network addresses are not allowed"),
    errors.DownloadFailed: lambda e: _detail(
        400, e.code, error="Failed to download image from URL", detail=e.reason, url=e.url),
    errors.DownloadStatus: lambda e: _detail(
        400, e.code, error="Failed to download image from URL", status_code=e.status_code,
        url=e.url),
    errors.DownloadTimeout: lambda e: _detail(
        408, e.code, error="Request timeout while downloading image", url=e.url),
    errors.DownloadTooLarge: lambda e: _detail(
        413, e.code, error=f"Image from URL exceeds maximum allowed size ({_megabytes(e.limit)})",
        max_size_bytes=e.limit, received_size_bytes=e.size),
    errors.DownloadUnsupportedType: lambda e: _detail(
        415, e.code, error="Unsupported image type from URL",
        allowed_types=list(e.allowed), received_type=e.content_type),
    errors.DownloadEmpty: lambda e: _detail(400, e.code, error="Downloaded image file is empty"),
}  # fmt: skip


def renderer(klass: type[errors.ImageInsightsError]) -> _Renderer | None:
    """The renderer of `klass`: its own, else its nearest ancestor's; None for a class with
    none on its way up (the base classes, and InternalError, which is a 500)."""
    for ancestor in klass.__mro__:
        found = _RENDERERS.get(ancestor)
        if found is not None:
            return found
    return None


def render(error: errors.ImageInsightsError) -> ApiError | None:
    """The contract's answer to `error`, or None when it has none (answer it as a 500)."""
    found = renderer(type(error))
    return found(error) if found is not None else None


# --- the web layer's own answers ---------------------------------------------------------

#: The stable codes of the answers below, for the refusal counter's fixed label set.
WEB_CODES = frozenset(
    {"invalid_request", "unsupported_type", "upload_too_large", "internal_error", "not_ready"}
)


def validation_error(problems: list[dict[str, Any]]) -> ApiError:
    """422 in the shape existing clients parse: a list of {type, loc, msg}."""
    return ApiError(422, {"detail": problems}, "invalid_request")


def missing_field(*loc: str | int) -> dict[str, Any]:
    return {"type": "missing", "loc": ["body", *loc], "msg": "Field required"}


def missing_image() -> ApiError:
    return validation_error([missing_field("image")])


def unsupported_type(received_type: str, allowed: tuple[str, ...] = ACCEPTED_TYPES) -> ApiError:
    """415: the upload's part declares a type that is not one of the accepted (`allowed`)."""
    return _detail(415, "unsupported_type", error="Unsupported image type",
                   allowed_types=list(allowed), received_type=received_type)  # fmt: skip


def upload_too_large(received_size: int, max_size: int = MAX_UPLOAD_BYTES) -> ApiError:
    return _detail(413, "upload_too_large",
                   error=f"Image exceeds maximum allowed size ({_megabytes(max_size)})",
                   max_size_bytes=max_size, received_size_bytes=received_size)  # fmt: skip


def internal_error(request_id: str) -> ApiError:
    return ApiError(500, {"error": "Internal server error", "details": request_id},
                    "internal_error")  # fmt: skip


def not_ready(request_id: str) -> ApiError:
    """503 from /ready: this process cannot analyse yet (its Rust core failed its check)."""
    return ApiError(503, {"error": "Service unavailable", "details": request_id}, "not_ready")


def refusal_codes() -> frozenset[str]:
    """Every code an error answer can carry: the library's rendered failures and the web
    layer's own."""
    library = {klass.code for klass in errors.error_classes() if renderer(klass) is not None}
    return frozenset(library) | WEB_CODES
