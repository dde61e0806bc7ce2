"""The typed failures of the analysis pipeline. The HTTP layer maps each to the contract."""

from __future__ import annotations


class ImageInsightsError(Exception):
    """Base class of every error the pipeline raises on purpose."""


class InvalidMetrics(ImageInsightsError):
    """Unknown metric names were requested."""

    def __init__(self, invalid: list[str]) -> None:
        super().__init__(f"invalid metrics: {', '.join(invalid)}")
        self.invalid = invalid


class InvalidEdgeMode(ImageInsightsError):
    """An unknown edge mode was requested; `received` is the value as sent."""

    def __init__(self, received: str) -> None:
        super().__init__(f"invalid edge_mode: {received!r}")
        self.received = received


class EmptyImage(ImageInsightsError):
    """The image had no bytes at all."""

    def __init__(self) -> None:
        super().__init__("empty image")


class CorruptImage(ImageInsightsError):
    """The bytes are not a JPEG or PNG that decodes; `reason` says why, briefly."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ImageTooLarge(ImageInsightsError):
    """The header declares more pixels than allowed (a decompression-bomb guard)."""

    def __init__(self, pixels: int, max_pixels: int) -> None:
        super().__init__(f"{pixels} pixels exceed the limit of {max_pixels}")
        self.pixels = pixels
        self.max_pixels = max_pixels


class AnalysisTimeout(ImageInsightsError):
    """The analysis ran out of the time it was given (the service's 2-second limit)."""

    def __init__(self) -> None:
        super().__init__("the analysis ran out of time")


class InternalError(ImageInsightsError):
    """A bug in the core (a panic), contained: this image fails, the process goes on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
