/** The bindings, variables and secrets the Worker reads; wrangler.toml declares them. */
import type { ImageInsightsContainer } from "./container";

export interface Env {
  /** Durable Object namespace whose objects each run one container instance. */
  IMAGE_INSIGHTS_CONTAINER: DurableObjectNamespace<ImageInsightsContainer>;
  /** Secret: comma-separated API keys. Unset means the API is open. */
  IMAGE_INSIGHTS_API_KEY?: string;
  /** When set (e.g. http://127.0.0.1:8080), requests go there instead of to a container. */
  LOCAL_ORIGIN?: string;
  /** Passed through to the container, see the service's configuration table. */
  CACHE_ENABLED?: string;
  CACHE_MAX_SIZE?: string;
  CACHE_TTL_SECONDS?: string;
  ENABLE_DETAILED_LOGGING?: string;
}
