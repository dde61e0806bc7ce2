// The sharp peer's HTTP service: `cluster` forks PEER_WORKERS processes (default 2, as the
// service runs under gunicorn) that share one port on HOST:PORT. Routes: GET /health and
// POST /v1/image/analysis (multipart field `image`, query `metrics` and `edge_mode`).
import cluster from "node:cluster";
import http from "node:http";

import { ALLOWED_TYPES } from "./formats.js";
import { analysisPixels } from "./pixels.js";
import { buildResult, parseEdgeMode, parseMetrics, VALID_EDGE_MODES, VALID_METRICS } from "./result.js";
import { luminanceStats } from "./stats.js";
import { MAX_UPLOAD_BYTES, readImagePart } from "./upload.js";

const HOST = process.env.HOST ?? "127.0.0.1";
const PORT = Number(process.env.PORT ?? 8090);
const WORKERS = Number(process.env.PEER_WORKERS ?? 2);

function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(json) });
  res.end(json);
}

async function analyse(req, res, url) {
  const startedAt = performance.now();
  const metrics = parseMetrics(url.searchParams.get("metrics"));
  const edge = parseEdgeMode(url.searchParams.get("edge_mode"));
  let part;
  try {
    part = await readImagePart(req);
  } catch {
    part = null;
  }
  if (!part) {
    return send(res, 422, { detail: [{ type: "missing", loc: ["body", "image"], msg: "Field required" }] });
  }
  if (metrics.invalid) {
    return send(res, 400, {
      detail: { error: "Invalid metrics requested", invalid_metrics: metrics.invalid, valid_metrics: VALID_METRICS },
    });
  }
  if (edge.invalid) {
    return send(res, 400, {
      detail: { error: "Invalid edge_mode requested", received: url.searchParams.get("edge_mode"), valid_modes: VALID_EDGE_MODES },
    });
  }
  const mimeType = (part.mimeType ?? "").split(";")[0].trim().toLowerCase();
  if (!ALLOWED_TYPES.includes(mimeType)) {
    return send(res, 415, {
      detail: { error: "Unsupported image type", allowed_types: ALLOWED_TYPES, received_type: part.mimeType },
    });
  }
  if (part.truncated) {
    return send(res, 413, {
      detail: {
        error: "Image exceeds maximum allowed size (5MB)",
        max_size_bytes: MAX_UPLOAD_BYTES,
        received_size_bytes: Number(req.headers["content-length"] ?? part.size + 1),
      },
    });
  }
  if (part.size === 0) return send(res, 400, { detail: { error: "Empty image file" } });
  let image;
  try {
    image = await analysisPixels(part.data);
  } catch (err) {
    return send(res, 400, { detail: { error: "Invalid or corrupted image file", details: err.message } });
  }
  const stats = luminanceStats(image.pixels, image.width, image.height, image.channels);
  send(res, 200, buildResult(stats, metrics.metrics, edge.mode, image, startedAt));
}

function handle(req, res) {
  const url = new URL(req.url, "http://peer");
  if (req.method === "GET" && url.pathname === "/health") {
    return send(res, 200, { status: "healthy", service: "sharp-peer" });
  }
  if (req.method === "POST" && url.pathname === "/v1/image/analysis") {
    return analyse(req, res, url).catch((err) => {
      console.error(err);
      if (!res.headersSent) send(res, 500, { error: "Internal server error", details: "peer" });
    });
  }
  send(res, 404, { detail: "Not Found" });
}

if (cluster.isPrimary) {
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  const stop = (code) => {
    for (const worker of Object.values(cluster.workers)) worker.process.kill("SIGTERM");
    process.exit(code);
  };
  // A benchmark with a worker gone would measure one process, not two: stop, and loudly
  // (the port taken, a crash).
  cluster.on("exit", (worker, code, signal) => {
    console.error(`sharp peer: worker ${worker.process.pid} exited (${signal ?? code}); stopping`);
    stop(1);
  });
  // Stop the workers with the primary, as gunicorn's master does.
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => stop(0));
  console.error(`sharp peer: ${WORKERS} workers on http://${HOST}:${PORT}`);
} else {
  http.createServer(handle).listen(PORT, HOST);
}
