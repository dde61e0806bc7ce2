"""The `image-insights` command: analyse files, folders and URLs, draw a histogram, run the
service.

Analysis runs through `image_insights.analyze_many()`, one thread per usable core (the core
releases the GIL), or on a Dask cluster with `--scheduler` / `--dask local`
(`image_insights.dask`); a URL is downloaded as the service downloads it (fetch.py: the same
SSRF vetting, deadline and size limit, configured by the same environment variables).
`serve` replaces itself with gunicorn and the package's gunicorn settings.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import orjson

from . import __version__
from ._core import SNIFF_BYTES
from .config import Settings
from .errors import CorruptImage, DownloadError, ImageInsightsError, UnreadableFile
from .fetch import has_http_scheme
from .many import ItemResult, analyze_many, usable_cores
from .pipeline import HISTOGRAM_RANGES, accepted_formats, sniff_format
from .options import (
    REGION_FORMS,
    VALID_EDGE_MODES,
    VALID_METRICS,
    Region,
    describe_formats,
    parse_edge_mode,
    parse_metrics,
    parse_placeholder_components,
    parse_regions,
)

#: Exit statuses: every input analysed; at least one failed; the command line was wrong.
EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2
#: A progress bar is drawn for more inputs than this.
PROGRESS_MIN_INPUTS = 3
#: The service's gunicorn settings, a module of this package (gunicorn's `python:` form).
GUNICORN_CONFIG = "python:image_insights.serving.gunicorn_config"
STDIN = "-"
#: The packages of the `dask` extra, which --scheduler and --dask need.
DASK_EXTRA = frozenset({"dask", "distributed", "pandas", "pyarrow"})

_EXAMPLES = {
    "analyze": """\
examples:
  image-insights analyze photo.jpg
  image-insights analyze ~/Pictures --metrics brightness,median,histogram --format csv > out.csv
  image-insights analyze a.png b.jpg --edge-mode all --format json
  image-insights analyze https://example.com/cat.jpg --metrics brightness,colors
  image-insights analyze /shared/photos --scheduler tcp://10.0.0.5:8786 --format csv > out.csv
  image-insights analyze photos/ --dask local --format jsonl
  curl -s https://example.com/cat.jpg | image-insights analyze - --format jsonl""",
    "serve": """\
examples:
  image-insights serve                       # PORT or 8080, one worker per usable core
  image-insights serve --port 9000 --workers 2 --host 127.0.0.1""",
    "histogram": """\
examples:
  image-insights histogram photo.jpg
  image-insights histogram https://example.com/cat.jpg
  cat scan.png | image-insights histogram -""",
}


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One thing to analyse: a file path, an http(s) URL, or standard input's bytes (label
    "-")."""

    label: str
    path: Path | None = None
    data: bytes | None = None
    url: str | None = None

    @classmethod
    def of(cls, argument: str) -> Source:
        """A URL when the argument starts with http:// or https://, else a path."""
        if has_http_scheme(argument):
            return cls(argument, url=argument)
        return cls(argument, path=Path(argument))

    @property
    def item(self) -> str | Path | bytes:
        """What analyze_many reads: the URL, the path, or the bytes."""
        if self.url is not None:
            return self.url
        if self.path is not None:
            return self.path
        return self.data or b""


def _looks_like_image(path: Path, formats: tuple[str, ...] | None) -> bool:
    try:
        with path.open("rb") as handle:
            sniff_format(handle.read(SNIFF_BYTES), formats)
    except (OSError, ImageInsightsError):
        return False
    return True


def collect_sources(
    paths: Sequence[str], stdin: BinaryIO, formats: tuple[str, ...] | None = None
) -> tuple[list[Source], list[tuple[str, str]]]:
    """Files as given, folders searched recursively for images of `formats` (None: every
    supported format; recognised by content, whatever the file name), http(s) URLs, "-" as
    standard input. Returns the sources and (label, reason) of paths that could not be
    used."""
    sources: list[Source] = []
    missing: list[tuple[str, str]] = []
    for raw in paths:
        if raw == STDIN:
            sources.append(Source(STDIN, data=stdin.read()))
            continue
        if has_http_scheme(raw):
            sources.append(Source.of(raw))
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and _looks_like_image(p, formats)
            )
            sources.extend(Source(str(p), path=p) for p in found)
        elif path.exists():
            sources.append(Source(raw, path=path))
        else:
            missing.append((raw, "no such file or directory"))
    return sources, missing


# --- analysis --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    label: str
    result: dict[str, Any] | None = None
    error: str | None = None


def outcome_of(source: Source, item: ItemResult) -> Outcome:
    if item.error is not None:
        return Outcome(source.label, error=_describe(item.error))
    return Outcome(source.label, result=item.result)


