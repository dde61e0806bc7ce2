import { describe, expect, it } from "vitest";
import { containerEnvVars } from "../../src/container";
import type { Env } from "../../src/env";

describe("containerEnvVars", () => {
  it("passes the cache and logging settings through, with the port the Worker connects to", () => {
    const env = {
      CACHE_ENABLED: "false",
      CACHE_MAX_SIZE: "64",
      CACHE_TTL_SECONDS: "60",
      ENABLE_DETAILED_LOGGING: "false",
      IMAGE_INSIGHTS_API_KEY: "secret",
      LOCAL_ORIGIN: "http://127.0.0.1:1",
    } as Env;
    expect(containerEnvVars(env)).toEqual({
      PORT: "8080",
      CACHE_ENABLED: "false",
      CACHE_MAX_SIZE: "64",
      CACHE_TTL_SECONDS: "60",
      ENABLE_DETAILED_LOGGING: "false",
    });
  });

  it("leaves unset variables to the image's defaults", () => {
    expect(containerEnvVars({ CACHE_ENABLED: "true" } as Env)).toEqual({ PORT: "8080", CACHE_ENABLED: "true" });
  });
});
