/**
 * The bodies the edge answers with itself. The 401 and 413 bodies are the contract's, word for
 * word; the other errors follow the contract's 500 shape: `{"error": ..., "details": <request id>}`.
 */
import { MAX_UPLOAD_BYTES, RATE_LIMIT_PERIOD_SECONDS, RETRY_AFTER_SECONDS } from "./limits";

export function jsonResponse(status: number, body: unknown, headers?: HeadersInit): Response {
  const response = new Response(JSON.stringify(body), { status, headers });
  response.headers.set("Content-Type", "application/json");
  return response;
}

export function unauthorized(): Response {
  return jsonResponse(401, {
    error: "Unauthorized",
    message: "Missing or invalid API key. Please provide X-API-Key header.",
  });
}

export function payloadTooLarge(receivedBytes: number): Response {
  return jsonResponse(413, {
    detail: {
      error: "Image exceeds maximum allowed size (5MB)",
      max_size_bytes: MAX_UPLOAD_BYTES,
      received_size_bytes: receivedBytes,
    },
  });
}

/** No API key is configured and PUBLIC_API is not "true": the edge serves nothing but preflights. */
export function apiKeyNotConfigured(requestId: string): Response {
  return jsonResponse(503, {
    error: "Service unavailable",
    message: 'No API key is configured. Set the IMAGE_INSIGHTS_API_KEY secret, or PUBLIC_API = "true" to serve without keys.',
    details: requestId,
  });
}

/** /metrics asked for on a public API (no key configured): there is no one it could be shown to. */
export function metricsForbidden(requestId: string): Response {
  return jsonResponse(403, {
    error: "Forbidden",
    message: "/metrics is served only to callers with an API key; set the IMAGE_INSIGHTS_API_KEY secret.",
    details: requestId,
  });
}

/**
 * The local origin (LOCAL_ORIGIN) could not be reached, or a container instance failed after the
 * request may have reached the service (it dropped the connection): not retried.
 */
export function badGateway(requestId: string): Response {
  return jsonResponse(502, { error: "Bad gateway", details: requestId });
}

/** The deadline for all attempts passed while an instance was still working on the request. */
export function gatewayTimeout(requestId: string): Response {
  return jsonResponse(504, { error: "Gateway timeout", details: requestId });
}

/** No container instance took the request before it reached the service, on any attempt. */
export function serviceUnavailable(requestId: string): Response {
  return jsonResponse(
    503,
    { error: "Service unavailable", details: requestId },
    { "Retry-After": String(RETRY_AFTER_SECONDS) },
  );
}

/** The API key (or, on a public API, the client address) used up its requests for this period. */
export function tooManyRequests(requestId: string): Response {
  return jsonResponse(
    429,
    { error: "Too many requests", details: requestId },
    { "Retry-After": String(RATE_LIMIT_PERIOD_SECONDS) },
  );
}

/** A failure in the Worker itself; the cause is logged with the id, never sent. */
export function internalError(requestId: string): Response {
  return jsonResponse(500, { error: "Internal server error", details: requestId });
}
