/**
 * Sending a checked request on: to the local origin (LOCAL_ORIGIN, no Docker needed) or to a
 * container instance. A request is sent to a second instance only when the first attempt failed
 * before it reached the service, and every attempt shares one deadline.
 */
import { getContainer } from "@cloudflare/containers";
import type { ImageInsightsContainer } from "./container";
import { instanceName, instanceOrder } from "./instances";
import { CONTAINER_DEADLINE_MS, CONTAINER_INSTANCES } from "./limits";
import { logEvent } from "./log";
import { badGateway, gatewayTimeout, serviceUnavailable } from "./responses";

/** A request as it leaves the edge: its body is one buffer, which each attempt sends again. */
export interface UpstreamRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: Uint8Array | null;
  requestId: string;
}

function toRequest(upstream: UpstreamRequest, url: URL, signal?: AbortSignal): Request {
  return new Request(url, {
    method: upstream.method,
    headers: upstream.headers,
    body: upstream.body,
    redirect: "manual",
    signal,
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

/** What one attempt on one instance came to. */
type Attempt =
  /** The service answered (any status): that is the answer. */
  | { kind: "answered"; response: Response }
  /** It failed before the request reached the service: another instance may take it. */
  | { kind: "not_reached"; detail: Record<string, unknown> }
  /** It failed after the request may have reached the service: it is never sent again. */
  | { kind: "cut_off"; detail: Record<string, unknown> }
  /** The deadline passed while it was under way. */
  | { kind: "deadline" };

/** The start of @cloudflare/containers' plain-text answer when the container would not start. */
const START_FAILED = "Failed to start container";

/**
 * The service answers every error with JSON. @cloudflare/containers answers in plain text: 503
 * when no instance is available, 429 when starts are rate limited, 500 "Failed to start
 * container: ..." when it would not start (none of them reached the service), and 500 when the
 * container dropped the connection or the request could not be proxied (which may have reached it).
 */
async function classifyAnswer(response: Response): Promise<Attempt> {
  const isJson = (response.headers.get("Content-Type") ?? "").toLowerCase().includes("json");
  if (isJson || (response.status < 500 && response.status !== 429)) {
    return { kind: "answered", response };
  }
  const reason = (await response.text()).slice(0, 200);
  const detail = { status: response.status, reason };
  if (response.status === 503 || response.status === 429 || reason.startsWith(START_FAILED)) {
    return { kind: "not_reached", detail };
  }
  return { kind: "cut_off", detail };
}

/**
 * An exception from the Durable Object call. A reset object (its code was replaced by a deploy)
 * or an overloaded one did not run the request; anything else may have happened after the
 * container received it. The runtime itself already retries calls that never reached the object.
 */
function classifyError(error: unknown): Attempt {
  const message = error instanceof Error ? error.message : String(error);
  const overloaded = typeof error === "object" && error !== null && (error as { overloaded?: unknown }).overloaded === true;
  const detail = { error: String(error) };
  if (overloaded || /durable object reset/i.test(message)) {
    return { kind: "not_reached", detail };
  }
  return { kind: "cut_off", detail };
}

/** Resolves once `signal` is aborted (at once when it already is). */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    return Promise.resolve();
  }
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

async function attempt(
  namespace: DurableObjectNamespace<ImageInsightsContainer>,
  instance: string,
  upstream: UpstreamRequest,
  deadline: AbortSignal,
): Promise<Attempt> {
  // The deadline cancels the call only until its answer arrives: a body being streamed to the
  // client afterwards must not be cut off.
  const cancel = new AbortController();
  const onDeadline = () => cancel.abort();
  deadline.addEventListener("abort", onDeadline, { once: true });
  // Handled in full even when the deadline wins the race below, so a late failure goes nowhere.
  const outcome = getContainer(namespace, instance)
    .fetch(toRequest(upstream, upstream.url, cancel.signal))
    .then(classifyAnswer)
    .catch(classifyError)
    .finally(() => deadline.removeEventListener("abort", onDeadline));
  const timedOut = aborted(deadline).then((): Attempt => ({ kind: "deadline" }));
  return Promise.race([outcome, timedOut]);
}

/**
 * Tries a random instance, then, if that attempt failed before reaching the service, one other,
 * all within `deadline`. A request the service may have received is never sent a second time:
 * one bad image must not tie up two instances.
 */
export async function forwardToContainers(
  namespace: DurableObjectNamespace<ImageInsightsContainer>,
  upstream: UpstreamRequest,
  deadline: AbortSignal = AbortSignal.timeout(CONTAINER_DEADLINE_MS),
): Promise<Response> {
  const requestId = upstream.requestId;
  for (const index of instanceOrder(CONTAINER_INSTANCES)) {
    if (deadline.aborted) {
      break;
    }
    const instance = instanceName(index);
    const outcome = await attempt(namespace, instance, upstream, deadline);
    switch (outcome.kind) {
      case "answered":
        return outcome.response;
      case "not_reached":
        logEvent("instance_failed", { request_id: requestId, instance, outcome: outcome.kind, ...outcome.detail });
        continue;
      case "cut_off":
        logEvent("instance_failed", { request_id: requestId, instance, outcome: outcome.kind, ...outcome.detail });
        return badGateway(requestId);
      case "deadline":
        logEvent("instance_failed", { request_id: requestId, instance, outcome: outcome.kind, deadline_ms: CONTAINER_DEADLINE_MS });
        return gatewayTimeout(requestId);
    }
  }
  return serviceUnavailable(requestId);
}
