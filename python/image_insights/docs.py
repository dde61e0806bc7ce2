"""The OpenAPI document and the two documentation pages (assets served by the app itself)."""

from __future__ import annotations

from pathlib import Path

import falcon
import orjson

from .openapi import build_openapi

_PAGES = Path(__file__).parent / "static"


class OpenApiDocument:
    def __init__(self, version: str, formats: tuple[str, ...]) -> None:
        self._body = orjson.dumps(build_openapi(version, formats))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self._body


class DocsPage:
    """A static HTML page from static/, read once."""

    def __init__(self, filename: str) -> None:
        self._html = (_PAGES / filename).read_bytes()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.data = self._html
