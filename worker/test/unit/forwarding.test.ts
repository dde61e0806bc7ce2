// What a client's headers become on their way to the service: the ones that steer the layers in
// between (cf-container-target-port above all) or describe the client's connection stop at the
// edge; everything else reaches the service unchanged.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ImageInsightsContainer } from "../../src/container";
import { handleRequest } from "../../src/index";
import { namespaceServedBy, runningContainer, withContainer } from "./container-runtime";
import { fakeNamespace, mockOrigin, serviceJson } from "./helpers";

const KEY = "key-one";

/** Every header a client may send that must not get past the edge, with a value it might send. */
const STOPPED_AT_EDGE: [string, string][] = [
  ["cf-container-target-port", "9"],
  ["CF-Connecting-IP", "203.0.113.7"],
  ["CF-Ray", "8f0c0c0c0c0c0c0c-AMS"],
  ["CF-IPCountry", "NL"],
  ["CF-Visitor", '{"scheme":"https"}'],
  ["CF-Worker", "example.com"],
  ["cf-access-jwt-assertion", "forged"],
  ["Connection", "keep-alive"],
  ["Keep-Alive", "timeout=5"],
  ["Proxy-Connection", "keep-alive"],
  ["Proxy-Authorization", "Basic Zm9vOmJhcg=="],
  ["Proxy-Authenticate", "Basic"],
  ["TE", "trailers"],
  ["Trailer", "Expires"],
  ["Transfer-Encoding", "chunked"],
  ["Upgrade", "websocket"],
  ["X-API-Key", KEY],
];

function upload(headers: Record<string, string>): Request {
  return new Request("https://api.example.com/v1/image/analysis", {
    method: "POST",
    headers: { "X-API-Key": KEY, "Content-Type": "application/octet-stream", "X-Client-Note": "kept", ...headers },
    body: new Uint8Array([1, 2, 3]),
  });
}

function containerMode(namespace: DurableObjectNamespace<ImageInsightsContainer>) {
  return { ...env, LOCAL_ORIGIN: undefined, IMAGE_INSIGHTS_CONTAINER: namespace };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("headers that stop at the edge", () => {
  it.each(STOPPED_AT_EDGE)("%s never reaches the local origin", async (name, value) => {
    const origin = mockOrigin();
    const response = await handleRequest(upload({ [name]: value }), env);
    expect(response.status).toBe(200);
    expect(origin.seen[0]!.headers.has(name)).toBe(false);
    expect(origin.seen[0]!.headers.get("X-Client-Note")).toBe("kept");
  });

  it.each(STOPPED_AT_EDGE)("%s never reaches a container instance", async (name, value) => {
    const { namespace, calls } = fakeNamespace([serviceJson({ ok: true })]);
    const response = await handleRequest(upload({ [name]: value }), containerMode(namespace));
    expect(response.status).toBe(200);
    expect(calls[0]!.request.headers.has(name)).toBe(false);
    expect(calls[0]!.request.headers.get("X-Client-Note")).toBe("kept");
  });

  it("drops the headers a Connection header names, and keeps the rest", async () => {
    const origin = mockOrigin();
    await handleRequest(upload({ Connection: "close, X-Hop-Only", "X-Hop-Only": "1", "X-End-To-End": "2" }), env);
    const seen = origin.seen[0]!.headers;
    expect(seen.has("X-Hop-Only")).toBe(false);
    expect(seen.get("X-End-To-End")).toBe("2");
  });

  it("keeps the request id, the content type and the body", async () => {
    const origin = mockOrigin();
    await handleRequest(upload({ "X-Request-ID": "h-1" }), env);
    const seen = origin.seen[0]!;
    expect(seen.headers.get("X-Request-ID")).toBe("h-1");
    expect(seen.headers.get("Content-Type")).toBe("application/octet-stream");
    expect(seen.body).toEqual(new Uint8Array([1, 2, 3]));
  });
});

describe("cf-container-target-port against the real Container class", () => {
  it("cannot choose the port: the probe and the request both go to 8080", async () => {
    const container = runningContainer(() => serviceJson({ answered: true }));
    await withContainer(container.runtime, async (instance) => {
      const { namespace } = namespaceServedBy(instance);
      const response = await handleRequest(upload({ "cf-container-target-port": "9" }), containerMode(namespace));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ answered: true });
    });
    expect(container.calls.length).toBeGreaterThan(0);
    expect(container.calls.map((call) => call.port)).toEqual(container.calls.map(() => 8080));
  });

  it("would have chosen it had the header got through (the library obeys it)", async () => {
    const container = runningContainer(() => serviceJson({}));
    await withContainer(container.runtime, async (instance) => {
      await instance.fetch(new Request("https://api.example.com/health", { headers: { "cf-container-target-port": "9" } }));
    });
    expect(new Set(container.calls.map((call) => call.port))).toEqual(new Set([9]));
  });
});
