"""The OpenAPI 3.1 document of the service, built from the same constants the code uses.

A test checks that its paths and methods are exactly the app's routes, and schemathesis
checks live responses against it.
"""

from __future__ import annotations

from typing import Any

from .limits import MAX_UPLOAD_BYTES, TIME_LIMIT_SECONDS
from .options import ACCEPTED_TYPES, VALID_EDGE_MODES, VALID_METRICS
from .pipeline.fields import ALGORITHM, HISTOGRAM_RANGES

_JSON = "application/json"
_UPLOAD_LIMIT = f"{MAX_UPLOAD_BYTES / (1024 * 1024):g} MB"
_TIME_LIMIT = f"{TIME_LIMIT_SECONDS:g} s"
_HEX = "^#[0-9a-f]{6}$"


def _ASKED(metric: str) -> str:
    return f"present when `{metric}` is asked for"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": _ref(schema)}}}


_METRICS_DESCRIPTION = (
    "Comma-separated, case-insensitive metric names; blanks trimmed, empty items ignored. "
    f"Valid: {', '.join(VALID_METRICS)}. Absent, empty or only commas means brightness."
)
_EDGE_DESCRIPTION = (
    f"One of {', '.join(VALID_EDGE_MODES)}, case-insensitive. Absent (or empty): no edge fields."
)

_COMMON_ERRORS: dict[str, Any] = {
    "400": _response(
        "Invalid metrics or edge_mode, empty or undecodable image, or a URL problem",
        "ErrorDetail",
    ),
    "413": _response(f"Image over {_UPLOAD_LIMIT}, or more pixels than MAX_IMAGE_PIXELS", "ErrorDetail"),
    "415": _response("Not image/jpeg or image/png", "ErrorDetail"),
    "422": _response("Missing part or malformed body", "ValidationError"),
    "500": _response("Unexpected error (carries the request id)", "InternalError"),
    "504": _response(f"Analysis did not finish within {_TIME_LIMIT}", "ErrorDetail"),
}


def _analysis_operation(summary: str, request_body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "requestBody": request_body,
        "responses": {"200": _response("The analysis", "AnalysisResult"), **_COMMON_ERRORS},
        **extra,
    }


def build_openapi(version: str) -> dict[str, Any]:
    upload = _analysis_operation(
        "Analyse an uploaded JPEG or PNG",
        {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["image"],
                        "properties": {
                            "image": {
                                "type": "string",
                                "format": "binary",
                                "description": f"JPEG or PNG, at most {MAX_UPLOAD_BYTES} bytes",
                            }
                        },
                    },
                    "encoding": {"image": {"contentType": ", ".join(ACCEPTED_TYPES)}},
                }
            },
        },
        parameters=[
            {
                "name": "metrics",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": _METRICS_DESCRIPTION,
            },
            {
                "name": "edge_mode",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": _EDGE_DESCRIPTION,
            },
        ],
    )
    by_url = _analysis_operation(
        "Analyse an image fetched from a URL",
        {"required": True, "content": {_JSON: {"schema": _ref("UrlRequest")}}},
    )
    by_url["responses"]["408"] = _response(f"Download slower than {_TIME_LIMIT}", "ErrorDetail")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Image Insights API",
            "version": version,
            "description": "Brightness of JPEG and PNG images from Rec. 709 luminance.",
        },
        "paths": {
            "/": {"get": _info_operation("Service information", "ServiceInfo")},
            "/health": {"get": _info_operation("Health check", "ServiceInfo")},
            "/ready": {
                "get": {
                    "summary": "Readiness: answers once the app and its Rust core are loaded",
                    "responses": {
                        "200": _response("Ready to analyse", "Readiness"),
                        "503": _response(
                            "The Rust core failed its check (carries the request id)",
                            "InternalError",
                        ),
                    },
                }
            },
            "/v1/image/analysis": {"post": upload},
            "/v1/image/analysis/url": {"post": by_url},
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1 document"}},
                }
            },
            "/docs": {"get": _html_operation("Swagger UI")},
            "/redoc": {"get": _html_operation("ReDoc")},
            "/ui": {"get": _html_operation("Analysis page: upload an image or give a URL")},
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics, summed over all worker processes",
                    "responses": {
                        "200": {
                            "description": "Prometheus text exposition format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": _schemas()},
    }


def _info_operation(summary: str, schema: str) -> dict[str, Any]:
    return {"summary": summary, "responses": {"200": _response("Healthy", schema)}}


def _html_operation(summary: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "responses": {"200": {"description": "HTML page", "content": {"text/html": {}}}},
    }


