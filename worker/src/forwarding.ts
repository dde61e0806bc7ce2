/**
 * The headers a request keeps on its way past the edge. A client may send any header; some mean
 * something to the layers between the Worker and the service rather than to the service:
 * @cloudflare/containers sends a request to whatever port `cf-container-target-port` names,
 * `cf-*` names are Cloudflare's own, and hop-by-hop headers describe the client's connection,
 * not the Worker's connection to the container.
 */
import { API_KEY_HEADER } from "./auth";
import { REQUEST_ID_HEADER } from "./request-id";

/** RFC 9110 §7.6.1: the connection-specific fields, plus Proxy-Connection, which clients still send. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Never passed on: the client's key, which the service must not see, and the length of a body that is re-sent from a buffer. */
const EDGE_ONLY = new Set([API_KEY_HEADER.toLowerCase(), "content-length"]);

/** The header names a Connection header lists: those are hop-by-hop too. */
function connectionOptions(connection: string | null): Set<string> {
  const names = (connection ?? "").split(",").map((name) => name.trim().toLowerCase());
  return new Set(names.filter((name) => name.length > 0));
}

/** Whether header `name` (lower case, as Headers yields it) stops at the edge. */
function staysAtEdge(name: string, connectionListed: Set<string>): boolean {
  return name.startsWith("cf-") || HOP_BY_HOP.has(name) || EDGE_ONLY.has(name) || connectionListed.has(name);
}

/** The headers sent on: the client's, less those that stop at the edge, with the request id. */
export function upstreamHeaders(incoming: Headers, requestId: string): Headers {
  const connectionListed = connectionOptions(incoming.get("Connection"));
  const headers = new Headers();
  for (const [name, value] of incoming) {
    if (!staysAtEdge(name, connectionListed)) {
      headers.append(name, value);
    }
  }
  headers.set(REQUEST_ID_HEADER, requestId);
  return headers;
}
