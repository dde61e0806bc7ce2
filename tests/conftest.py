"""Shared fixtures: settings, Falcon test clients (with the cache and without), generated
images, the local origin server and the real service."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import falcon.testing
import pytest

from image_insights.app import create_app
from image_insights.config import Settings
from tests.support.http_helpers import encode, gradient
from tests.support.live_server import LiveServer, running_service
from tests.support.origin import Origin, running_origin

# The checks of an answer in tests/support/hostile.py assert as a test does; pytest rewrites
# them so that a failure shows the values compared.
pytest.register_assert_rewrite("tests.support.hostile")


@pytest.fixture
def settings() -> Settings:
    return dataclasses.replace(Settings(), detailed_logging=False)


@pytest.fixture
def client(settings: Settings) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings))


@pytest.fixture
def uncached_client(settings: Settings) -> falcon.testing.TestClient:
    """A Falcon test client with the cache off: every answer is computed, so the same bytes
    can be sent again."""
    return falcon.testing.TestClient(
        create_app(dataclasses.replace(settings, cache_enabled=False))
    )


@pytest.fixture(scope="session")
def png_bytes() -> bytes:
    return encode(gradient(64, 48), "PNG")


@pytest.fixture(scope="session")
def jpeg_bytes() -> bytes:
    return encode(gradient(640, 400), "JPEG", quality=90)


@pytest.fixture(scope="session")
def origin_server(png_bytes: bytes, jpeg_bytes: bytes) -> Iterator[Origin]:
    with running_origin(png_bytes, jpeg_bytes) as origin:
        yield origin


@pytest.fixture(scope="session")
def live_server(
    origin_server: Origin, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The real service under gunicorn, allowed to fetch from the local origin server."""
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {"URL_FETCH_ALLOWLIST": f"127.0.0.1:{origin_server.port}", "CACHE_ENABLED": "true"}
    with running_service(env, log_path) as server:
        server.log_path = log_path  # type: ignore[attr-defined]
        yield server


@pytest.fixture(scope="session")
def uncached_service(origin_server: Origin) -> Iterator[LiveServer]:
    """The real service under gunicorn with the cache off (every answer computed, so two
    requests can be compared), allowed to fetch from the local origin server."""
    env = {"URL_FETCH_ALLOWLIST": f"127.0.0.1:{origin_server.port}", "CACHE_ENABLED": "false",
           "ENABLE_DETAILED_LOGGING": "false"}  # fmt: skip
    with running_service(env) as server:
        yield server
