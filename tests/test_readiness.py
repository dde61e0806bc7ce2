"""GET /ready: 200 once the app and its Rust core work in this process, 503 while they do not."""

from __future__ import annotations

import falcon.testing
import pytest

import image_insights
from image_insights.app import create_app
from image_insights.config import Settings
from image_insights.resources import Ready, check_core


def test_ready_once_the_core_has_run(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/ready")
    assert result.status_code == 200
    assert result.json == {
        "status": "ready",
        "service": "image-insights-api",
        "version": image_insights.__version__,
    }
    assert result.headers["content-type"].startswith("application/json")


def test_the_real_core_passes_its_check() -> None:
    check_core()


def _broken_core() -> None:
    raise ImportError("image_insights._core: undefined symbol")


def test_not_ready_while_the_core_fails(settings: Settings) -> None:
    app = create_app(settings)
    app.add_route("/ready", Ready(image_insights.__version__, check=_broken_core))
    client = falcon.testing.TestClient(app)
    result = client.simulate_get("/ready", headers={"X-Request-ID": "ready-1"})
    assert result.status_code == 503
    assert result.json == {"error": "Service unavailable", "details": "ready-1"}
    assert "undefined symbol" not in result.text


def test_a_failed_check_is_tried_again_and_a_passed_one_is_not(settings: Settings) -> None:
    outcomes = [ImportError("not yet"), None, None]
    calls = []

    def flaky_core() -> None:
        calls.append(1)
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    app = create_app(settings)
    app.add_route("/ready", Ready(image_insights.__version__, check=flaky_core))
    client = falcon.testing.TestClient(app)
    assert [client.simulate_get("/ready").status_code for _ in range(3)] == [503, 200, 200]
    assert len(calls) == 2


@pytest.mark.parametrize("health_path", ["/health", "/"])
def test_liveness_answers_whatever_the_core(settings: Settings, health_path: str) -> None:
    app = create_app(settings)
    app.add_route("/ready", Ready(image_insights.__version__, check=_broken_core))
    client = falcon.testing.TestClient(app)
    assert client.simulate_get("/ready").status_code == 503
    assert client.simulate_get(health_path).status_code == 200