def _schemas() -> dict[str, Any]:
    nullable_string = {"type": ["string", "null"]}
    return {
        "ServiceInfo": {
            "type": "object",
            "required": ["service", "version", "status"],
            "properties": {
                "service": {"type": "string", "const": "image-insights-api"},
                "version": {"type": "string"},
                "status": {"type": "string", "const": "healthy"},
            },
        },
        "Readiness": {
            "type": "object",
            "required": ["status", "service", "version"],
            "properties": {
                "status": {"type": "string", "const": "ready"},
                "service": {"type": "string", "const": "image-insights-api"},
                "version": {"type": "string"},
            },
        },
        "UrlRequest": {
            "type": "object",
            "required": ["url"],
            "properties": {
                "url": {"type": "string", "description": "http:// or https:// URL of the image"},
                "metrics": {**nullable_string, "description": _METRICS_DESCRIPTION},
                "edge_mode": {**nullable_string, "description": _EDGE_DESCRIPTION},
            },
        },
        "HistogramBucket": {
            "type": "object",
            "required": ["range", "percent"],
            "properties": {
                "range": {"type": "string", "enum": list(HISTOGRAM_RANGES)},
                "percent": {"type": "number", "minimum": 0, "maximum": 100},
            },
        },
        "AnalysisResult": {
            "type": "object",
            "required": ["width", "height", "algorithm", "cached", "processing_time_ms"],
            "properties": {
                "brightness_score": {"type": "integer", "minimum": 0, "maximum": 100},
                "average_luminance": {"type": "number", "minimum": 0, "maximum": 255},
                "median_luminance": {"type": "number", "minimum": 0, "maximum": 255},
                "histogram": {
                    "type": "array",
                    "items": _ref("HistogramBucket"),
                    "minItems": len(HISTOGRAM_RANGES),
                    "maxItems": len(HISTOGRAM_RANGES),
                },
                "edge_brightness_score": {"type": "integer", "minimum": 0, "maximum": 100},
                "edge_average_luminance": {"type": "number", "minimum": 0, "maximum": 255},
                "edge_mode": {"type": "string", "enum": list(VALID_EDGE_MODES)},
                "contrast_rms": {"type": "number", "minimum": 0, "description": _ASKED("contrast")},
                "luminance_p5": {"type": "number", "minimum": 0, "maximum": 255},
                "luminance_p95": {"type": "number", "minimum": 0, "maximum": 255},
                "dynamic_range": {"type": "number", "minimum": 0, "maximum": 255},
                "sharpness": {"type": "number", "minimum": 0, "description": _ASKED("sharpness")},
                "entropy_bits": {"type": "number", "minimum": 0, "maximum": 8},
                "colorfulness": {"type": ["number", "null"], "minimum": 0},
                "average_color": {"type": ["string", "null"], "pattern": _HEX},
                "dominant_colors": {
                    "type": "array",
                    "maxItems": 5,
                    "items": {
                        "type": "object",
                        "required": ["color", "percent"],
                        "properties": {
                            "color": {"type": "string", "pattern": _HEX},
                            "percent": {"type": "number", "minimum": 0, "maximum": 100},
                        },
                    },
                },
                "edge_colors": {
                    "type": "object",
                    "description": "with `colors` and an edge_mode: the mean colour of each "
                    "side that mode covers (null when all its pixels are transparent)",
                    "properties": {
                        side: {"type": ["string", "null"], "pattern": _HEX}
                        for side in ("left", "right", "top", "bottom")
                    },
                    "additionalProperties": False,
                },
                "orientation": {
                    "type": "integer",
                    "minimum": 2,
                    "maximum": 8,
                    "description": "EXIF orientation, present when not 1; edges and edge "
                    "colours are those of the image as displayed",
                },
                "width": {"type": "integer", "minimum": 1, "description": "original width"},
                "height": {"type": "integer", "minimum": 1, "description": "original height"},
                "algorithm": {"type": "string", "const": ALGORITHM},
                "cached": {"type": "boolean"},
                "processing_time_ms": {"type": "number", "minimum": 0},
            },
        },
        "ErrorDetail": {
            "type": "object",
            "required": ["detail"],
            "properties": {
                "detail": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                }
            },
        },
        "ValidationError": {
            "type": "object",
            "required": ["detail"],
            "properties": {
                "detail": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["type", "loc", "msg"],
                        "properties": {
                            "type": {"type": "string"},
                            "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                            "msg": {"type": "string"},
                        },
                    },
                }
            },
        },
        "InternalError": {
            "type": "object",
            "required": ["error", "details"],
            "properties": {"error": {"type": "string"}, "details": {"type": "string"}},
        },
    }
