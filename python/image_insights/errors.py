"""Every failure the library raises on purpose, as one hierarchy.

Each class has a `code`: a stable, machine-readable reason ("corrupt_image",
"download_timeout", ...) for programs, logs and the service's metrics; the message is for
people and may change. The web layer maps each class (and so each subclass) to the
contract's answer (`http_errors.render`); nothing here knows about HTTP.

    ImageInsightsError
    ├── InvalidMetrics, InvalidEdgeMode,        what was asked for
    │   InvalidRegions, InvalidPlaceholderComponents
    ├── EmptyImage, CorruptImage, ImageTooLarge the image itself
    ├── UnreadableFile, InvalidArray            a file or an array given instead of bytes
    ├── AnalysisTimeout, InternalError          the analysis
    └── DownloadError                           fetching an image from a URL
        ├── InvalidUrl: EmptyUrl, UnsupportedUrlScheme, UrlNotAllowed
        ├── DownloadFailed: DownloadBusy
        ├── DownloadStatus, DownloadTimeout
        └── DownloadTooLarge, DownloadUnsupportedType, DownloadEmpty
"""

from __future__ import annotations

from typing import Any, ClassVar


def _rebuild(klass: type[ImageInsightsError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = klass.__new__(klass)
    error.args = args
    error.__dict__.update(state)
    return error


class ImageInsightsError(Exception):
    """Base class of every error the library raises on purpose. Every error pickles (a
    result analysed in another process, by Dask say, keeps its error as it was)."""

    code: ClassVar[str] = "error"

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own pickling calls the class with `args` (the message), which the
        # subclasses' constructors do not take.
        return _rebuild, (type(self), self.args, self.__dict__)


class InvalidMetrics(ImageInsightsError):
    """Unknown metric names were requested."""

    code = "invalid_metrics"

    def __init__(self, invalid: list[str]) -> None:
        super().__init__(f"invalid metrics: {', '.join(invalid)}")
        self.invalid = invalid


class InvalidEdgeMode(ImageInsightsError):
    """An unknown edge mode was requested; `received` is the value as sent."""

    code = "invalid_edge_mode"

    def __init__(self, received: str) -> None:
        super().__init__(f"invalid edge_mode: {received!r}")
        self.received = received


class InvalidRegions(ImageInsightsError):
    """Regions that are not regions of the image: `invalid` lists the items as sent,
    `reason` says what is wrong with the first."""

    code = "invalid_regions"

    def __init__(self, invalid: list[str], reason: str) -> None:
        super().__init__(f"invalid regions ({reason}): {'; '.join(invalid)}")
        self.invalid = invalid
        self.reason = reason


class InvalidPlaceholderComponents(ImageInsightsError):
    """BlurHash components outside 1x1 to 9x9, or not written XxY; `received` as sent."""

    code = "invalid_placeholder_components"

    def __init__(self, received: str) -> None:
        super().__init__(f"invalid placeholder_components: {received!r}")
        self.received = received


class EmptyImage(ImageInsightsError):
    """The image had no bytes at all."""

    code = "empty_image"

    def __init__(self) -> None:
        super().__init__("empty image")


class CorruptImage(ImageInsightsError):
    """The bytes are not a JPEG or PNG that decodes; `reason` says why, briefly."""

    code = "corrupt_image"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ImageTooLarge(ImageInsightsError):
    """The header declares more pixels than allowed (a decompression-bomb guard)."""

    code = "too_many_pixels"

    def __init__(self, pixels: int, max_pixels: int) -> None:
        super().__init__(f"{pixels} pixels exceed the limit of {max_pixels}")
        self.pixels = pixels
        self.max_pixels = max_pixels


class UnreadableFile(ImageInsightsError):
    """A file could not be read (missing, a folder, no permission...); `reason` says why in
    the system's words."""

    code = "unreadable_file"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class InvalidArray(ImageInsightsError, ValueError):
    """An array of pixels whose shape or element type cannot be an image: `reason` says
    what was received and what is accepted."""

    code = "invalid_array"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AnalysisTimeout(ImageInsightsError):
    """The analysis ran out of the time it was given; its work has stopped (or, for the
    Pillow fallback, is no longer waited for)."""

    code = "analysis_timeout"

    def __init__(self, timeout_seconds: float) -> None:
        super().__init__(f"the analysis took more than {timeout_seconds:g} s")
        self.timeout_seconds = timeout_seconds


class InternalError(ImageInsightsError):
    """A bug in the core (a panic), contained: this image fails, the process goes on."""

    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)


# --- downloads ------------------------------------------------------------------------


class DownloadError(ImageInsightsError):
    """An image could not be fetched from a URL. `url` is the part of it that may be shown
    and logged: scheme://host[:port], or "" when the URL was refused before it was read."""

    code = "download_error"

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class InvalidUrl(DownloadError):
    """The URL was refused before any connection."""

    code = "invalid_url"


class EmptyUrl(InvalidUrl):
    code = "url_empty"

    def __init__(self) -> None:
        super().__init__("the URL is empty")


class UnsupportedUrlScheme(InvalidUrl):
    """Not http:// or https:// (the URL asked for, or a redirect)."""

    code = "url_scheme"

    def __init__(self) -> None:
        super().__init__("the URL must start with http:// or https://")


class UrlNotAllowed(InvalidUrl):
    """The host is, or resolves to, a private, local or otherwise non-public address."""

    code = "url_not_allowed"

    def __init__(self) -> None:
        super().__init__("the URL points to a private or local network address")


class DownloadFailed(DownloadError):
    """The download did not succeed; `reason` says why, briefly (no URL in it)."""

    code = "download_failed"

    def __init__(self, reason: str, url: str) -> None:
        super().__init__(reason, url)
        self.reason = reason


class DownloadBusy(DownloadFailed):
    """Every download (or name lookup) this process runs at once is taken: refused at once
    rather than queued behind slow origins."""

    code = "download_busy"


class DownloadStatus(DownloadError):
    """The origin answered with a status other than 200 (or a followed redirect)."""

    code = "download_status"

    def __init__(self, status_code: int, url: str) -> None:
        super().__init__(f"the origin answered {status_code}", url)
        self.status_code = status_code


class DownloadTimeout(DownloadError):
    """The download as a whole, from the name lookup to the last byte, took too long."""

    code = "download_timeout"

    def __init__(self, url: str) -> None:
        super().__init__("the download took too long", url)


class DownloadTooLarge(DownloadError):
    """The image is larger than allowed: `size` is what was declared or read so far."""

    code = "download_too_large"

    def __init__(self, size: int, limit: int, url: str) -> None:
        super().__init__(f"the image has more than {limit} bytes", url)
        self.size = size
        self.limit = limit


class DownloadUnsupportedType(DownloadError):
    """The origin's Content-Type is not one of the accepted image types (`allowed`)."""

    code = "download_unsupported_type"

    def __init__(
        self, content_type: str, url: str, allowed: tuple[str, ...] = ("image/jpeg", "image/png")
    ) -> None:
        super().__init__(f"the origin sent {content_type or 'no content type'}", url)
        self.content_type = content_type
        self.allowed = allowed


class DownloadEmpty(DownloadError):
    """The origin answered with an empty body."""

    code = "download_empty"

    def __init__(self, url: str) -> None:
        super().__init__("the downloaded image is empty", url)


def error_classes() -> list[type[ImageInsightsError]]:
    """Every class of the hierarchy, the base first."""
    found: list[type[ImageInsightsError]] = []
    pending: list[type[ImageInsightsError]] = [ImageInsightsError]
    while pending:
        klass = pending.pop(0)
        found.append(klass)
        pending.extend(klass.__subclasses__())
    return found
