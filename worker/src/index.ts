/**
 * The Worker at the edge of Image Insights: it answers CORS preflights, checks the API key, the
 * rate limit and the body size, gives every request an id, and forwards the rest to a container
 * instance (or to LOCAL_ORIGIN when that is set). Each check happens before a container is woken.
 */
import { API_KEY_HEADER, configuredKeys, isAcceptedKey, isPublicApi } from "./auth";
import { readBodyWithin } from "./body";
import { preflightResponse, withCorsHeaders } from "./cors";
import type { Env } from "./env";
import { upstreamHeaders } from "./forwarding";
import { MAX_REQUEST_BODY_BYTES } from "./limits";
import { logEvent } from "./log";
import { forwardToContainers, forwardToLocalOrigin } from "./origin";
import type { UpstreamRequest } from "./origin";
import { apiKeyRateKey, clientAddressKey, clientAddressOf, withinRateLimit } from "./rate-limit";
import { REQUEST_ID_HEADER, requestIdOf } from "./request-id";
import {
  apiKeyNotConfigured,
  internalError,
  metricsForbidden,
  payloadTooLarge,
  tooManyRequests,
  unauthorized,
} from "./responses";

export { ImageInsightsContainer } from "./container";
// The Container constructor sets up outbound interception through ctx.exports.ContainerProxy
// whenever its container is already running; without this export that setup rejects.
export { ContainerProxy } from "@cloudflare/containers";

/** Whether the service would route `pathname` to /metrics (it decodes %-escapes before routing). */
export function isMetricsPath(pathname: string): boolean {
  let decoded = pathname;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    // A malformed escape routes nowhere in the service either; judge the raw path.
  }
  const normalised = decoded.toLowerCase().replace(/\/+/g, "/").replace(/\/$/, "");
  return normalised === "/metrics" || normalised.startsWith("/metrics/");
}

/** Everything but the id and CORS headers, which `handleRequest` adds to every answer. */
async function route(request: Request, env: Env, requestId: string): Promise<Response> {
  if (request.method === "OPTIONS") {
    return preflightResponse(request);
  }

  const url = new URL(request.url);
  const keys = configuredKeys(env.IMAGE_INSIGHTS_API_KEY);
  let rateKey: string;
  if (keys !== null) {
    const presented = request.headers.get(API_KEY_HEADER);
    if (presented === null || !(await isAcceptedKey(presented, keys))) {
      return unauthorized();
    }
    rateKey = await apiKeyRateKey(presented);
  } else if (!isPublicApi(env.PUBLIC_API)) {
    // No key and no word that the API is meant to be public: a deploy whose secret is missing
    // serves nobody (not even /health, which would wake a container for anyone).
    return apiKeyNotConfigured(requestId);
  } else if (isMetricsPath(url.pathname)) {
    return metricsForbidden(requestId);
  } else {
    rateKey = clientAddressKey(clientAddressOf(request));
  }
  if (!(await withinRateLimit(env.RATE_LIMITER, rateKey, requestId))) {
    logEvent("rate_limited", { request_id: requestId, counted_by: rateKey.split(":", 1)[0] });
    return tooManyRequests(requestId);
  }

  const body = await readBodyWithin(request, MAX_REQUEST_BODY_BYTES);
  if (!body.within) {
    return payloadTooLarge(body.receivedBytes);
  }

  const upstream: UpstreamRequest = {
    url,
    method: request.method,
    headers: upstreamHeaders(request.headers, requestId),
    body: body.bytes,
    requestId,
  };
  const localOrigin = env.LOCAL_ORIGIN?.trim();
  if (localOrigin) {
    return forwardToLocalOrigin(localOrigin, upstream);
  }
  return forwardToContainers(env.IMAGE_INSIGHTS_CONTAINER, upstream);
}

export async function handleRequest(request: Request, env: Env): Promise<Response> {
  const requestId = requestIdOf(request);
  let response: Response;
  try {
    const routed = await route(request, env, requestId);
    // A fetched response's headers are immutable; a copy takes ours.
    response = new Response(routed.body, routed);
  } catch (error) {
    logEvent("edge_error", { request_id: requestId, error: error instanceof Error ? error.stack ?? error.message : String(error) });
    response = internalError(requestId);
  }
  response.headers.set(REQUEST_ID_HEADER, requestId);
  return withCorsHeaders(response, request);
}

export default {
  fetch: handleRequest,
} satisfies ExportedHandler<Env>;
