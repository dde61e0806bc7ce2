/** Every number the edge enforces or depends on, in one place. */

/** The service's upload limit (the contract's 5 MB, 5,242,880 bytes). */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

/**
 * Room for the multipart framing around the image: boundaries, part headers and the small
 * form fields a client may add. A real upload's framing is a few hundred bytes.
 */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/** Largest request body the edge forwards; anything larger is refused with 413 before a container wakes. */
export const MAX_REQUEST_BODY_BYTES = MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES;

/**
 * How many container instances requests are spread over. It must equal `max_instances` in
 * wrangler.toml (a test checks): more would ask for instances Cloudflare never starts, fewer
 * would leave paid-for capacity unused.
 */
export const CONTAINER_INSTANCES = 5;

/** The port gunicorn listens on inside the image (the service's PORT default). */
export const CONTAINER_PORT = 8080;

/**
 * Host and path of the readiness probe @cloudflare/containers sends to the port before a
 * container takes requests: the service's GET /ready (the library's default, "ping", asks "/").
 */
export const CONTAINER_READINESS_PROBE = "container/ready";

/** Idle time after which an instance is stopped; the next request to it pays a cold start. */
export const CONTAINER_SLEEP_AFTER = "5m";

/**
 * Attempts per request in container mode: the first instance, then one other, and the second
 * only when the first failed before the request reached the service.
 */
export const CONTAINER_ATTEMPTS = 2;

/**
 * One deadline for all the attempts of a request. @cloudflare/containers 0.3.7 waits up to 8 s
 * for an instance and 20 s in all for its port; the service bounds its own work at 2 s of
 * download plus 2 s of analysis. 25 s lets one attempt use the library's whole start-up wait
 * and still leaves a warm second instance time to answer.
 */
export const CONTAINER_DEADLINE_MS = 25_000;

/** Seconds a client is told to wait after a 503 from the edge. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * The period of the edge's rate limit, which clients are told to wait (Retry-After) once they
 * reach it. It must equal `simple.period` of the RATE_LIMITER binding in wrangler.toml (a test
 * checks); Cloudflare accepts 10 or 60.
 */
export const RATE_LIMIT_PERIOD_SECONDS = 60;
