/** The request id: the client's X-Request-ID when sane, else a new one (the service's rule). */

export const REQUEST_ID_HEADER = "X-Request-ID";

/** Same pattern as the service's, so an id the edge accepts is never replaced behind it. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(request: Request): string {
  const sent = request.headers.get(REQUEST_ID_HEADER);
  if (sent !== null && SANE_REQUEST_ID.test(sent)) {
    return sent;
  }
  return crypto.randomUUID().replaceAll("-", "");
}
