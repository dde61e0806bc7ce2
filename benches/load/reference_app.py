"""The naive reference pipeline behind the same HTTP layer, for the wrk comparison: full
decode, Lanczos to 512 px, NumPy float64 statistics (tests/support/reference.py). No cache,
no limits beyond what the benchmark needs."""

from __future__ import annotations

import time

import falcon
import falcon.media
import orjson

from tests.support.reference import reference_analyze


class ReferenceAnalysis:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        started = time.perf_counter()
        data = b""
        for part in req.get_media():
            if part.name == "image":
                data = part.stream.read()
                break
        edge_mode = req.get_param("edge_mode")
        result = reference_analyze(data, req.get_param("metrics") or "brightness", edge_mode)
        result["cached"] = False
        result["processing_time_ms"] = round((time.perf_counter() - started) * 1000, 2)
        resp.media = result


class Health:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "healthy"}


app = falcon.App()
_json = falcon.media.JSONHandler(dumps=orjson.dumps, loads=orjson.loads)
app.resp_options.media_handlers[falcon.MEDIA_JSON] = _json
_multipart = falcon.media.MultipartFormHandler()
_multipart.parse_options.max_body_part_buffer_size = 5 * 1024 * 1024
app.req_options.media_handlers[falcon.MEDIA_MULTIPART] = _multipart
app.add_route("/v1/image/analysis", ReferenceAnalysis())
app.add_route("/health", Health())
