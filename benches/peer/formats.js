// The media types the peer accepts: the contract's two, then the formats of issue 18 that
// sharp's prebuilt libvips decodes. Not HEIC: its libheif is built with the AV1 decoder only
// (libheif says "Support for this compression format has not been built in: HEVC").

/** Media type -> sharp's format id, in the 415 body's order. */
export const DECODED_TYPES = new Map([
  ["image/jpeg", "jpeg"],
  ["image/png", "png"],
  ["image/webp", "webp"],
  ["image/avif", "avif"],
]);

/** The 415 body's `allowed_types`. */
export const ALLOWED_TYPES = [...DECODED_TYPES.keys()];
