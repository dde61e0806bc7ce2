"""The OpenAPI 3.1 document of the service, built from the same constants the code uses.

A test checks that its paths and methods are exactly the app's routes, and schemathesis
checks live responses against it.
"""

from __future__ import annotations

from typing import Any

from .limits import MAX_UPLOAD_BYTES, TIME_LIMIT_SECONDS
from .options import (
    FORMATS,
    MAX_REGIONS,
    REGION_FORMS,
    STRIPS,
    VALID_EDGE_MODES,
    VALID_METRICS,
    describe_formats,
    media_types,
)
from .pipeline.fields import ALGORITHM, HISTOGRAM_RANGES

_JSON = "application/json"
_UPLOAD_LIMIT = f"{MAX_UPLOAD_BYTES / (1024 * 1024):g} MB"
_TIME_LIMIT = f"{TIME_LIMIT_SECONDS:g} s"
_HEX = "^#[0-9a-f]{6}$"


def _ASKED(metric: str) -> str:
    return f"present when `{metric}` is asked for"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _query(name: str, description: str) -> dict[str, Any]:
    """An optional string query parameter."""
    return {
        "name": name, "in": "query", "required": False, "schema": {"type": "string"},
        "description": description,
    }  # fmt: skip


def _response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": _ref(schema)}}}


_METRICS_DESCRIPTION = (
    "Comma-separated, case-insensitive metric names; blanks trimmed, empty items ignored. "
    f"Valid: {', '.join(VALID_METRICS)}. Absent, empty or only commas means brightness."
)
_EDGE_DESCRIPTION = (
    f"One of {', '.join(VALID_EDGE_MODES)}, case-insensitive. Absent (or empty): no edge fields."
)

_REGIONS_DESCRIPTION = (
    f"Up to {MAX_REGIONS} regions of the upright image (after the EXIF orientation), "
    "separated by ';', each measured with the metrics asked for: a strip "
    f"({', '.join(STRIPS)}) with an optional size in percent (`bottom:25`; default "
    f"{STRIPS['top']:g} for strips, {STRIPS['center']:g} for center), or a rectangle `x,y,w,h` "
    "in relative coordinates (0-1, x + w and y + h at most 1); each optionally named "
    "(`caption=0.1,0.7,0.8,0.2`; default: the strip's name or region-N). A pixel of the "
    "analysis image belongs to a region when its centre lies inside. Forms: "
    f"{', '.join(REGION_FORMS)}."
)
_COMPONENTS_DESCRIPTION = (
    "BlurHash components XxY of the `placeholder` metric, each 1-9 (default 4x3)."
)

