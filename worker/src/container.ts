/** The Durable Object class that runs one instance of the service's image. */
import { Container } from "@cloudflare/containers";
import type { StopParams } from "@cloudflare/containers";
import type { Env } from "./env";
import { CONTAINER_PORT, CONTAINER_READINESS_PROBE, CONTAINER_SLEEP_AFTER } from "./limits";
import { logEvent } from "./log";

/**
 * The Worker variables handed to the service unchanged: its settings (the contract's
 * configuration table) and the sizing of gunicorn for the instance type (gunicorn.conf.py).
 */
const PASSED_THROUGH = [
  "CACHE_ENABLED",
  "CACHE_MAX_SIZE",
  "CACHE_TTL_SECONDS",
  "ENABLE_DETAILED_LOGGING",
  "URL_FETCH_ALLOWLIST",
  "WEB_CONCURRENCY",
  "GUNICORN_THREADS",
  "ANALYSIS_THREADS",
] as const;

/** The environment the container starts with: the pass-through variables that are set, and PORT. */
export function containerEnvVars(env: Env): Record<string, string> {
  const vars: Record<string, string> = { PORT: String(CONTAINER_PORT) };
  for (const name of PASSED_THROUGH) {
    const value = env[name];
    if (typeof value === "string") {
      vars[name] = value;
    }
  }
  return vars;
}

export class ImageInsightsContainer extends Container<Env> {
  override defaultPort = CONTAINER_PORT;
  override sleepAfter = CONTAINER_SLEEP_AFTER;
  override envVars = containerEnvVars(this.env);
  // The readiness probe the library sends (as http://<pingEndpoint>) before the first request:
  // the service's /ready answers only once a gunicorn worker has the app loaded and has run the
  // Rust core. /health stays the liveness check.
  override pingEndpoint = CONTAINER_READINESS_PROBE;

  override onStart(): void {
    logEvent("container_started", { instance: this.ctx.id.toString() });
  }

  override onStop(params: StopParams): void {
    logEvent("container_stopped", { instance: this.ctx.id.toString(), exit_code: params.exitCode, reason: params.reason });
  }

  override onError(error: unknown): unknown {
    logEvent("container_error", { instance: this.ctx.id.toString(), error: String(error) });
    throw error;
  }
}
