/**
 * Reading the request body at the edge: once, into one buffer that every attempt re-sends, and
 * never more than the limit.
 */

export type BodyRead =
  | { within: true; bytes: Uint8Array | null }
  | { within: false; receivedBytes: number };

/** The declared Content-Length, or null when absent or not a plain number. */
function declaredLength(request: Request): number | null {
  const header = request.headers.get("Content-Length");
  if (header === null || !/^\d+$/.test(header.trim())) {
    return null;
  }
  return Number(header.trim());
}

/**
 * The whole body, or `within: false` as soon as it is known to exceed `limit`: from its declared
 * length before anything is read, or, for a body that declares none (chunked), from the bytes
 * read so far.
 */
export async function readBodyWithin(request: Request, limit: number): Promise<BodyRead> {
  if (request.body === null) {
    return { within: true, bytes: null };
  }
  const declared = declaredLength(request);
  if (declared === null) {
    return readUndeclared(request.body, limit);
  }
  if (declared > limit) {
    return { within: false, receivedBytes: declared };
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  // The platform ends a body at its declared length; should one ever be longer, it is still refused.
  return bytes.byteLength > limit ? { within: false, receivedBytes: bytes.byteLength } : { within: true, bytes };
}

/**
 * A body of unknown length, copied chunk by chunk into one buffer that grows in place: a
 * resizable ArrayBuffer reserves `limit` bytes of address space and commits only what is used,
 * so the chunks are never kept beside a joined copy.
 */
async function readUndeclared(body: ReadableStream<Uint8Array>, limit: number): Promise<BodyRead> {
  const buffer = new ArrayBuffer(0, { maxByteLength: limit });
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      return { within: true, bytes: new Uint8Array(buffer) };
    }
    const offset = buffer.byteLength;
    const received = offset + value.byteLength;
    if (received > limit) {
      await reader.cancel();
      return { within: false, receivedBytes: received };
    }
    buffer.resize(received);
    new Uint8Array(buffer, offset).set(value);
  }
}
