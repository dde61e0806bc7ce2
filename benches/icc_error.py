"""What converting colours on the analysis-size image costs in accuracy and in time: each
photo of ../shared/images tagged as Display P3 and as Adobe RGB (1998) (profiles built by
tests/support/icc.py), the service's numbers for it (LittleCMS on the <= 512 px image)
against its numbers for the full-size image converted first by the float64 NumPy rendering
and saved as a PNG without a profile; and the analysis time with the profile against
without it, alternating the two in every round. The same comparison with no profile on
either side ("decode only") shows how much of the difference the decoding and resizing
bring by themselves. Prints Markdown tables.

    python -m benches.icc_error [--rounds 9] [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import struct
import sys
import time
from typing import Any

import numpy as np
from PIL import Image

import image_insights
from benches.inputs import REAL_PHOTOS_DIR
from tests.support import icc

METRICS = "brightness,median,colors"
PROFILES = {"Display P3": icc.display_p3(), "Adobe RGB": icc.adobe_rgb()}
#: Rows converted at a time at full size (float64 copies of a 5000 px row are 120 kB each).
STRIP_ROWS = 256
#: The ICC's marker for a profile in a JPEG APP2 segment (ICC.1 Annex B.4).
ICC_MARKER = b"ICC_PROFILE\0"


def with_profile(jpeg: bytes, profile: bytes | None) -> bytes:
    """`jpeg` with `profile` in one APP2 segment after SOI and any APP0, the pixels' bytes
    untouched (so the tagged and untagged files decode to the same samples)."""
    if profile is None:
        return jpeg
    assert jpeg[:2] == b"\xff\xd8"
    position = 2
    if jpeg[2:4] == b"\xff\xe0":
        position += 2 + struct.unpack(">H", jpeg[4:6])[0]
    payload = ICC_MARKER + bytes([1, 1]) + profile
    segment = b"\xff\xe2" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:position] + segment + jpeg[position:]


def rgb_jpeg(path: str) -> tuple[bytes, np.ndarray]:
    """The photo as RGB JPEG bytes (a grey photo re-encoded as RGB at quality 100, 4:4:4,
    since an RGB profile cannot describe a grey image) and the samples Pillow decodes."""
    data = open(path, "rb").read()
    with Image.open(io.BytesIO(data)) as image:
        if image.mode != "RGB":
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "JPEG", quality=100, subsampling=0)
            data = buffer.getvalue()
    with Image.open(io.BytesIO(data)) as image:
        return data, np.asarray(image.convert("RGB"))


def rendered_png(pixels: np.ndarray, space: icc.RgbSpace | None) -> bytes:
    """The full-size image converted to sRGB (strip by strip), as an unprofiled PNG."""
    if space is not None:
        pixels = np.concatenate([icc.to_srgb(pixels[top : top + STRIP_ROWS], space)
                                 for top in range(0, pixels.shape[0], STRIP_ROWS)])  # fmt: skip
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def numbers(result: dict[str, Any]) -> dict[str, float]:
    colour = result["average_color"]
    channels = {f"colour {c}": int(colour[1 + 2 * i : 3 + 2 * i], 16) for i, c in enumerate("RGB")}
    return {"brightness": result["average_luminance"], "median": result["median_luminance"],
            **channels}  # fmt: skip


def errors(data: bytes, reference_png: bytes) -> dict[str, float]:
    got = numbers(image_insights.analyze(data, metrics=METRICS))
    want = numbers(image_insights.analyze(reference_png, metrics=METRICS))
    error = {name: abs(got[name] - want[name]) for name in got}
    error["colour"] = max(error.pop(f"colour {c}") for c in "RGB")
    return error


def per_call_ms(data: bytes, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        image_insights.analyze(data, metrics=METRICS)
    return (time.perf_counter() - started) / repeat * 1000


def cost(tagged: bytes, plain: bytes, rounds: int, repeat: int) -> tuple[float, float, float]:
    """Median ms without and with the profile, and the median of the rounds' ratios."""
    for data in (plain, tagged):  # warm both paths
        per_call_ms(data, 2)
    without, with_, ratios = [], [], []
    for _ in range(rounds):
        base = per_call_ms(plain, repeat)
        tagged_ms = per_call_ms(tagged, repeat)
        without.append(base)
        with_.append(tagged_ms)
        ratios.append(tagged_ms / base)
    return statistics.median(without), statistics.median(with_), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    photos = sorted(REAL_PHOTOS_DIR.glob("*.jp*g")) if REAL_PHOTOS_DIR.is_dir() else []
    if not photos:
        print(f"no photos in {REAL_PHOTOS_DIR}: nothing to measure", file=sys.stderr)
        return
    spaces = {"Display P3": icc.DISPLAY_P3, "Adobe RGB": icc.ADOBE_RGB}
    rows: list[tuple[str, str, str, dict[str, float], tuple[float, float, float] | None]] = []
    by_profile: dict[str, list[dict[str, float]]] = {n: [] for n in (*spaces, "decode only")}
    for path in photos:
        plain, pixels = rgb_jpeg(str(path))
        size = f"{pixels.shape[1]}x{pixels.shape[0]}"
        baseline = errors(plain, rendered_png(pixels, None))
        by_profile["decode only"].append(baseline)
        rows.append((path.name, size, "decode only", baseline, None))
        for name, space in spaces.items():
            tagged = with_profile(plain, PROFILES[name])
            error = errors(tagged, rendered_png(pixels, space))
            by_profile[name].append(error)
            timing = cost(tagged, plain, args.rounds, args.repeat)
            rows.append((path.name, size, name, error, timing))
    print("Differences in levels of 0-255: the service against the full-size conversion.")
    print()
    print("| photo | size | profile | Δ brightness | Δ median | Δ colour (worst channel) "
          "| ms without | ms with | ratio |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for photo, size, name, error, measured in rows:
        times = "– | – | –"
        if measured:
            times = f"{measured[0]:.2f} | {measured[1]:.2f} | {measured[2]:.2f}×"
        print(f"| {photo} | {size} | {name} | {error['brightness']:.2f} | {error['median']:.2f} "
              f"| {error['colour']:.0f} | {times} |")
    print()
    print("| profile | brightness max / median | median max / median | colour max / median |")
    print("|---|---:|---:|---:|")
    for name, found in by_profile.items():
        cells = []
        for metric in ("brightness", "median", "colour"):
            values = [error[metric] for error in found]
            cells.append(f"{max(values):.2f} / {statistics.median(values):.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
