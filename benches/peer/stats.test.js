// stats.js against a naive version of the contract (a full sort, bucket edges compared one by
// one, strips as the contract lists them) on random images, tiny ones included. Run: npm test.
import assert from "node:assert/strict";
import { test } from "node:test";

import { luminanceStats } from "./stats.js";

function randomImage(width, height, channels, seed) {
  const pixels = new Uint8Array(width * height * channels);
  let state = seed;
  for (let i = 0; i < pixels.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    pixels[i] = state >>> 24;
  }
  return pixels;
}

function naive(pixels, width, height, channels, mode) {
  const at = (x, y) => {
    const p = (y * width + x) * channels;
    return channels === 1 ? pixels[p] * 10000 : 2126 * pixels[p] + 7152 * pixels[p + 1] + 722 * pixels[p + 2];
  };
  const all = [];
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) all.push(at(x, y));
  const sorted = [...all].sort((a, b) => a - b);
  const n = all.length;
  const buckets = new Array(10).fill(0);
  // i x 25.6 <= L < (i + 1) x 25.6, compared exactly: L x 10000 against i x 256000.
  for (const v of all) {
    let i = 9;
    while (v < i * 256000) i--;
    buckets[i]++;
  }
  const ew = Math.max(1, Math.floor(width * 0.1));
  const eh = Math.max(1, Math.floor(height * 0.1));
  const edge = [];
  const take = (x0, x1, y0, y1) => {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) edge.push(at(x, y));
  };
  if (mode !== "top_bottom") {
    take(0, ew, 0, height);
    take(width - ew, width, 0, height);
  }
  if (mode === "top_bottom") {
    take(0, width, 0, eh);
    take(0, width, height - eh, height);
  } else if (mode === "all") {
    take(ew, width - ew, 0, eh);
    take(ew, width - ew, height - eh, height);
  }
  return {
    sum: all.reduce((a, b) => a + b, 0),
    median: (sorted[(n - 1) >> 1] + sorted[n >> 1]) / 2,
    buckets,
    edge: { sum: edge.reduce((a, b) => a + b, 0), count: edge.length },
  };
}

const SIZES = [[1, 1], [2, 1], [3, 2], [7, 5], [64, 48], [301, 200], [512, 341]];

for (const channels of [1, 3]) {
  for (const [width, height] of SIZES) {
    test(`${width}x${height}, ${channels} channel(s)`, () => {
      const pixels = randomImage(width, height, channels, width * 31 + height + channels);
      const stats = luminanceStats(pixels, width, height, channels);
      for (const mode of ["left_right", "top_bottom", "all"]) {
        const expected = naive(pixels, width, height, channels, mode);
        assert.equal(stats.sum, expected.sum);
        assert.equal(stats.median, expected.median);
        assert.deepEqual(stats.buckets, expected.buckets);
        assert.deepEqual(stats.edges(mode), expected.edge, mode);
      }
    });
  }
}

test("values on bucket edges land in the upper bucket; 255 in the last", () => {
  // Grey 0, 26 (L = 26 >= 25.6) and 255: buckets 0, 1 and 9.
  const stats = luminanceStats(new Uint8Array([0, 26, 255]), 3, 1, 1);
  assert.deepEqual(stats.buckets, [1, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(stats.median, 260000);
});
