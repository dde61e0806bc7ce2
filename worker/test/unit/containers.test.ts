// Container mode: requests spread over the instances, and one retry on another instance.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleRequest } from "../../src/index";
import { CONTAINER_INSTANCES } from "../../src/limits";
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

/** The plain-text answers @cloudflare/containers gives when an instance cannot serve. */
const platformFailures: [string, Response][] = [
  ["no instance available (503)", new Response("There is no Container instance available at this time.", { status: 503 })],
  ["start rate limited (429)", new Response("rate limited", { status: 429 })],
  ["start failure (500)", new Response("Failed to start container: boom", { status: 500 })],
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
  it("retries once on another instance when the first throws", async () => {
    const { fake, env } = containerEnv([new Error("Durable Object reset because its code was updated."), serviceJson({ ok: 1 })]);
    const response = await handleRequest(upload("r-1"), env);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: 1 });
    expect(fake.calls).toHaveLength(2);
    expect(fake.calls[0]!.instance).not.toBe(fake.calls[1]!.instance);
    expect(fake.calls[1]!.request.body).toEqual(new Uint8Array([1, 2, 3, 4, 5]));
  });

  it.each(platformFailures)("retries once on another instance after %s", async (_, failure) => {
    const { fake, env } = containerEnv([failure, serviceJson({ ok: 2 })]);
    const response = await handleRequest(upload("r-2"), env);
    expect(response.status).toBe(200);
    expect(fake.calls).toHaveLength(2);
    expect(fake.calls[0]!.instance).not.toBe(fake.calls[1]!.instance);
  });

  it("does not retry the service's own JSON errors", async () => {
    const serviceError = serviceJson({ error: "Internal server error", details: "r-3" }, 500);
    const { fake, env } = containerEnv([serviceError, serviceJson({ never: true })]);
    const response = await handleRequest(upload("r-3"), env);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "Internal server error", details: "r-3" });
    expect(fake.calls).toHaveLength(1);
  });

  it("answers 503 JSON with the request id when both instances fail", async () => {
    const { fake, env } = containerEnv([new Error("network connection lost"), new Response("Failed to start container", { status: 500 })]);
    const response = await handleRequest(upload("r-4"), env);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: "Service unavailable", details: "r-4" });
    expect(response.headers.get("Retry-After")).toBe("5");
    expect(fake.calls).toHaveLength(2);
  });
});
