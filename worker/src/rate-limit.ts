/**
 * Rate limiting at the edge, with Cloudflare's rate-limiting binding (wrangler.toml
 * `[[ratelimits]]`): per API key, or per client address when the API is public. Counters are
 * kept per Cloudflare location.
 */
import { logEvent } from "./log";

/** The client's address as Cloudflare's edge reports it; a client cannot set it there. */
const CLIENT_ADDRESS_HEADER = "CF-Connecting-IP";

/**
 * The first four groups of an IPv6 address (its /64 network, which one client usually holds
 * whole), written in full; null when `address` is not IPv6.
 */
function ipv6Network(address: string): string | null {
  if (!address.includes(":")) {
    return null;
  }
  const [head = "", tail, ...extra] = address.toLowerCase().split("::");
  if (extra.length > 0) {
    return null;
  }
  const groupsOf = (part: string) => (part === "" ? [] : part.split(":"));
  // A trailing dotted IPv4 address (::ffff:192.0.2.1) stands for two groups.
  const width = (groups: string[]) => groups.length + (groups.at(-1)?.includes(".") ? 1 : 0);
  const first = groupsOf(head);
  const last = tail === undefined ? [] : groupsOf(tail);
  const zeros = tail === undefined ? 0 : 8 - width(first) - width(last);
  const groups = [...first, ...Array<string>(Math.max(zeros, 0)).fill("0"), ...last];
  return groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ""))
    .join(":");
}

/** The counter a client without a key is counted on: its IPv4 address, or its IPv6 /64. */
export function clientAddressKey(address: string | null): string {
  const trimmed = address?.trim() ?? "";
  if (trimmed === "") {
    return "address:unknown";
  }
  const network = ipv6Network(trimmed);
  return network === null ? `address:${trimmed}` : `address:${network}::/64`;
}

/** The counter of a request that carried a valid key: the key's SHA-256, never the key itself. */
export async function apiKeyRateKey(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  return `key:${Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

export function clientAddressOf(request: Request): string | null {
  return request.headers.get(CLIENT_ADDRESS_HEADER);
}

/**
 * Whether the request counted on `key` is within its limit. Should the limiter itself fail, the
 * request goes through: an outage of the counters must not become an outage of the API.
 */
export async function withinRateLimit(limiter: RateLimit, key: string, requestId: string): Promise<boolean> {
  try {
    return (await limiter.limit({ key })).success;
  } catch (error) {
    logEvent("rate_limit_error", { request_id: requestId, error: String(error) });
    return true;
  }
}
