// The contract's statistics over the raw pixels sharp hands back: Rec. 709 luminance per
// pixel as the exact integer L x 10000, its mean, its exact median, the ten buckets and the
// edge strips' mean. Plain JavaScript over typed arrays, no allocation per pixel.

/** Rec. 709 weights over 10000: L x 10000 = 2126 R + 7152 G + 722 B, an exact integer. */
const WEIGHT_R = 2126;
const WEIGHT_G = 7152;
const WEIGHT_B = 722;
/** A grey sample v has L = v, so L x 10000 = 10000 v. */
const GREY_SCALE = 10000;
/** Bucket i holds i x 25.6 <= L < (i + 1) x 25.6: edges at multiples of 256000 in L x 10000. */
const BUCKET_WIDTH = 256000;
export const BUCKET_COUNT = 10;
/**
 * One pass counts L x 10000 (at most 2,550,000) into bins of 1000 units. A bucket is exactly
 * 256 bins, and the median is found by counting, not sorting: the bins tell which one holds
 * each middle rank, and a second pass counts the values of just that bin, unit by unit. Two
 * linear passes and 14 KB of counters, where a typed-array sort of 174 k values costs several
 * milliseconds and a 2.55 M-entry count array 10 MB to clear. (Int32Array throughout: V8
 * keeps its elements as small integers, where Uint32Array values cost conversions.)
 */
const BIN_WIDTH = 1000;
const BIN_COUNT = 2550000 / BIN_WIDTH + 1;
const BINS_PER_BUCKET = BUCKET_WIDTH / BIN_WIDTH;

// One request's statistics run synchronously on the process's only JavaScript thread, so
// these buffers are reused from request to request.
let luminance = new Int32Array(512 * 512);
const bins = new Int32Array(BIN_COUNT);
const units = new Int32Array(BIN_WIDTH);

/**
 * Statistics of an interleaved 8-bit image of `channels` 1 (grey) or 3 (RGB), in L x 10000
 * units: { count, sum, median, buckets, edges(mode) -> { sum, count } }.
 */
export function luminanceStats(pixels, width, height, channels) {
  const count = width * height;
  if (luminance.length < count) luminance = new Int32Array(count);
  const values = luminance;
  bins.fill(0);
  let sum;
  if (channels === 3) sum = luminanceOfRgb(pixels, values, count);
  else if (channels === 1) sum = luminanceOfGrey(pixels, values, count);
  else throw new Error(`expected 1 or 3 channels, got ${channels}`);
  const buckets = new Array(BUCKET_COUNT).fill(0);
  for (let bin = 0; bin < BIN_COUNT; bin++) {
    buckets[Math.min(BUCKET_COUNT - 1, (bin / BINS_PER_BUCKET) | 0)] += bins[bin];
  }
  return {
    count,
    sum,
    median: medianOf(values, count),
    buckets,
    edges: (mode) => edgeSum(values, width, height, mode),
  };
}

// The per-pixel loops live in functions of their own, so V8 optimises each whole: a loop
// inside luminanceStats was compiled on the stack, then thrown away on every call at the
// code after it (3x slower).

/** Fills `values` with L x 10000 of each RGB pixel and counts them into `bins`; the sum. */
function luminanceOfRgb(pixels, values, count) {
  let sum = 0;
  for (let i = 0, p = 0; i < count; i++, p += 3) {
    const v = (WEIGHT_R * pixels[p] + WEIGHT_G * pixels[p + 1] + WEIGHT_B * pixels[p + 2]) | 0;
    values[i] = v;
    sum += v;
    bins[(v / BIN_WIDTH) | 0]++; // exact: the quotient of two integers, truncated
  }
  return sum;
}

function luminanceOfGrey(pixels, values, count) {
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const v = (GREY_SCALE * pixels[i]) | 0;
    values[i] = v;
    sum += v;
    bins[(v / BIN_WIDTH) | 0]++;
  }
  return sum;
}

/**
 * The exact median: the middle value, or the mean of the two middle values for an even
 * count. The two ranks almost always share a bin, whose values are counted once.
 */
function medianOf(values, count) {
  const lower = (count - 1) >> 1;
  const upper = count >> 1;
  const [lowerBin, lowerBelow] = binOf(lower);
  const [upperBin, upperBelow] = binOf(upper);
  countUnits(values, count, lowerBin);
  const lowerValue = valueInBin(lowerBin, lower - lowerBelow);
  if (upperBin !== lowerBin) countUnits(values, count, upperBin);
  return (lowerValue + valueInBin(upperBin, upper - upperBelow)) / 2;
}

/** [the bin holding `rank`, how many values lie in the bins below it]. */
function binOf(rank) {
  let bin = 0;
  let below = 0;
  while (below + bins[bin] <= rank) below += bins[bin++];
  return [bin, below];
}

function countUnits(values, count, bin) {
  units.fill(0);
  const base = bin * BIN_WIDTH;
  for (let i = 0; i < count; i++) {
    const offset = values[i] - base;
    if (offset >= 0 && offset < BIN_WIDTH) units[offset]++;
  }
}

/** The value of rank `rank` among those of `bin` (its units counted). */
function valueInBin(bin, rank) {
  let unit = 0;
  let below = 0;
  while (below + units[unit] <= rank) below += units[unit++];
  return bin * BIN_WIDTH + unit;
}

/** Sums a w0 x h0 rectangle at (x0, y0) of the luminance plane. */
function rectSum(values, width, x0, y0, w0, h0) {
  let sum = 0;
  for (let y = y0; y < y0 + h0; y++) {
    const row = y * width;
    for (let x = row + x0, end = row + x0 + w0; x < end; x++) sum += values[x];
  }
  return sum;
}

/**
 * { sum, count } over the contract's edge strips: ew = max(1, int(w x 0.1)) columns at each
 * side, eh = max(1, int(h x 0.1)) rows at top and bottom; for `all`, the top and bottom rows
 * only between the side strips (corners once). Overlapping strips of a tiny image count twice.
 */
function edgeSum(values, width, height, mode) {
  const ew = Math.max(1, Math.floor(width * 0.1));
  const eh = Math.max(1, Math.floor(height * 0.1));
  const inner = Math.max(0, width - 2 * ew);
  const strips = [];
  if (mode === "left_right" || mode === "all") {
    strips.push([0, 0, ew, height], [width - ew, 0, ew, height]);
  }
  if (mode === "top_bottom") {
    strips.push([0, 0, width, eh], [0, height - eh, width, eh]);
  } else if (mode === "all") {
    strips.push([ew, 0, inner, eh], [ew, height - eh, inner, eh]);
  }
  let sum = 0;
  let count = 0;
  for (const [x0, y0, w0, h0] of strips) {
    sum += rectSum(values, width, x0, y0, w0, h0);
    count += w0 * h0;
  }
  return { sum, count };
}
