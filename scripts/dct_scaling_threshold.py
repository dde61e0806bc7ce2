"""The threshold study of DCT scaling (docs/ALGORITHM.md): how far the analysis of a JPEG
decoded at 1/8, 1/4 or 1/2 drifts from the contract's analysis (full decode, Lanczos to
512 px) as the scaled image's longer side L shrinks below 512 px.

For each photo (generated ones, and the real ones of ../shared/images when present), each
scale 1/d and each L, the photo is resized to a longer side of d x L, encoded as a 4:2:0
JPEG (quality 90), and analysed both ways: decoded by the core at 1/d and analysed at
that size, and by the reference pipeline of tests/support/reference.py. Prints the worst drift of
each field per scale and L, and per scale the smallest L from which every larger one stays
within the bars.

    .venv/bin/python -m scripts.dct_scaling_threshold
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from image_insights import _core
from image_insights.pipeline.fields import build_result
from tests.support import synthetic
from tests.support.reference import reference_analyze

SIDES = (256, 288, 320, 352, 384, 416, 448, 480, 504)
DENOMINATORS = (8, 4, 2)
#: The bars: score, average, median, histogram bucket (percentage points).
BARS = {"score": 1, "average": 0.25, "median": 2.0, "bucket": 1.5}
METRICS = ("brightness", "median", "histogram")
REAL = Path(__file__).parents[1].parent / "shared" / "images"


def photos() -> dict[str, Image.Image]:
    found = {
        f"synthetic seed {seed}": Image.fromarray(synthetic.textured_photo(4000, 3000, seed=seed))
        for seed in (1, 2, 3, 4)
    }
    for path in sorted(REAL.glob("*.jp*g")) if REAL.is_dir() else []:
        found[path.name] = Image.open(path).convert("RGB")
    return found


def scaled_analysis(data: bytes, denominator: int) -> dict:
    """The core's decode at 1/denominator, analysed at that size (or resized to 512 px when
    it is larger)."""
    width, height, mode, pixels = _core.decode_jpeg(data, denominator, 10**9)
    source = Image.open(io.BytesIO(data)).size
    stats = _core.analyze_pixels(
        pixels, width, height, mode, source_width=source[0], source_height=source[1]
    )
    return build_result(stats, METRICS, None, *source)


def drift(a: dict, b: dict) -> dict[str, float]:
    buckets = max(abs(x["percent"] - y["percent"]) for x, y in zip(a["histogram"], b["histogram"]))
    return {
        "score": abs(a["brightness_score"] - b["brightness_score"]),
        "average": abs(a["average_luminance"] - b["average_luminance"]),
        "median": abs(a["median_luminance"] - b["median_luminance"]),
        "bucket": buckets,
    }


def main() -> None:
    worst = {(d, side): dict.fromkeys(BARS, 0.0) for d in DENOMINATORS for side in SIDES}
    for name, photo in photos().items():
        for d in DENOMINATORS:
            for side in SIDES:
                scale = d * side / max(photo.size)
                size = (round(photo.width * scale), round(photo.height * scale))
                buffer = io.BytesIO()
                photo.resize(size, Image.Resampling.LANCZOS).save(buffer, "JPEG", quality=90)
                data = buffer.getvalue()
                contract = reference_analyze(data, ",".join(METRICS))
                for field, value in drift(contract, scaled_analysis(data, d)).items():
                    worst[d, side][field] = max(worst[d, side][field], value)
        print(f"done: {name}", file=sys.stderr)
    print("| scale | scaled side L | " + " | ".join(BARS) + " | within the bars |")
    print("|---|---:|" + "---:|" * len(BARS) + ":---:|")
    for d in DENOMINATORS:
        passing = []
        for side in SIDES:
            row = worst[d, side]
            ok = all(row[f] <= BARS[f] for f in BARS)
            passing.append(ok)
            cells = " | ".join(f"{row[f]:.2f}" for f in BARS)
            print(f"| 1/{d} | {side} | {cells} | {'yes' if ok else 'no'} |")
        threshold = next((s for i, s in enumerate(SIDES) if all(passing[i:])), None)
        print(f"| 1/{d} | smallest L from which every larger one passes: {threshold} | |")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
