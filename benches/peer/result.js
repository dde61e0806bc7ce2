// The contract's query parameters and response fields, for the peer's answers.
import { BUCKET_COUNT } from "./stats.js";

export const VALID_METRICS = ["brightness", "median", "histogram"];
export const VALID_EDGE_MODES = ["left_right", "top_bottom", "all"];
const HISTOGRAM_RANGES = [
  "0-24", "25-50", "51-75", "76-101", "102-127",
  "128-152", "153-178", "179-203", "204-229", "230-255",
];
/** L x 10000 back to L. */
const SCALE = 10000;

/** { metrics } or { invalid }: comma-separated, trimmed, lower-cased, empties ignored. */
export function parseMetrics(raw) {
  const names = (raw ?? "").split(",").map((name) => name.trim().toLowerCase()).filter(Boolean);
  const invalid = names.filter((name) => !VALID_METRICS.includes(name));
  if (invalid.length) return { invalid };
  return { metrics: new Set(names.length ? names : ["brightness"]) };
}

/** { mode } (null when absent) or { invalid: true }. */
export function parseEdgeMode(raw) {
  if (raw === null) return { mode: null };
  const mode = raw.trim().toLowerCase();
  return VALID_EDGE_MODES.includes(mode) ? { mode } : { invalid: true };
}

const round = (value, digits) => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};
const score = (luminance) => Math.round((luminance / 255) * 100);

/** The response body of a successful analysis. */
export function buildResult(stats, metrics, edgeMode, image, startedAt) {
  const result = {};
  if (metrics.has("brightness")) {
    const average = stats.sum / stats.count / SCALE;
    result.brightness_score = score(average);
    result.average_luminance = round(average, 2);
  }
  if (metrics.has("median")) result.median_luminance = round(stats.median / SCALE, 2);
  if (metrics.has("histogram")) {
    result.histogram = [];
    for (let i = 0; i < BUCKET_COUNT; i++) {
      result.histogram.push({
        range: HISTOGRAM_RANGES[i],
        percent: round((stats.buckets[i] / stats.count) * 100, 1),
      });
    }
  }
  if (edgeMode) {
    const edge = stats.edges(edgeMode);
    const average = edge.sum / edge.count / SCALE;
    result.edge_brightness_score = score(average);
    result.edge_average_luminance = round(average, 2);
    result.edge_mode = edgeMode;
  }
  result.width = image.originalWidth;
  result.height = image.originalHeight;
  result.algorithm = "rec709";
  result.cached = false;
  result.processing_time_ms = round(performance.now() - startedAt, 2);
  return result;
}
