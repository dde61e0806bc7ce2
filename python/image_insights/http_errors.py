"""Every error body of the HTTP contract, built in one place.

`ApiError` carries a status and the exact JSON body; the app renders it as is.
"""

from __future__ import annotations

from typing import Any

from .options import VALID_EDGE_MODES, VALID_METRICS

ALLOWED_TYPES: tuple[str, ...] = ("image/jpeg", "image/png")


class ApiError(Exception):
    """An answer other than 200, with its exact body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _detail(status: int, **detail: Any) -> ApiError:
    return ApiError(status, {"detail": detail})


def validation_error(errors: list[dict[str, Any]]) -> ApiError:
    """422 in the shape existing clients parse: a list of {type, loc, msg}."""
    return ApiError(422, {"detail": errors})


def missing_field(*loc: str | int) -> dict[str, Any]:
    return {"type": "missing", "loc": ["body", *loc], "msg": "Field required"}


def missing_image() -> ApiError:
    return validation_error([missing_field("image")])


def invalid_metrics(invalid: list[str]) -> ApiError:
    return _detail(
        400,
        error="Invalid metrics requested",
        invalid_metrics=invalid,
        valid_metrics=list(VALID_METRICS),
    )


def invalid_edge_mode(received: str) -> ApiError:
    return _detail(
        400,
        error="Invalid edge_mode requested",
        received=received,
        valid_modes=list(VALID_EDGE_MODES),
    )


def unsupported_type(received_type: str, *, from_url: bool = False) -> ApiError:
    error = "Unsupported image type from URL" if from_url else "Unsupported image type"
    return _detail(
        415, error=error, allowed_types=list(ALLOWED_TYPES), received_type=received_type
    )


def too_large(received_size: int, max_size: int, *, from_url: bool = False) -> ApiError:
    error = (
        "Image from URL exceeds maximum allowed size (5MB)"
        if from_url
        else "Image exceeds maximum allowed size (5MB)"
    )
    return _detail(413, error=error, max_size_bytes=max_size, received_size_bytes=received_size)


def empty_image(*, from_url: bool = False) -> ApiError:
    return _detail(400, error="Downloaded image file is empty" if from_url else "Empty image file")


def corrupt_image(reason: str) -> ApiError:
    return _detail(400, error="Invalid or corrupted image file", details=reason)


def too_many_pixels(pixels: int, max_pixels: int) -> ApiError:
    return _detail(
        413,
        error="Image dimensions exceed the maximum allowed pixel count",
        max_pixels=max_pixels,
        received_pixels=pixels,
    )


def url_empty() -> ApiError:
    return _detail(400, error="URL cannot be empty")


def url_bad_scheme() -> ApiError:
    return _detail(
        400, error="Invalid URL scheme", detail="URL must start with http:// or https://"
    )


def url_not_allowed() -> ApiError:
    return _detail(
        400,
        error="Invalid URL",
        detail="URLs pointing to private or local network addresses are not allowed",
    )


def download_status(status_code: int, redacted_url: str) -> ApiError:
    return _detail(
        400, error="Failed to download image from URL", status_code=status_code, url=redacted_url
    )


def download_failed(reason: str, redacted_url: str) -> ApiError:
    return _detail(400, error="Failed to download image from URL", detail=reason, url=redacted_url)


def download_timeout(redacted_url: str) -> ApiError:
    return _detail(408, error="Request timeout while downloading image", url=redacted_url)


def processing_timeout(timeout_seconds: float) -> ApiError:
    seconds: float = int(timeout_seconds) if timeout_seconds.is_integer() else timeout_seconds
    return _detail(504, error="Image processing timed out", timeout_seconds=seconds)


def internal_error(request_id: str) -> ApiError:
    return ApiError(500, {"error": "Internal server error", "details": request_id})


def not_ready(request_id: str) -> ApiError:
    """503 from /ready: this process cannot analyse yet (its Rust core failed its check)."""
    return ApiError(503, {"error": "Service unavailable", "details": request_id})
