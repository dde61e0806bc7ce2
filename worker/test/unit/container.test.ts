import { ContainerProxy } from "@cloudflare/containers";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { containerEnvVars } from "../../src/container";
import type { Env } from "../../src/env";
import * as worker from "../../src/index";
import { interceptionSetupOf, runningContainer, withContainer } from "./container-runtime";

describe("containerEnvVars", () => {
  it("passes the service's settings and gunicorn's sizing through, with the port the Worker connects to", () => {
    const settings = {
      CACHE_ENABLED: "false",
      CACHE_MAX_SIZE: "64",
      CACHE_TTL_SECONDS: "60",
      ENABLE_DETAILED_LOGGING: "false",
      URL_FETCH_ALLOWLIST: "images.internal:8443",
      WEB_CONCURRENCY: "1",
      GUNICORN_THREADS: "16",
      ANALYSIS_THREADS: "2",
      IMAGE_INSIGHTS_API_KEY: "secret",
      LOCAL_ORIGIN: "http://127.0.0.1:1",
      PUBLIC_API: "false",
    } as Env;
    expect(containerEnvVars(settings)).toEqual({
      PORT: "8080",
      CACHE_ENABLED: "false",
      CACHE_MAX_SIZE: "64",
      CACHE_TTL_SECONDS: "60",
      ENABLE_DETAILED_LOGGING: "false",
      URL_FETCH_ALLOWLIST: "images.internal:8443",
      WEB_CONCURRENCY: "1",
      GUNICORN_THREADS: "16",
      ANALYSIS_THREADS: "2",
    });
  });

  it("passes an empty allowlist on as empty (the service's default)", () => {
    expect(containerEnvVars({ URL_FETCH_ALLOWLIST: "" } as Env)).toEqual({ PORT: "8080", URL_FETCH_ALLOWLIST: "" });
  });

  it("leaves unset variables to the image's defaults", () => {
    expect(containerEnvVars({ CACHE_ENABLED: "true" } as Env)).toEqual({ PORT: "8080", CACHE_ENABLED: "true" });
  });
});

// @cloudflare/containers 0.3.7: when its Durable Object starts while the container is already
// running (a restart, an eviction, a deploy), the Container constructor starts the outbound
// interception setup, which needs ctx.exports.ContainerProxy, and nothing awaits that promise.
describe("ImageInsightsContainer built while its container is already running", () => {
  it("finishes the outbound-interception setup without error", async () => {
    await withContainer(runningContainer().runtime, async (container) => {
      const { setup } = await interceptionSetupOf(container);
      await expect(setup).resolves.toBeUndefined();
    });
  });

  it("would leave that setup rejected, unobserved, if the Worker did not export ContainerProxy", async () => {
    const withoutProxy = { default: exports.default };
    await withContainer(
      runningContainer().runtime,
      async (container) => {
        const { setup } = await interceptionSetupOf(container);
        await expect(setup).rejects.toThrow("ctx.exports.ContainerProxy is undefined");
      },
      { exports: withoutProxy },
    );
  });

  it("gets ContainerProxy from the Worker's entry point", () => {
    expect(worker.ContainerProxy).toBe(ContainerProxy);
  });
});

describe("ImageInsightsContainer's readiness probe", () => {
  it("asks the service's /ready on port 8080 before the first request goes through", async () => {
    const container = runningContainer(() => new Response("{}", { headers: { "Content-Type": "application/json" } }));
    await withContainer(container.runtime, async (instance) => {
      const response = await instance.fetch(new Request("https://api.example.com/v1/image/analysis", { method: "POST", body: "x" }));
      expect(response.status).toBe(200);
    });
    expect(container.calls.map(({ port, url }) => `${port} ${url}`)).toEqual([
      "8080 http://container/ready",
      "8080 http://api.example.com/v1/image/analysis",
    ]);
  });

  it("asks it only until the container is known healthy", async () => {
    const container = runningContainer(() => new Response("{}", { headers: { "Content-Type": "application/json" } }));
    await withContainer(container.runtime, async (instance) => {
      await instance.fetch(new Request("https://api.example.com/health"));
      await instance.fetch(new Request("https://api.example.com/health"));
    });
    expect(container.calls.filter((call) => call.url === "http://container/ready")).toHaveLength(1);
  });
});
