"""Shared fixtures: settings, a Falcon test client, generated images."""

from __future__ import annotations

import dataclasses

import falcon.testing
import pytest
from http_helpers import encode, gradient

from image_insights.app import create_app
from image_insights.config import Settings


@pytest.fixture
def settings() -> Settings:
    return dataclasses.replace(Settings(), detailed_logging=False)


@pytest.fixture
def client(settings: Settings) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings))


@pytest.fixture(scope="session")
def png_bytes() -> bytes:
    return encode(gradient(64, 48), "PNG")


@pytest.fixture(scope="session")
def jpeg_bytes() -> bytes:
    return encode(gradient(640, 400), "JPEG", quality=90)
