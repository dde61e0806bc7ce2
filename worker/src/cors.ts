/**
 * CORS at the edge, answered the way the service's Falcon CORSMiddleware does (any origin,
 * echoed, with credentials), so a preflight never wakes a container and edge errors stay
 * readable by browsers.
 */
import { API_KEY_HEADER } from "./auth";
import { REQUEST_ID_HEADER } from "./request-id";

const ALLOWED_METHODS = "GET, POST, OPTIONS";
/** Offered when a preflight does not list the headers it wants. */
const DEFAULT_ALLOWED_HEADERS = `Content-Type, ${API_KEY_HEADER}, ${REQUEST_ID_HEADER}`;
const PREFLIGHT_MAX_AGE_SECONDS = "86400";

/** The allowed-headers list: what the browser asks for, plus the API key header it will need. */
function allowedHeaders(requested: string | null): string {
  if (requested === null || requested.trim() === "") {
    return DEFAULT_ALLOWED_HEADERS;
  }
  const names = requested
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  if (!names.some((name) => name.toLowerCase() === API_KEY_HEADER.toLowerCase())) {
    names.push(API_KEY_HEADER);
  }
  return names.join(", ");
}

/** The answer to any OPTIONS request; browsers send preflights without the API key. */
export function preflightResponse(request: Request): Response {
  const headers = new Headers({
    "Access-Control-Allow-Methods": ALLOWED_METHODS,
    "Access-Control-Allow-Headers": allowedHeaders(request.headers.get("Access-Control-Request-Headers")),
    "Access-Control-Max-Age": PREFLIGHT_MAX_AGE_SECONDS,
    Allow: ALLOWED_METHODS,
  });
  const response = new Response(null, { status: 200, headers });
  return withCorsHeaders(response, request);
}

/**
 * Adds the CORS response headers for a cross-origin request unless the service already set
 * them. `response` must have mutable headers.
 */
export function withCorsHeaders(response: Response, request: Request): Response {
  const origin = request.headers.get("Origin");
  if (origin === null || response.headers.has("Access-Control-Allow-Origin")) {
    return response;
  }
  response.headers.set("Access-Control-Allow-Origin", origin);
  response.headers.set("Access-Control-Allow-Credentials", "true");
  response.headers.set("Access-Control-Expose-Headers", REQUEST_ID_HEADER);
  response.headers.append("Vary", "Origin");
  return response;
}
