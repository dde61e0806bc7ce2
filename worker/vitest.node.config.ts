// Tests that run in Node: the wrangler.toml checks and the end-to-end run through `wrangler dev`.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    // Starting gunicorn and wrangler dev takes seconds; these are limits, not expectations.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
