// Unit tests inside workerd, against the Worker as configured by a wrangler file without containers.
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "./test/unit/wrangler.test.toml" } })],
  test: {
    include: ["test/unit/**/*.test.ts"],
  },
});
