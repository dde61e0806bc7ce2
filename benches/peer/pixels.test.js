// pixels.js on every format the peer accepts: a generated picture encoded by sharp in that
// format decodes to the analysed size with the source's colours, within the format's lossy
// tolerance. Run: npm test.
import assert from "node:assert/strict";
import { test } from "node:test";

import sharp from "sharp";

import { DECODED_TYPES } from "./formats.js";
import { ANALYSIS_SIZE, analysisPixels } from "./pixels.js";

/** A smooth RGB picture (gradients, no noise), so every lossy encoder keeps its means. */
function gradient(width, height) {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      pixels[p] = Math.round((255 * x) / (width - 1));
      pixels[p + 1] = Math.round((255 * y) / (height - 1));
      pixels[p + 2] = 96;
    }
  }
  return pixels;
}

function channelMeans(pixels, channels) {
  const sums = new Array(channels).fill(0);
  for (let i = 0; i < pixels.length; i++) sums[i % channels] += pixels[i];
  return sums.map((sum) => sum / (pixels.length / channels));
}

/** Mean levels an encode-decode round trip may move at quality 90 (PNG: none). */
const MEAN_TOLERANCE = 2;

for (const [mimeType, format] of DECODED_TYPES) {
  test(`${mimeType}: decoded at its size, colours kept`, async () => {
    const [width, height] = [160, 120];
    const raw = gradient(width, height);
    const encoded = await sharp(raw, { raw: { width, height, channels: 3 } })
      .toFormat(format, { quality: 90 })
      .toBuffer();
    const image = await analysisPixels(encoded);
    assert.deepEqual([image.width, image.height, image.channels], [width, height, 3]);
    assert.deepEqual([image.originalWidth, image.originalHeight], [width, height]);
    const got = channelMeans(image.pixels, 3);
    const want = channelMeans(raw, 3);
    for (let c = 0; c < 3; c++) {
      assert.ok(Math.abs(got[c] - want[c]) <= MEAN_TOLERANCE, `channel ${c}: ${got[c]} vs ${want[c]}`);
    }
  });

  test(`${mimeType}: larger than the analysis size, resized to fit it`, async () => {
    const [width, height] = [1200, 800];
    const encoded = await sharp(gradient(width, height), { raw: { width, height, channels: 3 } })
      .toFormat(format)
      .toBuffer();
    const image = await analysisPixels(encoded);
    assert.deepEqual([image.width, image.height], [ANALYSIS_SIZE, 341]);
    assert.deepEqual([image.originalWidth, image.originalHeight], [width, height]);
  });
}
