"""gunicorn settings for Image Insights. Every value comes from an environment variable with
a default. gunicorn reads them from here with `--config python:image_insights.serving.
gunicorn_config` (what `image-insights serve` runs, installed or not), or from the
checkout's and the container's gunicorn.conf.py, which re-exports them."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

# Refuse to start on a CPU without the extensions the image is compiled for (pillow-simd for
# AVX2, the Rust core for AVX2, FMA and BMI2 in .cargo/config.toml): either would die of an
# illegal instruction at the first image instead. IMAGE_INSIGHTS_CPUINFO reads another file.
_REQUIRED_CPU_FLAGS = ("avx2", "fma", "bmi2")
_cpuinfo = os.environ.get("IMAGE_INSIGHTS_CPUINFO", "/proc/cpuinfo")
if os.path.exists(_cpuinfo):
    with open(_cpuinfo, encoding="utf-8", errors="replace") as _f:
        _flags = next((line for line in _f if line.startswith("flags")), "").split()
    _missing = [flag.upper() for flag in _REQUIRED_CPU_FLAGS if flag not in _flags]
    if _flags and _missing:
        sys.exit(
            f"image-insights: this CPU lacks {', '.join(_missing)}, which this build requires"
            " (pillow-simd and the Rust core are compiled for AVX2, FMA and BMI2)"
        )

# Where to listen. HOST=127.0.0.1 keeps a local run off the network.
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8080')}"
# The work is CPU-bound: one process per usable core (what this process may run on, not
# what the host has).
workers = int(os.environ.get("WEB_CONCURRENCY", len(os.sched_getaffinity(0))))
# gunicorn's gthread worker, except that requests are read in its event loop and a thread
# gets only a request that has arrived (each within REQUEST_READ_TIMEOUT_SECONDS, buffered up
# to REQUEST_BUFFER_BYTES per worker): slow clients hold no thread (docs/RELIABILITY.md,
# "Slow clients"). Threads: the Rust core and Pillow release the GIL; CPU-bound work is
# bounded by the analyzer's own pool, and idle threads cost little.
worker_class = "image_insights.serving.worker.DeadlineThreadWorker"
threads = int(os.environ.get("GUNICORN_THREADS", "64"))
# The app module; the container's command is just `gunicorn`.
wsgi_app = "image_insights.wsgi:app"
# Last line of defence behind the app's own 2-second limits.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then, staggered, so no slow leak can accumulate.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# Heartbeat files in memory, not on a possibly slow or read-only disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
# Logs to stdout/stderr, for `wrangler tail`, journald or docker logs.
accesslog = None  # the app logs one line per request itself (ENABLE_DETAILED_LOGGING)
errorlog = "-"
# No runtime control socket: nothing here uses it, and it would be a file in $HOME.
control_socket_disable = True
loglevel = os.environ.get("LOG_LEVEL", "info")
# Bounded request lines and headers.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190


# Prometheus multiprocess mode: each worker writes its samples to files in this folder and a
# scrape of /metrics sums them. Made fresh at start (under /dev/shm: in memory) unless the
# environment names one, and emptied of stale files either way; a folder made here is
# removed at exit. Set in the master before any worker imports prometheus_client.
_METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
_made_metrics_dir: str | None = None


def _prepare_metrics_dir() -> str:
    global _made_metrics_dir
    given = os.environ.get(_METRICS_DIR_ENV)
    if given:
        os.makedirs(given, exist_ok=True)
        for name in os.listdir(given):
            if name.endswith(".db"):
                os.remove(os.path.join(given, name))
        return given
    _made_metrics_dir = tempfile.mkdtemp(prefix="image-insights-metrics-", dir=worker_tmp_dir)
    os.environ[_METRICS_DIR_ENV] = _made_metrics_dir
    return _made_metrics_dir


def on_starting(server: Any) -> None:
    # Read the service's settings once here, so a malformed variable stops the start with a
    # one-line message naming it, instead of every worker failing to boot.
    from image_insights.config import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as err:
        sys.exit(f"image-insights: {err}")
    metrics_dir = _prepare_metrics_dir()
    server.log.info(
        "image-insights: bind=%s workers=%d threads=%d timeout=%ds max_requests=%d metrics_dir=%s"
        " request_read_timeout=%gs request_buffer=%dMiB",
        bind, workers, threads, timeout, max_requests, metrics_dir,
        settings.request_read_timeout_seconds, settings.request_buffer_bytes // (1024 * 1024),
    )


def child_exit(server: Any, worker: Any) -> None:
    # A recycled or crashed worker's live gauges stop counting; its counters stay summed.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    if _made_metrics_dir:
        import shutil

        shutil.rmtree(_made_metrics_dir, ignore_errors=True)


def post_worker_init(worker: Any) -> None:
    # Route the app's own loggers (access lines, errors) through gunicorn's error log handlers.
    import logging

    app_log = logging.getLogger("image_insights")
    app_log.handlers = worker.log.error_log.handlers
    app_log.setLevel(logging.INFO)
    app_log.propagate = False
