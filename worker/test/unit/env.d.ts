// Gives `env` and `exports` from "cloudflare:workers" the Worker's types in the tests.
import type { Env as WorkerEnv } from "../../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
    interface GlobalProps {
      mainModule: typeof import("../../src/index");
    }
  }
}
