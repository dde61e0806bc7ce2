/** Reading the request body at the edge without ever holding more than the limit. */

export type BodyRead =
  | { within: true; bytes: ArrayBuffer | null }
  | { within: false; receivedBytes: number };

/** The declared Content-Length, or null when absent or not a plain number. */
export function declaredLength(request: Request): number | null {
  const header = request.headers.get("Content-Length");
  if (header === null || !/^\d+$/.test(header.trim())) {
    return null;
  }
  return Number(header.trim());
}

/**
 * The whole body, buffered so it can be sent to a second instance if the first fails, or
 * `within: false` as soon as more than `limit` bytes arrive (a chunked upload declares no size).
 */
export async function readBodyWithin(request: Request, limit: number): Promise<BodyRead> {
  if (request.body === null) {
    return { within: true, bytes: null };
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    received += value.byteLength;
    if (received > limit) {
      await reader.cancel();
      return { within: false, receivedBytes: received };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { within: true, bytes: bytes.buffer };
}
