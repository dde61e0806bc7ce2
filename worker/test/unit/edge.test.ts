// The Worker end to end inside workerd, in local-origin mode (test wrangler config), with the
// origin replaced by a fetch mock: what is refused at the edge, and what reaches the origin.
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleRequest } from "../../src/index";
import { MAX_REQUEST_BODY_BYTES } from "../../src/limits";
import { mockOrigin, serviceJson } from "./helpers";

const KEY = "key-two";
const UNAUTHORIZED = {
  error: "Unauthorized",
  message: "Missing or invalid API key. Please provide X-API-Key header.",
};
const GENERATED_ID = /^[0-9a-f]{32}$/;

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`https://api.example.com${path}`, init));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("authentication", () => {
  it.each([
    ["no key", {}],
    ["a wrong key", { "X-API-Key": "key-three" }],
    ["an empty key", { "X-API-Key": "" }],
    ["both keys joined", { "X-API-Key": "key-one, key-two" }],
  ])("answers %s with the contract's 401 and never reaches the origin", async (_, headers) => {
    const origin = mockOrigin();
    const response = await call("/health", { headers });
    expect(response.status).toBe(401);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(await response.json()).toEqual(UNAUTHORIZED);
    expect(response.headers.get("X-Request-ID")).toMatch(GENERATED_ID);
    expect(origin.seen).toHaveLength(0);
  });

  it.each(["key-one", "key-two"])("lets %s through, and does not pass the key on", async (key) => {
    const origin = mockOrigin(() => serviceJson({ status: "healthy" }));
    const response = await call("/health?x=1", { headers: { "X-API-Key": key } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "healthy" });
    expect(origin.seen).toHaveLength(1);
    expect(origin.seen[0]!.url).toBe("http://origin.test:8080/health?x=1");
    expect(origin.seen[0]!.headers.has("X-API-Key")).toBe(false);
  });

  it("serves /metrics to key holders", async () => {
    const origin = mockOrigin(() => new Response("requests_total 1\n", { headers: { "Content-Type": "text/plain" } }));
    expect((await call("/metrics")).status).toBe(401);
    const response = await call("/metrics", { headers: { "X-API-Key": KEY } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("requests_total 1\n");
    expect(origin.seen.map((seen) => new URL(seen.url).pathname)).toEqual(["/metrics"]);
  });
});

describe("without an API key configured", () => {
  const closedEnv = () => ({ ...env, IMAGE_INSIGHTS_API_KEY: undefined });
  const publicEnv = () => ({ ...env, IMAGE_INSIGHTS_API_KEY: undefined, PUBLIC_API: "true" });
  const NOT_CONFIGURED = {
    error: "Service unavailable",
    message: 'No API key is configured. Set the IMAGE_INSIGHTS_API_KEY secret, or PUBLIC_API = "true" to serve without keys.',
  };

  it.each([
    ["GET", "/"],
    ["GET", "/health"],
    ["GET", "/ready"],
    ["POST", "/v1/image/analysis"],
    ["POST", "/v1/image/analysis/url"],
    ["GET", "/docs"],
    ["GET", "/metrics"],
  ])("answers %s %s with 503 and never wakes a container, unless PUBLIC_API is true", async (method, path) => {
    const origin = mockOrigin();
    const response = await handleRequest(
      new Request(`https://api.example.com${path}`, { method, headers: { "X-Request-ID": "c-1" }, body: method === "POST" ? "{}" : null }),
      closedEnv(),
    );
    expect(response.status).toBe(503);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(await response.json()).toEqual({ ...NOT_CONFIGURED, details: "c-1" });
    expect(origin.seen).toHaveLength(0);
  });

  it("still answers CORS preflights", async () => {
    const response = await handleRequest(
      new Request("https://api.example.com/v1/image/analysis", {
        method: "OPTIONS",
        headers: { Origin: "https://app.example.org", "Access-Control-Request-Method": "POST" },
      }),
      closedEnv(),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.org");
  });

  it.each(["true", "TRUE", " true "])("asks no key when PUBLIC_API is %j", async (flag) => {
    const origin = mockOrigin();
    const response = await handleRequest(new Request("https://api.example.com/health"), { ...publicEnv(), PUBLIC_API: flag });
    expect(response.status).toBe(200);
    expect(origin.seen).toHaveLength(1);
  });

  it.each(["false", "", "1", "yes", "on", "truee"])("stays closed when PUBLIC_API is %j", async (flag) => {
    const origin = mockOrigin();
    const response = await handleRequest(new Request("https://api.example.com/health"), { ...closedEnv(), PUBLIC_API: flag });
    expect(response.status).toBe(503);
    expect(origin.seen).toHaveLength(0);
  });

  it("asks for a key all the same when a secret is set beside PUBLIC_API", async () => {
    const origin = mockOrigin();
    const response = await handleRequest(new Request("https://api.example.com/health"), { ...env, PUBLIC_API: "true" });
    expect(response.status).toBe(401);
    expect(origin.seen).toHaveLength(0);
  });

  it.each(["/metrics", "/METRICS", "/metrics/", "//metrics", "/%6Detrics", "/metrics/extra"])(
    "keeps %s of a public API private with a 403",
    async (path) => {
      const origin = mockOrigin();
      const response = await handleRequest(
        new Request(`https://api.example.com${path}`, { headers: { "X-Request-ID": "m-1" } }),
        publicEnv(),
      );
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: "Forbidden", details: "m-1" });
      expect(origin.seen).toHaveLength(0);
    },
  );

  it("closes the API when the secret is set but holds no key", async () => {
    const origin = mockOrigin();
    const response = await handleRequest(
      new Request("https://api.example.com/health", { headers: { "X-API-Key": "" } }),
      { ...env, IMAGE_INSIGHTS_API_KEY: " , ", PUBLIC_API: "true" },
    );
    expect(response.status).toBe(401);
    expect(origin.seen).toHaveLength(0);
  });
});

describe("request size", () => {
  it("refuses an oversize Content-Length with the contract's 413, before reading or forwarding", async () => {
    const origin = mockOrigin();
    const declared = 6_000_000;
    const response = await handleRequest(
      new Request("https://api.example.com/v1/image/analysis", {
        method: "POST",
        headers: { "X-API-Key": KEY, "Content-Length": String(declared), "Content-Type": "multipart/form-data; boundary=b" },
        body: new ReadableStream({ pull: (controller) => controller.close() }),
      }),
      env,
    );
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      detail: {
        error: "Image exceeds maximum allowed size (5MB)",
        max_size_bytes: 5242880,
        received_size_bytes: declared,
      },
    });
    expect(response.headers.get("X-Request-ID")).toMatch(GENERATED_ID);
    expect(origin.seen).toHaveLength(0);
  });

  it("refuses a body without Content-Length once it grows past the limit", async () => {
    const origin = mockOrigin();
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_REQUEST_BODY_BYTES + chunk.byteLength) {
          controller.close();
          return;
        }
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await handleRequest(
      new Request("https://api.example.com/v1/image/analysis", { method: "POST", headers: { "X-API-Key": KEY }, body }),
      env,
    );
    expect(response.status).toBe(413);
    const received = ((await response.json()) as { detail: { received_size_bytes: number } }).detail.received_size_bytes;
    expect(received).toBeGreaterThan(MAX_REQUEST_BODY_BYTES);
    expect(origin.seen).toHaveLength(0);
  });

  it("forwards a body at the limit byte for byte", async () => {
    const origin = mockOrigin();
    const body = new Uint8Array(MAX_REQUEST_BODY_BYTES);
    for (let i = 0; i < body.length; i += 4093) body[i] = i % 251;
    const response = await call("/v1/image/analysis?metrics=median", {
      method: "POST",
      headers: { "X-API-Key": KEY, "Content-Type": "multipart/form-data; boundary=b" },
      body,
    });
    expect(response.status).toBe(200);
    expect(origin.seen).toHaveLength(1);
    const seen = origin.seen[0]!;
    expect(seen.method).toBe("POST");
    expect(seen.headers.get("Content-Type")).toBe("multipart/form-data; boundary=b");
    // Digests, because a deep comparison of 5 MB element by element takes far too long.
    expect(seen.body.byteLength).toBe(body.byteLength);
    expect(await sha256Hex(seen.body)).toBe(await sha256Hex(body));
  });
});

