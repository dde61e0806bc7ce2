"""Atheris harness over the upload endpoint through Falcon's TestClient: the fuzzer's bytes
become the image part, its declared type and the query, or (one input in four) the whole
request body under a fuzzed Content-Type. Every answer must be one of the contract's statuses
with a JSON body; a 500 or an exception out of the app is a crash."""

from __future__ import annotations

import dataclasses
import json
import sys
import warnings

import atheris

with atheris.instrument_imports():
    import falcon.testing

    from image_insights.app import create_app
    from image_insights.config import Settings

warnings.simplefilter("ignore")
CLIENT = falcon.testing.TestClient(
    create_app(
        dataclasses.replace(
            Settings(), cache_enabled=False, detailed_logging=False, max_image_pixels=4_000_000
        )
    )
)
STATUSES = {200, 400, 413, 415, 422}
TYPES = [
    "image/png", "image/jpeg", "IMAGE/PNG; q=1", "image/webp", "image/avif", "image/heic",
    "image/heif", "image/gif", "image/tiff", "image/bmp", "", "text/plain",
]


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    raw_body = fdp.ConsumeIntInRange(0, 3) == 0
    params = {"metrics": fdp.ConsumeUnicodeNoSurrogates(24)}
    if fdp.ConsumeBool():
        params["edge_mode"] = fdp.ConsumeUnicodeNoSurrogates(12)
    if raw_body:
        content_type = fdp.ConsumeUnicodeNoSurrogates(80)
        body = fdp.ConsumeBytes(fdp.remaining_bytes())
    else:
        content_type = "multipart/form-data; boundary=fuzzboundary"
        declared = TYPES[fdp.ConsumeIntInRange(0, len(TYPES) - 1)]
        image = fdp.ConsumeBytes(fdp.remaining_bytes())
        body = (
            b"--fuzzboundary\r\nContent-Disposition: form-data; name=\"image\"; filename=\"f\"\r\n"
            + f"Content-Type: {declared}\r\n\r\n".encode()
            + image
            + b"\r\n--fuzzboundary--\r\n"
        )
    try:
        headers = {"Content-Type": content_type.encode("latin-1").decode("latin-1")}
    except UnicodeEncodeError:
        headers = {"Content-Type": "application/octet-stream"}
    result = CLIENT.simulate_post(
        "/v1/image/analysis", body=body, headers=headers, params=params
    )
    if result.status_code not in STATUSES:
        raise AssertionError(f"status {result.status_code}: {result.text[:300]}")
    payload = json.loads(result.text)
    if result.status_code != 200 and "detail" not in payload:
        raise AssertionError(f"error without detail: {result.text[:300]}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