_COMMON_ERRORS: dict[str, Any] = {
    "400": _response(
        "Invalid metrics or edge_mode, empty or undecodable image, or a URL problem",
        "ErrorDetail",
    ),
    "413": _response(f"Image over {_UPLOAD_LIMIT}, or more pixels than MAX_IMAGE_PIXELS", "ErrorDetail"),
    "415": _response("Not one of the accepted image types", "ErrorDetail"),
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


def build_openapi(version: str, formats: tuple[str, ...] = FORMATS) -> dict[str, Any]:
    """The OpenAPI 3.1 document of a service accepting `formats`."""
    upload = _analysis_operation(
        "Analyse an uploaded image",
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
                                "description": f"{describe_formats(formats)[2:]} (recognised "
                                f"by its bytes), at most {MAX_UPLOAD_BYTES} bytes",
                            }
                        },
                    },
                    "encoding": {"image": {"contentType": ", ".join(media_types(formats))}},
                }
            },
        },
        parameters=[
            _query("metrics", _METRICS_DESCRIPTION),
            _query("edge_mode", _EDGE_DESCRIPTION),
            _query("regions", _REGIONS_DESCRIPTION),
            _query("placeholder_components", _COMPONENTS_DESCRIPTION),
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
    # The fields of the metrics, the whole image's and each region's.
    metric_fields: dict[str, Any] = {
        "brightness_score": {"type": "integer", "minimum": 0, "maximum": 100},
        "average_luminance": {"type": "number", "minimum": 0, "maximum": 255},
        "median_luminance": {"type": "number", "minimum": 0, "maximum": 255},
        "histogram": {
            "type": "array",
            "items": _ref("HistogramBucket"),
            "minItems": len(HISTOGRAM_RANGES),
            "maxItems": len(HISTOGRAM_RANGES),
        },
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
        "text": {**_ref("TextAdvice"), "description": _ASKED("text")},
    }
    contrast_pair = {
        "type": "object",
        "required": ["contrast", "worst_contrast", "apca", "worst_apca"],
        "properties": {
            "contrast": {"type": "number", "minimum": 1, "maximum": 21,
                         "description": "WCAG 2.x ratio against the mean relative luminance"},
            "worst_contrast": {"type": "number", "minimum": 1, "maximum": 21,
                               "description": "against the 95th percentile (white text) or "
                               "the 5th (black text)"},
            "apca": {"type": "number", "description": "APCA Lc (APCA-W3 0.0.98G-4g)"},
            "worst_apca": {"type": "number"},
        },
    }  # fmt: skip
    unit = {"type": "number", "minimum": 0, "maximum": 1}
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
                "regions": {
                    "type": ["string", "array", "null"],
                    "items": {"type": "string"},
                    "description": _REGIONS_DESCRIPTION + " A list of strings is taken too.",
                },
                "placeholder_components": {
                    **nullable_string, "description": _COMPONENTS_DESCRIPTION,
                },
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
                **metric_fields,
                "edge_brightness_score": {"type": "integer", "minimum": 0, "maximum": 100},
                "edge_average_luminance": {"type": "number", "minimum": 0, "maximum": 255},
                "edge_mode": {"type": "string", "enum": list(VALID_EDGE_MODES)},
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
                "regions": {
                    "type": "array",
                    "maxItems": MAX_REGIONS,
                    "items": _ref("Region"),
                    "description": "present when `regions` are asked for, in their order",
                },
                "placeholder": {**_ref("Placeholder"), "description": _ASKED("placeholder")},
                "orientation": {
                    "type": "integer",
                    "minimum": 2,
                    "maximum": 8,
                    "description": "EXIF orientation, present when not 1; edges and edge "
                    "colours are those of the image as displayed",
                },
                "frames": {
                    "type": "object",
                    "required": ["count", "analyzed"],
                    "properties": {
                        "count": {"type": "integer", "minimum": 2},
                        "analyzed": {"type": "string", "const": "first"},
                    },
                    "description": "present for a file of several frames or pages (animated "
                    "WebP, GIF or AVIF, multi-page TIFF): the first is the one measured",
                },
                "color_profile": {
                    "type": "object",
                    "required": ["source", "description", "converted_to"],
                    "properties": {
                        "source": {"type": "string", "const": "icc"},
                        "description": {"type": "string"},
                        "converted_to": {"type": "string", "const": "sRGB"},
                    },
                    "description": "present when the image carries an ICC profile: its pixels "
                    "were converted from it to sRGB before any statistic (absent: taken as "
                    "sRGB)",
                },
                "width": {"type": "integer", "minimum": 1, "description": "original width"},
                "height": {"type": "integer", "minimum": 1, "description": "original height"},
                "algorithm": {"type": "string", "const": ALGORITHM},
                "cached": {"type": "boolean"},
                "processing_time_ms": {"type": "number", "minimum": 0},
            },
        },
        "TextAdvice": {
            "type": "object",
            "description": "Readable text over the image or a region: WCAG relative luminance "
            "(linearised sRGB) and the contrast of white and black text against its mean and "
            "its worst patches (see ALGORITHM.md)",
            "required": ["relative_luminance", "relative_luminance_p5", "relative_luminance_p95",
                         "white", "black", "recommended_color", "aa", "aa_large", "scrim"],
            "properties": {
                "relative_luminance": unit,
                "relative_luminance_p5": unit,
                "relative_luminance_p95": unit,
                "white": contrast_pair,
                "black": contrast_pair,
                "recommended_color": {"type": "string", "enum": ["white", "black"]},
                "aa": {"type": "boolean", "description": "worst contrast at least 4.5"},
                "aa_large": {"type": "boolean", "description": "worst contrast at least 3"},
                "scrim": {
                    "type": ["object", "null"],
                    "description": "null when AA holds; else the least opacity of a layer "
                    "under the text (blended in sRGB values) that reaches 4.5 and 3",
                    "required": ["color", "opacity_aa", "opacity_aa_large"],
                    "properties": {
                        "color": {"type": "string", "enum": ["black", "white"]},
                        "opacity_aa": unit,
                        "opacity_aa_large": unit,
                    },
                },
            },
        },
        "Region": {
            "type": "object",
            "required": ["name", "x", "y", "w", "h"],
            "properties": {
                "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"},
                "x": unit, "y": unit, "w": unit, "h": unit,
                **metric_fields,
            },
        },
        "Placeholder": {
            "type": "object",
            "required": ["blurhash", "blurhash_components", "thumbhash", "average_color",
                         "thumbhash_data_url"],
            "properties": {
                "blurhash": {"type": "string", "minLength": 6, "maxLength": 166},
                "blurhash_components": {
                    "type": "array", "minItems": 2, "maxItems": 2,
                    "items": {"type": "integer", "minimum": 1, "maximum": 9},
                },
                "thumbhash": {"type": "string", "description": "standard base64"},
                "average_color": {"type": ["string", "null"], "pattern": _HEX},
                "thumbhash_data_url": {"type": "string", "pattern": "^data:image/png;base64,"},
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