def _describe(exc: ImageInsightsError) -> str:
    if isinstance(exc, UnreadableFile):
        return exc.reason
    if isinstance(exc, CorruptImage):
        return f"invalid or corrupted image file: {exc.reason}"
    if isinstance(exc, DownloadError) and exc.url:
        return f"download from {exc.url} failed: {exc}"
    if isinstance(exc, DownloadError):
        return f"URL refused: {exc}"
    return str(exc)


def run_all(
    sources: list[Source],
    metrics: tuple[str, ...],
    edge_mode: str | None,
    progress: Progress,
    results: Iterable[ItemResult] | None = None,
    regions: tuple[Region, ...] = (),
    placeholder_components: tuple[int, int] | None = None,
    formats: tuple[str, ...] | None = None,
) -> list[Outcome]:
    """Every source's outcome, in input order: from `results` (the items' ItemResults in
    any order), by default analyze_many's on one thread per usable core."""
    if results is None:
        workers = max(1, min(usable_cores(), len(sources)))
        items = [source.item for source in sources]
        settings = Settings.from_env()
        results = analyze_many(
            items, metrics, edge_mode, regions=regions,
            placeholder_components=placeholder_components, workers=workers, settings=settings,
            formats=formats,
        )  # fmt: skip
    by_index: dict[int, Outcome] = {}
    for item in results:
        by_index[item.index] = outcome_of(sources[item.index], item)
        progress.advance()
    return [by_index[index] for index in range(len(sources))]


def run_on_dask(
    sources: list[Source],
    metrics: tuple[str, ...],
    edge_mode: str | None,
    progress: Progress,
    scheduler: str | None,
) -> list[Outcome]:
    """run_all on the Dask cluster at `scheduler` (None: one started on this machine).
    Paths are made absolute: the workers do not share this process's directory.

    Raises:
        ModuleNotFoundError: the dask extra is not installed. OSError: no scheduler there.
    """
    from . import dask as on_dask

    items = [source.path.absolute() if source.path else source.item for source in sources]
    with on_dask.connect(scheduler) as client:
        results = on_dask.iter_results(
            client, items, metrics, edge_mode, settings=Settings.from_env()
        )
        return run_all(sources, metrics, edge_mode, progress, results)


class Progress:
    """A one-line bar on a terminal; nothing at all anywhere else."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        self._total = total
        self._done = 0
        self._stream = stream
        self._enabled = enabled and total > PROGRESS_MIN_INPUTS

    def advance(self, count: int = 1) -> None:
        self._done += count
        if not self._enabled:
            return
        filled = self.WIDTH * self._done // self._total
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self._stream.write(f"\r[{bar}] {self._done}/{self._total} images")
        if self._done >= self._total:
            self._stream.write("\n")
        self._stream.flush()


# --- output ----------------------------------------------------------------------------------

#: Table columns for the contract's fields: (heading, field).
_TABLE_FIELDS = (
    ("score", "brightness_score"),
    ("average", "average_luminance"),
    ("median", "median_luminance"),
    ("edge score", "edge_brightness_score"),
    ("edge average", "edge_average_luminance"),
)
#: Fields every result has, or that the table shows otherwise.
_NOT_EXTRA = {"width", "height", "algorithm", "edge_mode", "histogram"} | {
    field for _, field in _TABLE_FIELDS
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def write_table(outcomes: list[Outcome], out: TextIO) -> None:
    results = [(o.label, o.result) for o in outcomes if o.result is not None]
    if not results:
        return
    present = [(h, f) for h, f in _TABLE_FIELDS if any(f in r for _, r in results)]
    # Numbers that later metrics add (sharpness, ...), shown by their field names.
    extra = sorted(
        {k for _, r in results for k, v in r.items() if k not in _NOT_EXTRA and _is_number(v)}
    )
    headings = ["file", "size"] + [h for h, _ in present] + extra
    rows = [
        [label, f"{r['width']}x{r['height']}"]
        + [_cell(r.get(f)) for _, f in present]
        + [_cell(r.get(k)) for k in extra]
        for label, r in results
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(headings, *rows, strict=True)]
    out.write("  ".join(h.ljust(w) for h, w in zip(headings, widths, strict=True)).rstrip() + "\n")
    for row in rows:
        numbers = [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        cells = [row[0].ljust(widths[0]), *numbers]
        out.write("  ".join(cells).rstrip() + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _record(outcome: Outcome) -> dict[str, Any]:
    if outcome.result is None:
        return {"file": outcome.label, "error": outcome.error}
    return {"file": outcome.label, **outcome.result}


def write_json(outcomes: list[Outcome], out: TextIO) -> None:
    out.write(orjson.dumps([_record(o) for o in outcomes], option=orjson.OPT_INDENT_2).decode())
    out.write("\n")


def write_jsonl(outcomes: list[Outcome], out: TextIO) -> None:
    for outcome in outcomes:
        out.write(orjson.dumps(_record(outcome)).decode() + "\n")


def _flatten(record: dict[str, Any]) -> dict[str, Any]:
    """One CSV cell per value: histogram buckets become `histogram_<range>` columns, other
    nested values (lists, objects) are written as JSON."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if key == "histogram" and isinstance(value, list):
            flat.update({f"histogram_{b['range']}": b["percent"] for b in value})
        elif isinstance(value, (list, dict)):
            flat[key] = orjson.dumps(value).decode()
        else:
            flat[key] = value
    return flat


