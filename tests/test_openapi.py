"""The OpenAPI document against the live routes, and schemathesis against the live server."""

from __future__ import annotations

from typing import Any

import falcon
import falcon.testing
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from image_insights.app import create_app
from image_insights.config import Settings
from tests.support.live_server import LiveServer
from tests.support.origin import Origin


def routed_operations(app: falcon.App) -> set[tuple[str, str]]:
    """(path, method) for every responder the app's router knows, besides OPTIONS."""
    found = set()
    for node in app._router._roots:  # the compiled router's public tree is not exposed

        def walk(node: Any) -> None:
            if node.resource is not None and node.uri_template:
                for method, responder in node.method_map.items():
                    if method != "OPTIONS" and not getattr(responder, "__name__", "").startswith(
                        "method_not_allowed"
                    ):
                        found.add((node.uri_template, method.lower()))
            for child in node.children:
                walk(child)

        walk(node)
    return found


def test_document_lists_exactly_the_routes(client: falcon.testing.TestClient) -> None:
    document = client.simulate_get("/openapi.json").json
    assert document["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert documented == routed_operations(create_app(Settings()))


def test_every_reference_resolves(client: falcon.testing.TestClient) -> None:
    document = client.simulate_get("/openapi.json").json

    def refs(value: Any) -> list[str]:
        if isinstance(value, dict):
            return [r for v in value.values() for r in refs(v)] + (
                [value["$ref"]] if "$ref" in value else []
            )
        if isinstance(value, list):
            return [r for v in value for r in refs(v)]
        return []

    for ref in refs(document["paths"]):
        name = ref.removeprefix("#/components/schemas/")
        assert name in document["components"]["schemas"], ref


@pytest.mark.integration
def test_live_server_conforms(live_server: LiveServer, origin_server: Origin) -> None:
    """Every operation, with generated valid and invalid inputs: no 5xx, and every response
    matches the document (status, content type, schema)."""
    schema = schemathesis.openapi.from_url(f"{live_server.base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {"POST /v1/image/analysis", "POST /v1/image/analysis/url", "GET /health"} <= labels

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def conforms(case: Any) -> None:
            # Generated URLs must not reach the internet: every http(s) URL is pointed at
            # the allowlisted local origin; other strings (empty, other schemes) go as made.
            if isinstance(case.body, dict) and isinstance(case.body.get("url"), str):
                if case.body["url"].strip().lower().startswith(("http://", "https://")):
                    case.body["url"] = f"{origin_server.base}/image.png"
            case.call_and_validate(
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ]
            )

        conforms()
