// The edge's rate limit, on the real rate-limiting binding of workerd (the test config's
// TIGHT_RATE_LIMITER: 3 requests per 60 s), with the origin mocked.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleRequest } from "../../src/index";
import { RATE_LIMIT_PERIOD_SECONDS } from "../../src/limits";
import { clientAddressKey } from "../../src/rate-limit";
import { mockOrigin } from "./helpers";

const TIGHT_LIMIT = 3;
const tight = (env as unknown as { TIGHT_RATE_LIMITER: RateLimit }).TIGHT_RATE_LIMITER;

/** A key no other test uses, so that each test starts with a full allowance. */
const freshKey = () => `rl-${crypto.randomUUID()}`;

function keyedEnv(...keys: string[]) {
  return { ...env, IMAGE_INSIGHTS_API_KEY: keys.join(","), RATE_LIMITER: tight };
}

function publicEnv() {
  return { ...env, IMAGE_INSIGHTS_API_KEY: undefined, PUBLIC_API: "true", RATE_LIMITER: tight };
}

function get(headers: Record<string, string>): Request {
  return new Request("https://api.example.com/health", { headers });
}

async function statuses(requests: (() => Request)[], workerEnv: Parameters<typeof handleRequest>[1]): Promise<number[]> {
  const seen: number[] = [];
  for (const request of requests) seen.push((await handleRequest(request(), workerEnv)).status);
  return seen;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("per API key", () => {
  it("answers the request past the limit with 429, Retry-After and the request id, never reaching the origin", async () => {
    const origin = mockOrigin();
    const key = freshKey();
    const workerEnv = keyedEnv(key);
    for (let i = 0; i < TIGHT_LIMIT; i++) {
      expect((await handleRequest(get({ "X-API-Key": key }), workerEnv)).status).toBe(200);
    }
    const response = await handleRequest(get({ "X-API-Key": key, "X-Request-ID": "rl-1" }), workerEnv);
    expect(response.status).toBe(429);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(response.headers.get("Retry-After")).toBe(String(RATE_LIMIT_PERIOD_SECONDS));
    expect(response.headers.get("X-Request-ID")).toBe("rl-1");
    expect(await response.json()).toEqual({ error: "Too many requests", details: "rl-1" });
    expect(origin.seen).toHaveLength(TIGHT_LIMIT);
  });

  it("counts each key on its own, whatever address it comes from", async () => {
    mockOrigin();
    const [first, second] = [freshKey(), freshKey()];
    const workerEnv = keyedEnv(first, second);
    const byFirst = (address: string) => () => get({ "X-API-Key": first, "CF-Connecting-IP": address });
    expect(await statuses([byFirst("192.0.2.1"), byFirst("192.0.2.2"), byFirst("192.0.2.3"), byFirst("192.0.2.4")], workerEnv)).toEqual([
      200, 200, 200, 429,
    ]);
    expect((await handleRequest(get({ "X-API-Key": second }), workerEnv)).status).toBe(200);
  });

  it("refuses a wrong key with 401 before counting anything", async () => {
    mockOrigin();
    const key = freshKey();
    const workerEnv = keyedEnv(key);
    const wrong = () => get({ "X-API-Key": "not-the-key" });
    expect(await statuses([wrong, wrong, wrong, wrong], workerEnv)).toEqual([401, 401, 401, 401]);
    expect((await handleRequest(get({ "X-API-Key": key }), workerEnv)).status).toBe(200);
  });
});

describe("per client address on a public API", () => {
  it("counts each address on its own", async () => {
    mockOrigin();
    const from = (address: string) => () => get({ "CF-Connecting-IP": address });
    const one = from("198.51.100.10");
    expect(await statuses([one, one, one, one], publicEnv())).toEqual([200, 200, 200, 429]);
    expect((await handleRequest(from("198.51.100.11")(), publicEnv())).status).toBe(200);
  });

  it("counts an IPv6 /64 as one address", async () => {
    mockOrigin();
    const from = (address: string) => () => get({ "CF-Connecting-IP": address });
    const sameNetwork = [from("2001:db8:1:2::1"), from("2001:db8:1:2::2"), from("2001:db8:1:2:ffff::3"), from("2001:db8:1:2:0:0:0:4")];
    expect(await statuses(sameNetwork, publicEnv())).toEqual([200, 200, 200, 429]);
    expect((await handleRequest(from("2001:db8:1:3::1")(), publicEnv())).status).toBe(200);
  });
});

describe("the limiter", () => {
  it("never holds up a CORS preflight", async () => {
    const key = freshKey();
    const preflight = () =>
      new Request("https://api.example.com/v1/image/analysis", {
        method: "OPTIONS",
        headers: { Origin: "https://app.example.org", "Access-Control-Request-Method": "POST" },
      });
    expect(await statuses([preflight, preflight, preflight, preflight, preflight], keyedEnv(key))).toEqual([200, 200, 200, 200, 200]);
  });

  it("lets requests through when it fails itself", async () => {
    mockOrigin();
    const broken = { limit: () => Promise.reject(new Error("limiter unavailable")) } as unknown as RateLimit;
    const response = await handleRequest(get({ "X-API-Key": "key-one" }), { ...env, RATE_LIMITER: broken });
    expect(response.status).toBe(200);
  });
});

describe("clientAddressKey", () => {
  it.each([
    ["203.0.113.7", "address:203.0.113.7"],
    [" 203.0.113.7 ", "address:203.0.113.7"],
    ["2001:db8:85a3:8d3:1319:8a2e:370:7348", "address:2001:db8:85a3:8d3::/64"],
    ["2001:0DB8:0000:0001::1", "address:2001:db8:0:1::/64"],
    ["2001:db8::1", "address:2001:db8:0:0::/64"],
    ["::1", "address:0:0:0:0::/64"],
    ["::ffff:192.0.2.1", "address:0:0:0:0::/64"],
    ["fe80::1:2:3:4", "address:fe80:0:0:0::/64"],
    [null, "address:unknown"],
    ["", "address:unknown"],
  ])("counts %j as %j", (address, key) => {
    expect(clientAddressKey(address)).toBe(key);
  });
});
