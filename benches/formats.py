"""The speed of the modern formats: a 1200x800 WebP and AVIF against the sharp peer
(benches/peer) over HTTP, a 4032x3024 HEIC against its decode alone, and for each the share
of the analysis that is the decode.

Inputs, made in memory at each run from one photo (../shared/images sample 3 when present,
tests/support/synthetic.py's generated photo otherwise; benches/traffic.py's `source`):
WebP lossy quality 80 (Pillow, or `cwebp` when Pillow lacks WebP); AVIF 8-bit 4:2:0, quality
60, speed 6 (pillow-avif-plugin); HEIC 8-bit 4:2:0, quality 60 (pillow-heif, x265), the
photo cut to 4:3 and resized to 4032x3024. `--formats jpeg,png` adds or selects the classic
formats, for trying the harness on a build without the new decoders.

Servers as benches/load/run_http.py runs them: the service under the project's
gunicorn.conf.py (two workers, cache and request logs off) and the peer under Node's cluster
(two workers), each on a free loopback port. A pre-flight checks the peer's answers against
the service's within the contract's downscaled tolerance, and the service's against
`analyze()` in this process. Then, in every round, for every format, the sides take turns
(their order rotates from round to round and format to format):

  service, peer   N sequential requests on one keep-alive connection (after two untimed),
                  then wrk for a warm-up and S seconds (WebP and AVIF on both servers);
  analyze()       N calls of `image_insights.analyze` on the same bytes, in this process;
  decode alone    N decodes of the same bytes to RGB by the decoder the library uses
                  (Pillow's WebP, pillow-avif-plugin, pillow-heif), in this process.

Per format: medians over the rounds, the peer's p50 over the service's and the service's
req/s over the peer's (ratios of the medians, and the range of the round-by-round ratios),
and the decode share: decode alone / analyze() and decode alone / the whole request. The
Markdown tables go to standard output (and to --output). Nothing here asserts on time.

Usage: python -m benches.formats [--rounds R] [--requests N] [--seconds S] [--warmup W]
           [--connections C] [--formats webp,avif,heif] [--no-peer] [--profile N]
           [--output FILE]
(--rounds 0: the pre-flight alone, and the profile with --profile.)
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import http.client
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import PIL
from PIL import Image, features

import image_insights
from benches.load.run_http import (
    LIMITS,
    PATH,
    PEER,
    PEER_DIR,
    SERVICE,
    SERVICE_SOURCES,
    deviations,
    latency,
    running,
    throughput,
)
from benches.traffic import source, source_description
from tests.support.http_helpers import multipart
from tests.support.live_server import ROOT

METRICS = "brightness,median,histogram"
EDGE_MODE = "all"
#: Media types the peer accepts (benches/peer/formats.js): sharp's libvips has no HEVC.
PEER_FORMATS = ("jpeg", "png", "webp", "avif")
ANALYZE, DECODE = "analyze()", "decode alone"


@dataclass(frozen=True)
class Input:
    """One benchmark file: its format name, media type, stored size and bytes."""

    fmt: str
    content_type: str
    size: tuple[int, int]
    how: str
    data: bytes


# --- inputs -------------------------------------------------------------------------------


def _photo(size: tuple[int, int]) -> Image.Image:
    """The source photo cut to the aspect ratio of `size` (centred), resized to it."""
    photo = source()
    width, height = photo.size
    target = size[0] / size[1]
    if width / height > target:
        cut = round(height * target)
        photo = photo.crop(((width - cut) // 2, 0, (width - cut) // 2 + cut, height))
    elif width / height < target:
        cut = round(width / target)
        photo = photo.crop((0, (height - cut) // 2, width, (height - cut) // 2 + cut))
    return photo.resize(size, Image.Resampling.LANCZOS)


def _saved(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _cwebp(image: Image.Image, quality: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="formats-") as folder:
        root = Path(folder)
        image.save(root / "in.png")
        subprocess.run(["cwebp", "-quiet", "-q", str(quality), "in.png", "-o", "out.webp"],
                       cwd=root, check=True)  # fmt: skip
        return (root / "out.webp").read_bytes()


def _webp(size: tuple[int, int]) -> tuple[str, bytes]:
    if features.check("webp"):
        return "Pillow WebP, lossy, quality 80", _saved(_photo(size), "WEBP", quality=80)
    return "cwebp -q 80 (lossy)", _cwebp(_photo(size), 80)


def _avif(size: tuple[int, int]) -> tuple[str, bytes]:
    import pillow_avif  # noqa: F401  (registers AVIF with Pillow)

    data = _saved(_photo(size), "AVIF", quality=60, speed=6, subsampling="4:2:0")
    return "pillow-avif-plugin (libaom), 8-bit 4:2:0, quality 60, speed 6", data


def _heif(size: tuple[int, int]) -> tuple[str, bytes]:
    import pillow_heif

    heif = pillow_heif.from_pillow(_photo(size))
    buffer = io.BytesIO()
    heif.save(buffer, quality=60, chroma=420)
    return "pillow-heif (x265), 8-bit 4:2:0, quality 60", buffer.getvalue()


def _jpeg(size: tuple[int, int]) -> tuple[str, bytes]:
    return "Pillow JPEG, quality 82, 4:2:0", _saved(_photo(size), "JPEG", quality=82)


def _png(size: tuple[int, int]) -> tuple[str, bytes]:
    return "Pillow PNG, zlib level 6", _saved(_photo(size), "PNG")


#: Format name -> (media type, stored size, encoder).
FORMATS: dict[str, tuple[str, tuple[int, int], Callable[[tuple[int, int]], tuple[str, bytes]]]] = {
    "webp": ("image/webp", (1200, 800), _webp),
    "avif": ("image/avif", (1200, 800), _avif),
    "heif": ("image/heic", (4032, 3024), _heif),
    "jpeg": ("image/jpeg", (1200, 800), _jpeg),
    "png": ("image/png", (1200, 800), _png),
}
DEFAULT_FORMATS = ("webp", "avif", "heif")


def make_input(fmt: str) -> Input:
    content_type, size, encode = FORMATS[fmt]
    how, data = encode(size)
    return Input(fmt, content_type, size, how, data)


# --- the decoders alone -------------------------------------------------------------------


def _register_plugins(formats: list[str]) -> None:
    """Makes Pillow open AVIF for the decode-alone side (a benchmark's process)."""
    if "avif" in formats:
        import pillow_avif  # noqa: F401


def decode_alone(fmt: str, data: bytes) -> object:
    """The file's pixels, 8-bit RGB, decoded in full by the decoder alone (no draft, no
    resize, no copy): Pillow's `load` for WebP and AVIF (and JPEG, PNG), libheif's buffer
    through `pillow_heif.open_heif(...).data` for HEIF."""
    if fmt == "heif":
        import pillow_heif

        return pillow_heif.open_heif(data, convert_hdr_to_8bit=True).data
    image = Image.open(io.BytesIO(data))
    image.load()
    return image if image.mode == "RGB" else image.convert("RGB")


def decoder_description(fmt: str) -> str:
    if fmt == "avif":
        import pillow_avif

        return f"Pillow's `load` through pillow-avif-plugin {pillow_avif.__version__}"
    if fmt == "heif":
        import pillow_heif

        info = pillow_heif.libheif_info()
        return (f"`open_heif(...).data` of pillow-heif {pillow_heif.__version__} (libheif "
                f"{info['libheif']}, {info['decoders'].get('libde265', 'libde265')})")  # fmt: skip
    if fmt == "webp":
        return f"Pillow's `load`, {PIL.__version__} (libwebp {features.version('webp')})"
    return f"Pillow's `load`, {PIL.__version__}"


def timed_calls(call: Callable[[], object], count: int) -> list[float]:
    """`count` timed calls of `call` after two untimed ones; seconds each."""
    for _ in range(2):
        call()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


# --- the pre-flight -----------------------------------------------------------------------


def _post(port: int, item: Input, content_type: str | None = None) -> tuple[int, Any]:
    body, headers = multipart([("image", item.data, content_type or item.content_type)])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", PATH, body=body, headers={"Content-Type": headers["Content-Type"]})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def preflight(inputs: list[Input], ports: dict[str, int]) -> list[str]:
    """Each format once on each server and in process. Stops the run when the service does
    not answer 200 or when a side's numbers differ beyond the contract's downscaled tolerance
    (the comparison is of equal work)."""
    lines = ["| format | side | Δ average | Δ edge average | Δ median | max Δ bucket (points) "
             "| Δ score | within tolerance |",
             "|---|---|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for item in inputs:
        status, service = _post(ports[SERVICE], item)
        if status != 200:
            raise SystemExit(f"the service answered {status} for {item.fmt}: {service}")
        answers = {ANALYZE: image_insights.analyze(item.data, METRICS, EDGE_MODE)}
        if PEER in ports:
            if item.fmt in PEER_FORMATS:
                status, answers[PEER] = _post(ports[PEER], item)
                if status != 200:
                    raise SystemExit(f"the peer answered {status} for {item.fmt}: {answers[PEER]}")
            else:
                # Declared as JPEG, so that sharp tries the bytes: its answer says why not.
                status, refusal = _post(ports[PEER], item, "image/jpeg")
                detail = refusal.get("detail", {})
                reason = str(detail.get("details", detail)).strip().splitlines()[-1]
                lines.append(f"| {item.fmt} | {PEER} | answers {status}: {reason[:160]} "
                             "| | | | | |")  # fmt: skip
        for side, answer in answers.items():
            dev = deviations(answer, service)
            within = all(dev[key] <= LIMITS[key] + 1e-9 for key in dev)
            lines.append(
                f"| {item.fmt} | {side} | {dev['average']:.2f} | {dev['edge average']:.2f} "
                f"| {dev['median']:.2f} | {dev['bucket']:.1f} | {dev['score']:.0f} "
                f"| {'yes' if within else '**NO**'} |"
            )
            if not within:
                print("\n".join(lines))
                raise SystemExit(f"{side} disagrees with the service on {item.fmt}")
    return lines


# --- the rounds ---------------------------------------------------------------------------

#: (format, side) -> one figure dict per round.
Results = dict[tuple[str, str], list[dict[str, float]]]


def measure(inputs: list[Input], ports: dict[str, int], args: argparse.Namespace,
            folder: Path) -> Results:  # fmt: skip
    results: Results = {}
    bodies: dict[str, tuple[bytes, Path, str]] = {}
    for item in inputs:
        body, headers = multipart([("image", item.data, item.content_type)])
        path = folder / f"{item.fmt}.body"
        path.write_bytes(body)
        bodies[item.fmt] = (body, path, headers["Content-Type"])
    for round_index in range(args.rounds):
        for format_index, item in enumerate(inputs):
            body, path, content_type = bodies[item.fmt]
            sides = [SERVICE] + ([PEER] if PEER in ports and item.fmt in PEER_FORMATS else [])
            sides += [ANALYZE, DECODE]
            shift = (round_index + format_index) % len(sides)
            for side in sides[shift:] + sides[:shift]:
                if side in (SERVICE, PEER):
                    entry = latency(ports[side], body, content_type, args.requests)
                    if PEER in sides:
                        throughput(ports[side], path, content_type, args.warmup, args.connections)
                        entry |= throughput(ports[side], path, content_type, args.seconds,
                                            args.connections)  # fmt: skip
                else:
                    call = (functools.partial(image_insights.analyze, item.data, METRICS,
                                              EDGE_MODE) if side == ANALYZE
                            else functools.partial(decode_alone, item.fmt, item.data))  # fmt: skip
                    entry = {"p50": statistics.median(timed_calls(call, args.requests)) * 1000}
                results.setdefault((item.fmt, side), []).append(entry)
                rate = f"  {entry['rps']:7.1f} req/s" if "rps" in entry else ""
                print(f"  round {round_index + 1}  {item.fmt:<5} {side:<13} "
                      f"p50 {entry['p50']:8.2f} ms{rate}", file=sys.stderr, flush=True)  # fmt: skip
    return results


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _ratio_range(top: list[dict[str, float]], bottom: list[dict[str, float]], key: str) -> str:
    ratios = [a[key] / b[key] for a, b in zip(top, bottom, strict=True)]
    return f"{min(ratios):.2f}–{max(ratios):.2f}"


def report(inputs: list[Input], results: Results, with_peer: bool) -> list[str]:
    lines: list[str] = []
    against_peer = [item for item in inputs if with_peer and item.fmt in PEER_FORMATS]
    if against_peer:
        lines += [
            "**Against the sharp peer** (latency: sequential requests, p50 and p90 ms; "
            "throughput: wrk req/s; medians over the rounds, round-by-round range in brackets):",
            "",
            "| format | bytes | service p50 | service p90 | peer p50 | peer p90 "
            "| peer p50 / service p50 | service req/s | peer req/s | service / peer req/s "
            "| not slower than the peer |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for item in against_peer:
            ours, theirs = results[(item.fmt, SERVICE)], results[(item.fmt, PEER)]
            speedup = _median(theirs, "p50") / _median(ours, "p50")
            gain = _median(ours, "rps") / _median(theirs, "rps")
            met = speedup >= 1 and gain >= 1
            lines.append(
                f"| {item.fmt} {item.size[0]}x{item.size[1]} | {len(item.data):,} "
                f"| {_median(ours, 'p50'):.1f} | {_median(ours, 'p90'):.1f} "
                f"| {_median(theirs, 'p50'):.1f} | {_median(theirs, 'p90'):.1f} "
                f"| {speedup:.2f}× ({_ratio_range(theirs, ours, 'p50')}) "
                f"| {_median(ours, 'rps'):.1f} | {_median(theirs, 'rps'):.1f} "
                f"| {gain:.2f}× ({_ratio_range(ours, theirs, 'rps')}) "
                f"| {'met' if met else '**missed**'} |"
            )
        lines.append("")
    lines += [
        "**Against the decode alone** (in this process unless said; medians over the rounds, "
        "ms; round-by-round range in brackets):",
        "",
        "| format | bytes | decode alone | analyze() | analyze() / decode | whole request "
        "| request / decode | decode share of analyze() | decode share of the request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for item in inputs:
        decode = results[(item.fmt, DECODE)]
        analyze = results[(item.fmt, ANALYZE)]
        request = results[(item.fmt, SERVICE)]
        d, a, r = (_median(runs, "p50") for runs in (decode, analyze, request))
        lines.append(
            f"| {item.fmt} {item.size[0]}x{item.size[1]} | {len(item.data):,} | {d:.1f} "
            f"| {a:.1f} | {a / d:.2f}× ({_ratio_range(analyze, decode, 'p50')}) | {r:.1f} "
            f"| {r / d:.2f}× ({_ratio_range(request, decode, 'p50')}) | {d / a:.0%} "
            f"| {d / r:.0%} |"
        )
    return lines


# --- profile ------------------------------------------------------------------------------


def profile(inputs: list[Input], calls: int) -> list[str]:
    """cProfile of `calls` analyze() calls per format: where the Python-side time goes
    (the decoder's calls, the hand-offs to the core, building the answer)."""
    lines = []
    for item in inputs:
        image_insights.analyze(item.data, METRICS, EDGE_MODE)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(calls):
            image_insights.analyze(item.data, METRICS, EDGE_MODE)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
        lines += [f"### cProfile: {calls} × analyze() of {item.fmt}, by own time", "```",
                  text.getvalue().strip(), "```", ""]  # fmt: skip
    return lines


# --- the run ------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=9, help="0: the pre-flight alone")
    parser.add_argument("--requests", type=int, default=15, help="timed calls per side and round")
    parser.add_argument("--seconds", type=int, default=6, help="wrk run per round")
    parser.add_argument("--warmup", type=int, default=1, help="wrk warm-up per round")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--formats", default=",".join(DEFAULT_FORMATS),
                        help=f"comma-separated, of {', '.join(FORMATS)}")  # fmt: skip
    parser.add_argument("--no-peer", action="store_true", help="leave the sharp peer out")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also print a cProfile of N analyze() calls per format")  # fmt: skip
    parser.add_argument("--output", type=Path, help="also write the Markdown to this file")
    args = parser.parse_args()
    args.formats = [f.strip().lower() for f in args.formats.split(",") if f.strip()]
    if unknown := [f for f in args.formats if f not in FORMATS]:
        parser.error(f"unknown formats: {', '.join(unknown)}")
    supported = getattr(image_insights, "SUPPORTED_FORMATS", ("jpeg", "png"))
    if missing := [f for f in args.formats if f not in supported]:
        parser.error(f"this build of image_insights does not decode {', '.join(missing)} "
                     f"(SUPPORTED_FORMATS: {', '.join(supported)})")  # fmt: skip
    args.with_peer = not args.no_peer and any(f in PEER_FORMATS for f in args.formats)
    if args.with_peer and shutil.which("wrk") is None:
        parser.error("wrk is not installed (make bench installs it)")
    if args.with_peer and not (PEER_DIR / "node_modules").is_dir():
        parser.error("benches/peer has no node_modules: run `npm ci` there")
    return args


def describe(args: argparse.Namespace, inputs: list[Input]) -> list[str]:
    def git(*words: str) -> str:
        return subprocess.run(["git", *words], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()  # fmt: skip

    commit = git("log", "-1", "--format=%h", "--", *SERVICE_SOURCES)
    if git("status", "--porcelain", "--", *SERVICE_SOURCES):
        commit += " with uncommitted changes"
    sharp = json.loads((PEER_DIR / "node_modules/sharp/package.json").read_text())["version"]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    servers = "the service and the sharp peer" if args.with_peer else "the service"
    lines = [
        f"Service build {commit}; sharp {sharp}. Servers: {servers}, two processes each, "
        f"cache off; `POST {PATH}`. {args.rounds} rounds; in each, per format and side, "
        f"{args.requests} timed calls"
        + (f", and wrk -t2 -c{args.connections} for {args.warmup} s (warm-up) and "
           f"{args.seconds} s on each server" if args.with_peer else "")
        + f". Photo {source_description()}. Load average at the start: {load}.",
        "",
        "| format | stored size | bytes | encoded by | decoded alone by |",
        "|---|---|---:|---|---|",
    ]  # fmt: skip
    lines += [f"| {i.fmt} | {i.size[0]}x{i.size[1]} | {len(i.data):,} | {i.how} "
              f"| {decoder_description(i.fmt)} |" for i in inputs]  # fmt: skip
    return lines


def main() -> None:
    args = parse_args()
    _register_plugins(args.formats)
    print("encoding the inputs…", file=sys.stderr, flush=True)
    inputs = [make_input(fmt) for fmt in args.formats]
    lines = describe(args, inputs)
    names = [SERVICE] + ([PEER] if args.with_peer else [])
    with tempfile.TemporaryDirectory() as tmp, running(names, Path(tmp)) as ports:
        lines += ["", "**Pre-flight**: each side's numbers against the service's answer "
                  "(the contract's downscaled tolerance).", ""] + preflight(inputs, ports)
        print("\n".join(lines), flush=True)
        table = (report(inputs, measure(inputs, ports, args, Path(tmp)), args.with_peer)
                 if args.rounds else [])  # fmt: skip
    table += ["", "Load average at the end: "
              + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + "."]  # fmt: skip
    if args.profile:
        table += [""] + profile(inputs, args.profile)
    print("\n" + "\n".join(table))
    if args.output:
        args.output.write_text("\n".join(lines + [""] + table) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
