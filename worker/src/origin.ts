/**
 * Sending a checked request on: to the local origin (LOCAL_ORIGIN, no Docker needed) or to a
 * container instance, with one retry on another instance.
 */
import { getContainer } from "@cloudflare/containers";
import type { ImageInsightsContainer } from "./container";
import { instanceName, instanceOrder } from "./instances";
import { CONTAINER_INSTANCES } from "./limits";
import { logEvent } from "./log";
import { badGateway, serviceUnavailable } from "./responses";

/** A request as it leaves the edge: its body is one buffer, which each attempt sends again. */
export interface UpstreamRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: Uint8Array | null;
  requestId: string;
}

function toRequest(upstream: UpstreamRequest, url: URL): Request {
  return new Request(url, {
    method: upstream.method,
    headers: upstream.headers,
    body: upstream.body,
    redirect: "manual",
  });
}

export async function forwardToLocalOrigin(localOrigin: string, upstream: UpstreamRequest): Promise<Response> {
  const target = new URL(upstream.url.pathname + upstream.url.search, localOrigin);
  try {
    return await fetch(toRequest(upstream, target));
  } catch (error) {
    logEvent("origin_unreachable", { request_id: upstream.requestId, origin: localOrigin, error: String(error) });
    return badGateway(upstream.requestId);
  }
}

/**
 * Whether a response comes from the container platform rather than from the service. The
 * service answers every error with JSON; @cloudflare/containers answers a start failure, a full
 * account (503), start rate limiting (429) or a dropped connection (500) with plain text.
 */
function isPlatformFailure(response: Response): boolean {
  const isJson = (response.headers.get("Content-Type") ?? "").toLowerCase().includes("json");
  return (response.status >= 500 || response.status === 429) && !isJson;
}

export async function forwardToContainers(
  namespace: DurableObjectNamespace<ImageInsightsContainer>,
  upstream: UpstreamRequest,
): Promise<Response> {
  for (const index of instanceOrder(CONTAINER_INSTANCES)) {
    const instance = instanceName(index);
    try {
      const response = await getContainer(namespace, instance).fetch(toRequest(upstream, upstream.url));
      if (!isPlatformFailure(response)) {
        return response;
      }
      const reason = (await response.text()).slice(0, 200);
      logEvent("instance_failed", { request_id: upstream.requestId, instance, status: response.status, reason });
    } catch (error) {
      logEvent("instance_failed", { request_id: upstream.requestId, instance, error: String(error) });
    }
  }
  return serviceUnavailable(upstream.requestId);
}
