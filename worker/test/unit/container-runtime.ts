/**
 * ImageInsightsContainer as @cloudflare/containers really runs it, on a real Durable Object's
 * state, with only the container runtime (`ctx.container`, absent in workerd under vitest)
 * replaced by a scripted one that records every connection to a container port.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { ImageInsightsContainer } from "../../src/container";
import type { Env } from "../../src/env";

/** One request the library sent to a port of the container: its readiness probe, or a forwarded request. */
export interface PortCall {
  port: number;
  url: string;
  headers: Headers;
}

/** A running container whose ports answer with `answer`. */
export function runningContainer(answer: (call: PortCall) => Response | Promise<Response> = () => new Response("ok")) {
  const calls: PortCall[] = [];
  const runtime = {
    running: true,
    // The container never exits while a test runs.
    monitor: () => new Promise<void>(() => {}),
    getTcpPort: (port: number) => ({
      fetch: async (url: string, init?: RequestInit) => {
        const call = { port, url, headers: new Headers(init?.headers) };
        calls.push(call);
        return answer(call);
      },
    }),
  };
  return { runtime, calls };
}

interface Options {
  /** What the Durable Object's `ctx.exports` holds instead of the Worker's real exports. */
  exports?: object;
}

/** Runs `body` with an ImageInsightsContainer whose container runtime is `runtime`. */
export async function withContainer<T>(
  runtime: object,
  body: (container: ImageInsightsContainer) => Promise<T>,
  options: Options = {},
): Promise<T> {
  const donors = (env as unknown as { STATE_DONOR: DurableObjectNamespace }).STATE_DONOR;
  return runInDurableObject(donors.get(donors.newUniqueId()), async (_donor, state) => {
    Object.defineProperty(state, "container", { value: runtime });
    if (options.exports !== undefined) {
      Object.defineProperty(state, "exports", { value: options.exports });
    }
    return body(new ImageInsightsContainer(state as DurableObjectState<{}>, env as Env));
  });
}

/**
 * The outbound-interception setup the library's constructor starts for a container that is
 * already running, taken as the constructor stores it, so that a rejection is observed here
 * rather than reported as unhandled. Call it right after the container is built.
 */
export function interceptionSetupOf(container: ImageInsightsContainer): Promise<{ setup: Promise<void> }> {
  return new Promise((resolve) => {
    Object.defineProperty(container, "applyOutboundInterceptionPromise", {
      configurable: true,
      set(setup: Promise<void>) {
        setup.catch(() => {});
        // Wrapped: resolving with the promise itself would adopt its outcome.
        resolve({ setup });
      },
    });
  });
}

/** A Durable Object namespace whose every instance name is served by `container`; counts the calls. */
export function namespaceServedBy(container: ImageInsightsContainer) {
  const names: string[] = [];
  const namespace = {
    idFromName: (name: string) => ({ name }),
    get: (id: { name: string }) => ({
      fetch: (request: Request) => {
        names.push(id.name);
        return container.fetch(request);
      },
    }),
  } as unknown as DurableObjectNamespace<ImageInsightsContainer>;
  return { namespace, names };
}
