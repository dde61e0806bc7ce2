// Reads the multipart upload's `image` part into one Buffer with busboy, stopping at the
// contract's 5 MB limit.
import busboy from "busboy";

/** The contract's upload limit: 5 MB. */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

/**
 * Resolves to { data, mimeType, truncated } for the first `image` part, or null when the
 * body has none. Other parts are drained and ignored.
 */
export function readImagePart(req) {
  return new Promise((resolve, reject) => {
    let parser;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: MAX_UPLOAD_BYTES } });
    } catch (err) {
      reject(err); // not multipart/form-data, or no boundary
      return;
    }
    let found = null;
    parser.on("file", (name, stream, info) => {
      if (name !== "image" || found) {
        stream.resume();
        return;
      }
      const chunks = [];
      let size = 0;
      found = { data: null, mimeType: info.mimeType, truncated: false, size: 0 };
      stream.on("data", (chunk) => {
        chunks.push(chunk);
        size += chunk.length;
      });
      stream.on("limit", () => {
        found.truncated = true;
      });
      stream.on("end", () => {
        found.data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
        found.size = size;
      });
    });
    parser.on("close", () => resolve(found));
    parser.on("error", reject);
    req.pipe(parser);
  });
}
