// Container mode: requests spread over the instances, a retry on another instance only for
// failures before the service, and one deadline for all attempts.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleRequest } from "../../src/index";
import { CONTAINER_INSTANCES } from "../../src/limits";
import { forwardToContainers } from "../../src/origin";
import type { UpstreamRequest } from "../../src/origin";
import { namespaceServedBy, runningContainer, withContainer } from "./container-runtime";
import { fakeNamespace, serviceJson } from "./helpers";
import type { InstanceAnswer } from "./helpers";

const KEY = "key-one";

function containerEnv(answers: InstanceAnswer[]) {
  const fake = fakeNamespace(answers);
  return { fake, env: { ...env, LOCAL_ORIGIN: undefined, IMAGE_INSIGHTS_CONTAINER: fake.namespace } };
}

function upload(id: string): Request {
  return new Request("https://api.example.com/v1/image/analysis?metrics=brightness", {
    method: "POST",
    headers: { "X-API-Key": KEY, "X-Request-ID": id, "Content-Type": "application/octet-stream" },
    body: new Uint8Array([1, 2, 3, 4, 5]),
  });
}

/**
 * How @cloudflare/containers 0.3.7 (and the Durable Object runtime) fail before a request reaches
 * the service: no instance, too many starts, a container that would not start, an object reset
 * by a deploy, an overloaded object.
 */
const beforeTheService: [string, InstanceAnswer][] = [
  [
    "no instance available (503)",
    new Response("There is no Container instance available at this time.\nThis is likely because you have reached your max concurrent instance count", { status: 503 }),
  ],
  ["starts rate limited (429)", new Response("you are requesting too many containers per second", { status: 429 })],
  ["a failed start (500)", new Response("Failed to start container: the container is not listening", { status: 500 })],
  ["a Durable Object reset", new Error("Durable Object reset because its code was updated.")],
  ["an overloaded Durable Object", Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), { overloaded: true })],
];

/** Failures after which the service may have received the request (and may have been what failed). */
const afterItMayHaveReachedIt: [string, InstanceAnswer][] = [
  ["the container disconnected mid-request", new Response("Container suddenly disconnected, try again", { status: 500 })],
  ["the request could not be proxied", new Response("Error proxying request to container: socket closed", { status: 500 })],
  ["the Durable Object connection was lost", new Error("Network connection lost.")],
];

afterEach(() => {
  vi.restoreAllMocks();
});

describe("spreading", () => {
  it("sends the request, body and id to one instance and returns its answer", async () => {
    const { fake, env } = containerEnv([serviceJson({ brightness_score: 42 })]);
    const response = await handleRequest(upload("c-1"), env);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ brightness_score: 42 });
    expect(response.headers.get("X-Request-ID")).toBe("c-1");
    expect(fake.calls).toHaveLength(1);
    const { instance, request } = fake.calls[0]!;
    expect(instance).toMatch(/^instance-[0-9]+$/);
    expect(request.url).toBe("https://api.example.com/v1/image/analysis?metrics=brightness");
    expect(request.body).toEqual(new Uint8Array([1, 2, 3, 4, 5]));
    expect(request.headers.get("X-Request-ID")).toBe("c-1");
    expect(request.headers.has("X-API-Key")).toBe(false);
  });

  it("picks the instance at random, the same path going to every instance", async () => {
    const instances: string[] = [];
    for (let index = 0; index < CONTAINER_INSTANCES; index++) {
      vi.spyOn(Math, "random").mockReturnValue((index + 0.5) / CONTAINER_INSTANCES);
      const { fake, env } = containerEnv([serviceJson({})]);
      await handleRequest(upload(`s-${index}`), env);
      instances.push(fake.calls[0]!.instance);
    }
    expect(instances).toEqual(Array.from({ length: CONTAINER_INSTANCES }, (_, index) => `instance-${index}`));
  });
});

