"""The service's limits and fixed sizes, each defined once. A leaf module: it imports
nothing, so settings can be read without loading Pillow or the Rust core."""

#: Default of MAX_IMAGE_PIXELS: the largest width x height accepted.
DEFAULT_MAX_PIXELS = 50_000_000
#: The longer side of the image the metrics are computed on.
ANALYSIS_MAX_SIDE = 512
#: The largest upload, and the largest download from a URL.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: Analysis and download each have this long before the request is answered 504 / 408.
TIME_LIMIT_SECONDS = 2.0