def write_csv(outcomes: list[Outcome], out: TextIO) -> None:
    records = [_flatten(_record(o)) for o in outcomes]
    columns = list(dict.fromkeys(k for r in records for k in r if k != "error"))
    if any("error" in r for r in records):
        columns.append("error")
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)


WRITERS = {"table": write_table, "json": write_json, "jsonl": write_jsonl, "csv": write_csv}


# --- commands --------------------------------------------------------------------------------


def command_analyze(args: argparse.Namespace) -> int:
    try:
        metrics = parse_metrics(args.metrics)
        edge_mode = parse_edge_mode(args.edge_mode)
        regions = parse_regions(args.regions)
        components = parse_placeholder_components(args.placeholder_components)
    except ImageInsightsError as exc:
        return _usage_error(f"{exc} (metrics: {', '.join(VALID_METRICS)}; edge modes: "
                            f"{', '.join(VALID_EDGE_MODES)}; regions: {', '.join(REGION_FORMS)}, "
                            "separated by ';'; placeholder components: 1x1 to 9x9)")
    if args.paths.count(STDIN) > 1:
        return _usage_error("standard input (-) can be given once")
    try:
        formats = accepted_formats(Settings.from_env().accepted_formats)
    except ValueError as exc:  # SettingsError included
        return _usage_error(str(exc))
    sources, missing = collect_sources(args.paths, sys.stdin.buffer, formats)
    progress = Progress(len(sources), sys.stderr, enabled=sys.stderr.isatty() and not args.quiet)
    on_dask = args.scheduler is not None or args.dask is not None
    if on_dask and (regions or args.placeholder_components):
        return _usage_error("--regions and --placeholder-components do not run on Dask")
    if not on_dask or not sources:
        outcomes = run_all(
            sources, metrics, edge_mode, progress, None, regions, components, formats
        )
    else:
        try:
            outcomes = run_on_dask(sources, metrics, edge_mode, progress, args.scheduler)
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in DASK_EXTRA:
                raise
            return _usage_error(
                "--scheduler and --dask need the dask extra: pip install 'image-insights[dask]'"
            )
        except OSError as exc:
            where = args.scheduler or "a local cluster"
            print(f"image-insights: cannot run on {where}: {exc}", file=sys.stderr)
            return EXIT_FAILURES
    failures = [(o.label, o.error or "") for o in outcomes if o.error is not None] + missing
    WRITERS[args.format](outcomes, sys.stdout)
    sys.stdout.flush()
    for label, reason in failures:
        print(f"image-insights: {label}: {reason}", file=sys.stderr)
    if not sources and not missing:
        print(f"image-insights: no image found ({describe_formats(formats)} expected)",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILURES
    if failures:
        total = len(sources) + len(missing)
        print(f"image-insights: {len(failures)} of {total} inputs failed", file=sys.stderr)
        return EXIT_FAILURES
    return EXIT_OK


def command_histogram(args: argparse.Namespace) -> int:
    if args.file == STDIN:
        source = Source(STDIN, data=sys.stdin.buffer.read())
    else:
        source = Source.of(args.file)
    quiet = Progress(1, sys.stderr, enabled=False)
    (outcome,) = run_all([source], ("brightness", "histogram"), None, quiet)
    if outcome.result is None:
        print(f"image-insights: {outcome.label}: {outcome.error}", file=sys.stderr)
        return EXIT_FAILURES
    sys.stdout.write(render_histogram(outcome.label, outcome.result, _bar_glyph(sys.stdout)))
    return EXIT_OK


def _bar_glyph(stream: TextIO) -> str:
    """A full block where the terminal's encoding has one, else '#'."""
    try:
        "\u2588".encode(stream.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "#"
    return "\u2588"


def render_histogram(label: str, result: dict[str, Any], glyph: str, width: int = 40) -> str:
    """The 10 buckets as bars scaled to the fullest one, with their percents."""
    buckets = result["histogram"]
    fullest = max(b["percent"] for b in buckets) or 1.0
    label_width = max(len(r) for r in HISTOGRAM_RANGES)
    lines = [
        f"{label}: {result['width']}x{result['height']}, average luminance "
        f"{result['average_luminance']:.2f}, brightness {result['brightness_score']}/100",
    ]
    for bucket in buckets:
        bar = glyph * round(bucket["percent"] / fullest * width)
        lines.append(f"{bucket['range']:>{label_width}} {bar:<{width}} {bucket['percent']:5.1f}%")
    return "\n".join(lines) + "\n"


def command_serve(args: argparse.Namespace) -> int:
    config = GUNICORN_CONFIG
    if args.config:
        if not Path(args.config).is_file():
            return _usage_error(f"cannot find the gunicorn settings file {args.config}")
        config = args.config
    # The settings read every value from the environment.
    overrides = {"PORT": args.port, "WEB_CONCURRENCY": args.workers, "HOST": args.host}
    environment = dict(os.environ)
    environment.update({k: str(v) for k, v in overrides.items() if v is not None})
    argv = [sys.executable, "-m", "gunicorn", "--config", config]
    sys.stdout.flush()
    os.execve(sys.executable, argv, environment)
    return EXIT_OK  # not reached: execve replaces this process


def _usage_error(message: str) -> int:
    print(f"image-insights: {message}", file=sys.stderr)
    return EXIT_USAGE


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="image-insights",
        description="Brightness of JPEG and PNG images (Rec. 709 luminance), from a terminal.",
        epilog="Run `image-insights COMMAND --help` for each command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    analyze_cmd = command(
        "analyze", "Analyse image files, folders (searched recursively), URLs or standard input."
    )
    analyze_cmd.add_argument(
        "paths", nargs="+", metavar="PATH",
        help="an image file (JPEG, PNG, WebP, AVIF, HEIF, GIF or TIFF; $ACCEPTED_FORMATS "
        "narrows them), a folder (every such image in it, found by content), an http(s) URL, "
        "or - for standard input",
    )  # fmt: skip
    analyze_cmd.add_argument(
        "--metrics", default="brightness", metavar="LIST",
        help=f"comma-separated: {', '.join(VALID_METRICS)} (default: brightness)",
    )  # fmt: skip
    analyze_cmd.add_argument(
        "--edge-mode", default=None, metavar="MODE",
        help=f"also measure the edges: {', '.join(VALID_EDGE_MODES)}",
    )  # fmt: skip
    analyze_cmd.add_argument(
        "--regions", default=None, metavar="LIST",
        help="also measure regions of the upright image, separated by ';': top, bottom, left, "
        "right, center with an optional percentage (bottom:25), or x,y,w,h in 0-1; each "
        "optionally name=... (e.g. 'top;caption=0.1,0.7,0.8,0.2')",
    )  # fmt: skip
    analyze_cmd.add_argument(
        "--placeholder-components", default=None, metavar="XxY",
        help="BlurHash components of the placeholder metric, 1x1 to 9x9 (default 4x3)",
    )  # fmt: skip
    analyze_cmd.add_argument(
        "--format", choices=tuple(WRITERS), default="table",
        help="table (default, for people), json, jsonl or csv",
    )  # fmt: skip
    analyze_cmd.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar"
    )
    cluster = analyze_cmd.add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="run on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786); its "
        "workers need the package installed and must be able to read the files",
    )  # fmt: skip
    cluster.add_argument(
        "--dask", choices=("local",),
        help="local: run on a Dask cluster of this machine's cores started for the command",
    )  # fmt: skip
    analyze_cmd.set_defaults(run=command_analyze)

    serve_cmd = command("serve", "Run the HTTP service under gunicorn with the package's settings.")
    serve_cmd.add_argument("--port", type=_positive, help="listening port (default: $PORT or 8080)")
    serve_cmd.add_argument(
        "--workers", type=_positive,
        help="worker processes (default: $WEB_CONCURRENCY or one per usable core)",
    )  # fmt: skip
    serve_cmd.add_argument("--host", help="listening address (default: $HOST or 0.0.0.0)")
    serve_cmd.add_argument("--config", help="a gunicorn settings file instead of the package's")
    serve_cmd.set_defaults(run=command_serve)

    histogram_cmd = command("histogram", "Draw the luminance histogram of one image as bars.")
    histogram_cmd.add_argument(
        "file", metavar="FILE", help="a JPEG or PNG file, an http(s) URL, or - for standard input"
    )
    histogram_cmd.set_defaults(run=command_histogram)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURES
    return status


if __name__ == "__main__":
    sys.exit(main())
