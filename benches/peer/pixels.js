// Bytes to the analysed pixels with sharp: EXIF orientation applied, Lanczos 3 down to fit
// 512 x 512 (never enlarged), alpha dropped, sRGB, raw 8-bit samples.
import sharp from "sharp";

/** The contract's decompression-bomb guard: MAX_IMAGE_PIXELS' default. */
export const MAX_IMAGE_PIXELS = 50_000_000;
/** The analysed image's longer side, at most. */
export const ANALYSIS_SIZE = 512;

// Every request must be computed, never answered from libvips' operation cache: the service
// is measured with its result cache off.
sharp.cache(false);
// libvips threads per image. sharp's default on glibc Linux is 1; each process already runs
// up to four images at once on libuv's pool. SHARP_CONCURRENCY overrides it, for trying.
if (process.env.SHARP_CONCURRENCY) sharp.concurrency(Number(process.env.SHARP_CONCURRENCY));

/**
 * Resolves to { pixels, width, height, channels, originalWidth, originalHeight }, where
 * width x height is the analysed size and the original size is the file's, before
 * orientation (as the service reports it). Rejects when sharp cannot decode the bytes.
 */
export async function analysisPixels(data) {
  const image = sharp(data, { limitInputPixels: MAX_IMAGE_PIXELS });
  const { width: originalWidth, height: originalHeight } = await image.metadata();
  const { data: pixels, info } = await image
    .rotate()
    .resize({
      width: ANALYSIS_SIZE,
      height: ANALYSIS_SIZE,
      fit: "inside",
      withoutEnlargement: true,
      kernel: "lanczos3",
    })
    .removeAlpha()
    .toColourspace("srgb")
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    pixels,
    width: info.width,
    height: info.height,
    channels: info.channels,
    originalWidth,
    originalHeight,
  };
}
