"""What the handling of one request learns about it, in one typed place.

The middleware and the resources fill `RequestState` as the request goes; the access log
(app.py) and the counters (monitoring.py) read it once the answer is ready. Falcon makes
one per request (`Request.context_type`)."""

from __future__ import annotations

import falcon


class RequestState(falcon.Context):
    #: The client's X-Request-ID when it is sane, else a fresh one.
    request_id: str = ""
    #: time.perf_counter() when the request reached the app.
    started: float = 0.0
    #: Width and height of the analysed image, once known.
    image_size: tuple[int, int] | None = None
    #: Whether the result came from the cache (None: no lookup was made).
    cache_hit: bool | None = None
    #: Bytes of image received (uploaded or downloaded), once known.
    upload_bytes: int | None = None
    #: The stable code of the error answer, when the request was refused.
    refusal: str | None = None


class Request(falcon.Request):
    """Falcon's request, with a typed `context`."""

    context_type = RequestState
    context: RequestState