describe("request ids", () => {
  it("passes a sane X-Request-ID to the origin and back", async () => {
    const origin = mockOrigin(() => serviceJson({}, 200));
    const response = await call("/health", { headers: { "X-API-Key": KEY, "X-Request-ID": "client-id.42:a_b-c" } });
    expect(origin.seen[0]!.headers.get("X-Request-ID")).toBe("client-id.42:a_b-c");
    expect(response.headers.get("X-Request-ID")).toBe("client-id.42:a_b-c");
  });

  it.each(["", "has space", "x".repeat(129), "semi;colon", "ünïcode"])("replaces %j with a new id", async (sent) => {
    const origin = mockOrigin();
    const response = await call("/health", { headers: { "X-API-Key": KEY, "X-Request-ID": sent } });
    const id = response.headers.get("X-Request-ID");
    expect(id).toMatch(GENERATED_ID);
    expect(origin.seen[0]!.headers.get("X-Request-ID")).toBe(id);
  });

  it("gives each request its own new id", async () => {
    mockOrigin();
    const first = (await call("/health", { headers: { "X-API-Key": KEY } })).headers.get("X-Request-ID");
    const second = (await call("/health", { headers: { "X-API-Key": KEY } })).headers.get("X-Request-ID");
    expect(first).toMatch(GENERATED_ID);
    expect(second).toMatch(GENERATED_ID);
    expect(first).not.toBe(second);
  });

  it("keeps the service's answer, status and headers, and sets the id on it", async () => {
    mockOrigin(() => serviceJson({ detail: { error: "Empty image file" } }, 400));
    const response = await call("/v1/image/analysis", {
      method: "POST",
      headers: { "X-API-Key": KEY, "X-Request-ID": "r-400" },
      body: "x",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: { error: "Empty image file" } });
    expect(response.headers.get("X-Request-ID")).toBe("r-400");
  });
});

