// wrangler.toml against what the Worker's code assumes.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CONTAINER_INSTANCES, RATE_LIMIT_PERIOD_SECONDS } from "../../src/limits";
import { readWranglerToml, repoRoot as root } from "./config";

const config = readWranglerToml();

/**
 * gunicorn for each instance type (the table in docs/CLOUDFLARE_DEPLOYMENT.md): one process per
 * whole vCPU and at least one, since a fractional share runs no faster with more processes;
 * as many analyses at once as memory holds with room to spare, each up to ~165 MB at the pixel
 * limit on top of ~40 MB per process (docs/RELIABILITY.md); 16 threads for probes, downloads and
 * slow readers beside them.
 */
const SIZING: Record<string, { WEB_CONCURRENCY: string; GUNICORN_THREADS: string; ANALYSIS_THREADS: string }> = {
  lite: { WEB_CONCURRENCY: "1", GUNICORN_THREADS: "16", ANALYSIS_THREADS: "1" },
  basic: { WEB_CONCURRENCY: "1", GUNICORN_THREADS: "16", ANALYSIS_THREADS: "2" },
  "standard-1": { WEB_CONCURRENCY: "1", GUNICORN_THREADS: "16", ANALYSIS_THREADS: "2" },
  "standard-2": { WEB_CONCURRENCY: "1", GUNICORN_THREADS: "16", ANALYSIS_THREADS: "4" },
  "standard-3": { WEB_CONCURRENCY: "2", GUNICORN_THREADS: "16", ANALYSIS_THREADS: "4" },
  "standard-4": { WEB_CONCURRENCY: "4", GUNICORN_THREADS: "16", ANALYSIS_THREADS: "4" },
};

describe("wrangler.toml", () => {
  it("names the service and points at the Worker's entry", () => {
    expect(config.name).toBe("image-insights-api");
    expect(config.main).toBe("worker/src/index.ts");
    expect(existsSync(resolve(root, config.main!))).toBe(true);
  });

  it("has max_instances equal to the number of instances the Worker spreads over", () => {
    expect(config.containers).toHaveLength(1);
    expect(config.containers![0]!.max_instances).toBe(CONTAINER_INSTANCES);
  });

  it("uses one class name for the container, the Durable Object binding and the migration", () => {
    const container = config.containers![0]!;
    expect(container).toMatchObject({ class_name: "ImageInsightsContainer", image: "./Dockerfile", instance_type: "basic" });
    expect(config.durable_objects?.bindings).toEqual([
      { name: "IMAGE_INSIGHTS_CONTAINER", class_name: "ImageInsightsContainer" },
    ]);
    expect(config.migrations?.flatMap((migration) => migration.new_sqlite_classes ?? [])).toEqual([
      "ImageInsightsContainer",
    ]);
  });

  it("binds the rate limiter, whose period is the Retry-After the edge sends", () => {
    expect(config.ratelimits).toHaveLength(1);
    const limiter = config.ratelimits![0]!;
    expect(limiter.name).toBe("RATE_LIMITER");
    expect(limiter.simple.period).toBe(RATE_LIMIT_PERIOD_SECONDS);
    expect(limiter.simple.limit).toBeGreaterThan(0);
  });

  it("requires the API key secret, so that wrangler deploy fails while it is missing", () => {
    expect(config.secrets?.required).toEqual(["IMAGE_INSIGHTS_API_KEY"]);
  });

  it("builds an image from a Dockerfile that starts with its syntax line (BuildKit features: RUN --mount)", () => {
    const dockerfile = readFileSync(resolve(root, config.containers![0]!.image), "utf8");
    expect(dockerfile.split("\n", 1)[0]).toBe("# syntax=docker/dockerfile:1");
  });

  it("turns observability on and keeps `wrangler dev` on loopback", () => {
    expect(config.observability?.enabled).toBe(true);
    expect(config.dev?.ip).toBe("127.0.0.1");
  });

  it("keeps the API closed without a key unless PUBLIC_API is changed on purpose", () => {
    expect(config.vars?.PUBLIC_API).toBe("false");
  });

  it("defines every variable the container receives, with the service's defaults", () => {
    expect(config.vars).toEqual({
      PUBLIC_API: "false",
      CACHE_ENABLED: "true",
      CACHE_MAX_SIZE: "512",
      CACHE_TTL_SECONDS: "86400",
      ENABLE_DETAILED_LOGGING: "true",
      URL_FETCH_ALLOWLIST: "",
      ...SIZING.basic,
    });
  });

  it("sizes gunicorn for the configured instance type", () => {
    const type = config.containers![0]!.instance_type!;
    const sizing = SIZING[type];
    expect(sizing, `no sizing for instance type ${type}: add it to SIZING and the guide's table`).toBeDefined();
    const vars = config.vars ?? {};
    expect({ WEB_CONCURRENCY: vars.WEB_CONCURRENCY, GUNICORN_THREADS: vars.GUNICORN_THREADS, ANALYSIS_THREADS: vars.ANALYSIS_THREADS }).toEqual(sizing);
  });
});
