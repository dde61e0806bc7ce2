// Real requests through the Worker: gunicorn serves the real service, `wrangler dev` runs the
// Worker from the real wrangler.toml in local-origin mode (containers disabled), and the test
// talks HTTP to both over 127.0.0.1.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_UPLOAD_BYTES, MULTIPART_OVERHEAD_BYTES } from "../../src/limits";
import { readWranglerToml, repoRoot as root, workerDir } from "./config";
import { encodePng } from "./png";
import { freePort, start, stop, waitUntilAnswering } from "./processes";
import type { Server } from "./processes";

const KEYS = ["e2e-key-current", "e2e-key-previous"];
const GENERATED_ID = /^[0-9a-f]{32}$/;

let service: Server | undefined;
let worker: Server | undefined;
let serviceUrl = "";
let workerUrl = "";
let stateDir = "";

/**
 * The real wrangler.toml, written to a scratch folder with absolute paths, so `wrangler dev`
 * keeps its .wrangler/ state there instead of in the repository.
 */
function scratchConfig(dir: string): string {
  const rawConfig = readWranglerToml();
  const config = {
    ...rawConfig,
    main: resolve(root, rawConfig.main!),
    containers: rawConfig.containers?.map((container) => ({ ...container, image: resolve(root, container.image) })),
  };
  const path = join(dir, "wrangler.json");
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "image-insights-e2e-"));
  const servicePort = await freePort();
  serviceUrl = `http://127.0.0.1:${servicePort}`;
  service = start(resolve(root, ".venv/bin/gunicorn"), ["--config", "gunicorn.conf.py"], {
    cwd: root,
    env: { ...process.env, PORT: String(servicePort), HOST: "127.0.0.1", WEB_CONCURRENCY: "1", ENABLE_DETAILED_LOGGING: "true" },
  });
  await waitUntilAnswering(service, `${serviceUrl}/health`);

  const workerPort = await freePort();
  const inspectorPort = await freePort();
  workerUrl = `http://127.0.0.1:${workerPort}`;
  worker = start(
    process.execPath,
    [
      resolve(workerDir, "node_modules/wrangler/bin/wrangler.js"),
      "dev",
      "--config", scratchConfig(stateDir),
      "--enable-containers=false",
      "--ip", "127.0.0.1",
      "--port", String(workerPort),
      "--inspector-port", String(inspectorPort),
      "--show-interactive-dev-session=false",
      "--var", `LOCAL_ORIGIN:${serviceUrl}`,
      "--var", `IMAGE_INSIGHTS_API_KEY:${KEYS.join(",")}`,
    ],
    {
      cwd: stateDir,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_SEND_ERROR_REPORTS: "false",
        WRANGLER_HIDE_BANNER: "true",
        CLOUDFLARE_TELEMETRY_DISABLED: "1",
        WRANGLER_LOG_PATH: stateDir,
      },
    },
  );
  await waitUntilAnswering(worker, `${workerUrl}/health`);
});

afterAll(async () => {
  await stop(worker);
  await stop(service);
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

function viaWorker(path: string, init: RequestInit = {}, key: string | null = KEYS[0]!): Promise<Response> {
  const headers = new Headers(init.headers);
  if (key !== null) headers.set("X-API-Key", key);
  return fetch(`${workerUrl}${path}`, { ...init, headers });
}

/** A 300×200 PNG with a gradient, so every histogram bucket and both edge strips differ. */
function testImage(): FormData {
  const png = encodePng(300, 200, (x, y) => [Math.floor((x * 255) / 299), Math.floor((y * 255) / 199), (x + y) % 256]);
  const form = new FormData();
  form.append("image", new Blob([png], { type: "image/png" }), "gradient.png");
  return form;
}

const ANALYSIS = "/v1/image/analysis?metrics=brightness,median,histogram&edge_mode=all";

describe("through wrangler dev in local-origin mode", () => {
  it("refuses a request without a key, and one with a wrong key, with the contract's 401", async () => {
    for (const key of [null, "not-a-key"]) {
      const response = await viaWorker("/health", {}, key);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        error: "Unauthorized",
        message: "Missing or invalid API key. Please provide X-API-Key header.",
      });
    }
  });

  it("serves the service's answer to either configured key", async () => {
    for (const key of KEYS) {
      const response = await viaWorker("/health", {}, key);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: "healthy", service: "image-insights-api" });
    }
  });

  it("serves the service's readiness, which has run the real Rust core", async () => {
    const response = await viaWorker("/ready");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ready", service: "image-insights-api" });
  });

  it("answers an oversize Content-Length with 413 at the edge", async () => {
    // Not multipart: had it reached the service, the answer would have been a 422.
    const size = MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES + 1;
    const response = await viaWorker("/v1/image/analysis", {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream", "X-Request-ID": "e2e-oversize" },
      body: new Uint8Array(size),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      detail: {
        error: "Image exceeds maximum allowed size (5MB)",
        max_size_bytes: 5242880,
        received_size_bytes: size,
      },
    });
    expect(service!.output()).not.toContain("id=e2e-oversize");
  });

  it("returns the same analysis as a direct call to the service", async () => {
    const throughWorker = await viaWorker(ANALYSIS, { method: "POST", body: testImage() });
    expect(throughWorker.status).toBe(200);
    const direct = await fetch(`${serviceUrl}${ANALYSIS}`, { method: "POST", body: testImage() });
    expect(direct.status).toBe(200);

    const { processing_time_ms: _a, cached: _b, ...viaEdge } = (await throughWorker.json()) as Record<string, unknown>;
    const { processing_time_ms: _c, cached: _d, ...fromService } = (await direct.json()) as Record<string, unknown>;
    expect(viaEdge).toEqual(fromService);
    expect(viaEdge).toMatchObject({ width: 300, height: 200, algorithm: "rec709", edge_mode: "all" });
    expect(viaEdge.histogram).toHaveLength(10);
  });

  it("passes the client's request id to the service and back", async () => {
    const response = await viaWorker("/health", { headers: { "X-Request-ID": "e2e-client-id-1" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Request-ID")).toBe("e2e-client-id-1");
    expect(service!.output()).toContain("id=e2e-client-id-1");
  });

  it("makes up an id when the client sends none, and the service logs that same id", async () => {
    const response = await viaWorker("/health");
    const id = response.headers.get("X-Request-ID");
    expect(id).toMatch(GENERATED_ID);
    expect(service!.output()).toContain(`id=${id}`);
  });

  it("answers a CORS preflight at the edge", async () => {
    const response = await fetch(`${workerUrl}/v1/image/analysis`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-api-key",
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.org");
    expect(response.headers.get("Access-Control-Allow-Headers")).toBe("x-api-key");
  });

  // Last: it stops the service.
  it("answers a JSON 502 carrying the request id once the service is down", async () => {
    await stop(service);
    const response = await viaWorker("/health", { headers: { "X-Request-ID": "e2e-origin-down" } });
    expect(response.status).toBe(502);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(await response.json()).toEqual({ error: "Bad gateway", details: "e2e-origin-down" });
    expect(response.headers.get("X-Request-ID")).toBe("e2e-origin-down");
  });
});