describe("CORS", () => {
  it("answers a preflight at the edge without a key", async () => {
    const origin = mockOrigin();
    const response = await call("/v1/image/analysis", {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-request-id",
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.org");
    expect(response.headers.get("Access-Control-Allow-Methods")).toBe("GET, POST, OPTIONS");
    expect(response.headers.get("Access-Control-Allow-Headers")).toBe("content-type, x-request-id, X-API-Key");
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(response.headers.get("Access-Control-Max-Age")).toBe("86400");
    expect(origin.seen).toHaveLength(0);
  });

  it("offers the API key header when the preflight lists none", async () => {
    const response = await call("/health", {
      method: "OPTIONS",
      headers: { Origin: "https://a.example", "Access-Control-Request-Method": "GET" },
    });
    expect(response.headers.get("Access-Control-Allow-Headers")).toContain("X-API-Key");
  });

  it("lets a browser read an edge error", async () => {
    mockOrigin();
    const response = await call("/health", { headers: { Origin: "https://app.example.org" } });
    expect(response.status).toBe(401);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.org");
    expect(response.headers.get("Access-Control-Expose-Headers")).toBe("X-Request-ID");
  });

  it("leaves the service's own CORS headers alone", async () => {
    mockOrigin(() => serviceJson({}, 200));
    const answered = await call("/health", { headers: { Origin: "https://b.example", "X-API-Key": KEY } });
    expect(answered.headers.get("Access-Control-Allow-Origin")).toBe("https://b.example");
    vi.restoreAllMocks();
    mockOrigin(
      () =>
        new Response("{}", {
          headers: { "Content-Type": "application/json", "Access-Control-Allow-Origin": "https://b.example", "X-From": "service" },
        }),
    );
    const passed = await call("/health", { headers: { Origin: "https://b.example", "X-API-Key": KEY } });
    expect(passed.headers.get("Access-Control-Allow-Origin")).toBe("https://b.example");
    expect(passed.headers.get("X-From")).toBe("service");
    expect(passed.headers.get("Access-Control-Expose-Headers")).toBeNull();
  });
});

describe("edge errors", () => {
  it("answers 502 JSON with the request id when the local origin is unreachable", async () => {
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("connect ECONNREFUSED"));
    const response = await call("/health", { headers: { "X-API-Key": KEY, "X-Request-ID": "down-1" } });
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: "Bad gateway", details: "down-1" });
    expect(response.headers.get("X-Request-ID")).toBe("down-1");
  });

  it("answers 500 JSON with the request id, and no trace of the cause, when the Worker itself fails", async () => {
    const response = await handleRequest(
      new Request("https://api.example.com/health", { headers: { "X-API-Key": KEY, "X-Request-ID": "boom-1" } }),
      { ...env, LOCAL_ORIGIN: "not a url" },
    );
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: "Internal server error", details: "boom-1" });
    expect(text).not.toMatch(/TypeError|at |\.ts/);
  });
});