describe("retry", () => {
  it.each(beforeTheService)("retries once on another instance after %s", async (_, failure) => {
    const { fake, env } = containerEnv([failure, serviceJson({ ok: 2 })]);
    const response = await handleRequest(upload("r-2"), env);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: 2 });
    expect(fake.calls).toHaveLength(2);
    expect(fake.calls[0]!.instance).not.toBe(fake.calls[1]!.instance);
    expect(fake.calls[1]!.request.body).toEqual(new Uint8Array([1, 2, 3, 4, 5]));
  });

  it.each(afterItMayHaveReachedIt)("never retries when %s, and answers 502", async (_, failure) => {
    const { fake, env } = containerEnv([failure, serviceJson({ never: true })]);
    const response = await handleRequest(upload("r-5"), env);
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: "Bad gateway", details: "r-5" });
    expect(fake.calls).toHaveLength(1);
  });

  it("does not retry the service's own JSON errors", async () => {
    const serviceError = serviceJson({ error: "Internal server error", details: "r-3" }, 500);
    const { fake, env } = containerEnv([serviceError, serviceJson({ never: true })]);
    const response = await handleRequest(upload("r-3"), env);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "Internal server error", details: "r-3" });
    expect(fake.calls).toHaveLength(1);
  });

  it("answers 503 JSON with the request id and Retry-After when both instances fail before the service", async () => {
    const { fake, env } = containerEnv([new Error("Durable Object reset because its code was updated."), new Response("Failed to start container", { status: 500 })]);
    const response = await handleRequest(upload("r-4"), env);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: "Service unavailable", details: "r-4" });
    expect(response.headers.get("Retry-After")).toBe("5");
    expect(fake.calls).toHaveLength(2);
  });

  it("never retries when the real Container class reports the container disconnected mid-request", async () => {
    // The readiness probe is answered; the forwarded request loses its connection.
    const container = runningContainer((call) => {
      if (call.url.startsWith("http://api.example.com/v1/")) throw new Error("Network connection lost.");
      return new Response("ok");
    });
    await withContainer(container.runtime, async (instance) => {
      const { namespace, names } = namespaceServedBy(instance);
      const response = await handleRequest(upload("r-6"), { ...env, LOCAL_ORIGIN: undefined, IMAGE_INSIGHTS_CONTAINER: namespace });
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ error: "Bad gateway", details: "r-6" });
      expect(names).toHaveLength(1);
    });
  });
});

describe("one deadline for all attempts", () => {
  const upstream = (id: string): UpstreamRequest => ({
    url: new URL("https://api.example.com/v1/image/analysis"),
    method: "POST",
    headers: new Headers({ "X-Request-ID": id }),
    body: new Uint8Array([1]),
    requestId: id,
  });

  it("starts no attempt once it has passed", async () => {
    const { namespace, calls } = fakeNamespace([serviceJson({ never: true })]);
    const response = await forwardToContainers(namespace, upstream("d-1"), AbortSignal.abort());
    expect(response.status).toBe(503);
    expect(calls).toHaveLength(0);
  });

  it("makes no second attempt when it passes after a first attempt failed before the service", async () => {
    const deadline = new AbortController();
    // The first failure is logged between the two attempts: the deadline passes right then.
    vi.spyOn(console, "log").mockImplementation((line: string) => {
      if (line.includes('"outcome":"not_reached"')) deadline.abort();
    });
    const { namespace, calls } = fakeNamespace([
      new Response("There is no Container instance available at this time.", { status: 503 }),
      serviceJson({ never: true }),
    ]);
    const response = await forwardToContainers(namespace, upstream("d-2"), deadline.signal);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: "Service unavailable", details: "d-2" });
    expect(calls).toHaveLength(1);
  });

  it("answers 504 without retrying when it passes while an instance is still working", async () => {
    const deadline = new AbortController();
    const { namespace, calls } = fakeNamespace([
      () => {
        deadline.abort();
        return new Promise<Response>(() => {});
      },
      serviceJson({ never: true }),
    ]);
    const response = await forwardToContainers(namespace, upstream("d-3"), deadline.signal);
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({ error: "Gateway timeout", details: "d-3" });
    expect(calls).toHaveLength(1);
  });

  it("cancels the call it stops waiting for", async () => {
    const deadline = new AbortController();
    let signal: AbortSignal | undefined;
    const { namespace } = fakeNamespace([
      (request) => {
        signal = request.signal;
        deadline.abort();
        return new Promise<Response>(() => {});
      },
    ]);
    await forwardToContainers(namespace, upstream("d-4"), deadline.signal);
    expect(signal?.aborted).toBe(true);
  });

  it("stops applying to an attempt once its answer has arrived", async () => {
    const deadline = new AbortController();
    let signal: AbortSignal | undefined;
    const { namespace } = fakeNamespace([
      async (request) => {
        signal = request.signal;
        return serviceJson({ ok: true });
      },
    ]);
    const response = await forwardToContainers(namespace, upstream("d-5"), deadline.signal);
    deadline.abort();
    expect(response.status).toBe(200);
    expect(signal?.aborted).toBe(false);
  });
});
