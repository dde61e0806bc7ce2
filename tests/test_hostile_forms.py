"""Hostile request bodies (Falcon's TestClient): abused multipart forms on the upload
endpoint, which have no image part or whose image part is read as Falcon reads it, and
abused JSON on the URL endpoint, which gets the contract's validation errors. Each gets the
contract's status and body.

Everything is generated here; nothing is downloaded or written to disk.
"""

from __future__ import annotations

import dataclasses
import json

import falcon.testing
import pytest

import image_insights
from image_insights.app import create_app
from image_insights.config import Settings
from tests.support.hostile import (
    BY_URL,
    EMPTY,
    END,
    FORM,
    JSON_ABUSE,
    MISSING_IMAGE,
    MULTIPART_ABUSE,
    NOT_AN_IMAGE,
    PNG,
    UPLOAD,
    assert_corrupt,
    part,
)


# --- multipart abuse -------------------------------------------------------------------------


def raw_post(
    client: falcon.testing.TestClient, body: bytes, content_type: str | None
) -> falcon.testing.Result:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return client.simulate_post(UPLOAD, body=body, headers=headers)


@pytest.mark.parametrize("name", MULTIPART_ABUSE)
def test_multipart_abuse_has_no_image_part(
    uncached_client: falcon.testing.TestClient, name: str
) -> None:
    body, content_type = MULTIPART_ABUSE[name]
    result = raw_post(uncached_client, body, content_type)
    assert result.status_code == 422
    assert result.json == MISSING_IMAGE


def test_unterminated_form(uncached_client: falcon.testing.TestClient) -> None:
    """The closing boundary never comes: the image part runs to the end of the body and is
    taken as it is (Falcon's reading); cut inside the image, it is a corrupt image."""
    whole = raw_post(uncached_client, part("image", PNG)[:-2], FORM)
    assert whole.status_code == 200
    assert whole.json["average_luminance"] == image_insights.analyze(PNG)["average_luminance"]
    assert_corrupt(raw_post(uncached_client, part("image", PNG)[:-200], FORM))


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/x-www-form-urlencoded", "text/plain"]
)
def test_other_media_types_have_no_image_part(
    uncached_client: falcon.testing.TestClient, content_type: str
) -> None:
    """Such a body is a form without an image part, though Falcon has handlers of its own
    for JSON and URL-encoded bodies, whose "parts" would be strings."""
    for body in (b'{"image": "x"}', b'["image"]', b"image=x&b=2", b""):
        result = raw_post(uncached_client, body, content_type)
        assert (result.status_code, result.json) == (422, MISSING_IMAGE), (content_type, body)


@pytest.mark.parametrize("before", [0, 63, 64, 200, 999])
def test_hundreds_of_parts_before_the_image(
    uncached_client: falcon.testing.TestClient, before: int
) -> None:
    """Falcon's default of 64 body parts would make an image after the 64th part 'missing'
    (422); forms of up to 1000 parts are read."""
    fields = b"".join(part(f"f{i}", b"value", "text/plain") for i in range(before))
    result = raw_post(uncached_client, fields + part("image", PNG) + END, FORM)
    assert result.status_code == 200, result.text
    assert result.json["average_luminance"] == image_insights.analyze(PNG)["average_luminance"]


def test_hundreds_of_parts_after_the_image(uncached_client: falcon.testing.TestClient) -> None:
    fields = b"".join(part(f"f{i}", b"value", "text/plain") for i in range(2000))
    result = raw_post(uncached_client, part("image", PNG) + fields + END, FORM)
    assert result.status_code == 200


@pytest.mark.parametrize(
    "first, second, status",
    [(PNG, b"garbage", 200), (b"garbage", PNG, 400), (b"", PNG, 400)],
    ids=["good-first", "bad-first", "empty-first"],
)
def test_two_image_parts_first_wins(
    uncached_client: falcon.testing.TestClient, first: bytes, second: bytes, status: int
) -> None:
    result = raw_post(uncached_client, part("image", first) + part("image", second) + END, FORM)
    assert result.status_code == status
    if status == 400:
        assert result.json in (NOT_AN_IMAGE, EMPTY)


def test_image_part_with_a_huge_filename(uncached_client: falcon.testing.TestClient) -> None:
    body = (
        b'--bnd\r\nContent-Disposition: form-data; name="image"; filename="' + b"a" * 100_000
        + b'"\r\nContent-Type: image/png\r\n\r\n' + PNG + b"\r\n" + END
    )  # fmt: skip
    result = raw_post(uncached_client, body, FORM)
    # A part header line over Falcon's limit is a malformed form: no image part.
    assert result.status_code == 422 and result.json == MISSING_IMAGE


# --- JSON abuse on the URL endpoint ----------------------------------------------------------


@pytest.fixture
def url_client(settings: Settings) -> falcon.testing.TestClient:
    """Resolves nothing, so no request leaves the machine, not even a DNS query."""

    def no_dns(host: str, port: int) -> list[str]:
        raise OSError("resolution disabled in tests")

    return falcon.testing.TestClient(create_app(dataclasses.replace(settings, resolver=no_dns)))


def post_json(client: falcon.testing.TestClient, body: bytes) -> falcon.testing.Result:
    return client.simulate_post(BY_URL, body=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("name", JSON_ABUSE)
def test_json_abuse(url_client: falcon.testing.TestClient, name: str) -> None:
    body, expected = JSON_ABUSE[name]
    result = post_json(url_client, body)
    assert result.status_code == 422
    assert result.json == expected


def test_json_huge_strings_within_the_body_limit(url_client: falcon.testing.TestClient) -> None:
    huge_metrics = post_json(url_client, json.dumps({"url": "http://x", "metrics": "a," * 20_000}).encode())
    assert huge_metrics.status_code == 400
    assert huge_metrics.json["detail"]["invalid_metrics"] == ["a"] * 20_000
    huge_mode = post_json(url_client, json.dumps({"url": "http://x", "edge_mode": "b" * 60_000}).encode())
    assert huge_mode.status_code == 400
    assert huge_mode.json["detail"]["received"] == "b" * 60_000
    huge_host = post_json(url_client, json.dumps({"url": "http://" + "a" * 60_000 + "/p?q"}).encode())
    assert huge_host.status_code == 400
    assert huge_host.json["detail"]["error"] == "Failed to download image from URL"
    assert "/p" not in huge_host.json["detail"]["url"]
    huge_scheme = post_json(url_client, json.dumps({"url": "gopher://" + "a" * 60_000}).encode())
    assert huge_scheme.json == {"detail": {"error": "Invalid URL scheme",
                                           "detail": "URL must start with http:// or https://"}}  # fmt: skip


def test_json_duplicate_keys_last_wins(url_client: falcon.testing.TestClient) -> None:
    result = post_json(url_client, b'{"url": 5, "url": "  "}')
    assert result.status_code == 400
    assert result.json == {"detail": {"error": "URL cannot be empty"}}
