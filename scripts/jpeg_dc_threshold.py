"""The threshold study of the JPEG DC path (docs/ALGORITHM.md): how far an analysis of the
eighth-scale image drifts from the contract's 512-px analysis as the eighth-scale image
shrinks below 512 px.

For each photo (generated ones, and the real ones of ../shared/images when present) and
each eighth-scale longer side L, the photo is resized to a longer side of 8 L, encoded as a
4:2:0 JPEG (quality 90), and analysed both ways. Prints the worst drift of each field per L
and the smallest L at which every photo stays within the issue's bars.

    .venv/bin/python scripts/jpeg_dc_threshold.py
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

import synthetic  # noqa: E402
from image_insights import analyze, imaging  # noqa: E402

SIDES = (256, 288, 320, 352, 384, 416, 448, 480, 504)
#: The issue's bars: score, average, median, histogram bucket (percentage points).
BARS = {"score": 1, "average": 0.25, "median": 2.0, "bucket": 1.5}
REAL = Path(__file__).parents[1].parent / "shared" / "images"


def photos() -> dict[str, Image.Image]:
    found = {
        f"synthetic seed {seed}": Image.fromarray(synthetic.textured_photo(4000, 3000, seed=seed))
        for seed in (1, 2, 3, 4)
    }
    for path in sorted(REAL.glob("*.jp*g")) if REAL.is_dir() else []:
        found[path.name] = Image.open(path).convert("RGB")
    return found


def drift(a: dict, b: dict) -> dict[str, float]:
    buckets = max(abs(x["percent"] - y["percent"]) for x, y in zip(a["histogram"], b["histogram"]))
    return {
        "score": abs(a["brightness_score"] - b["brightness_score"]),
        "average": abs(a["average_luminance"] - b["average_luminance"]),
        "median": abs(a["median_luminance"] - b["median_luminance"]),
        "bucket": buckets,
    }


def main() -> None:
    imaging.JPEG_DC_MIN_SIDE = 1  # the study forces the DC path at every size
    worst = {side: dict.fromkeys(BARS, 0.0) for side in SIDES}
    for name, photo in photos().items():
        for side in SIDES:
            scale = 8 * side / max(photo.size)
            size = (round(photo.width * scale), round(photo.height * scale))
            buffer = io.BytesIO()
            photo.resize(size, Image.Resampling.LANCZOS).save(buffer, "JPEG", quality=90)
            data = buffer.getvalue()
            metrics = "brightness,median,histogram"
            full = analyze(data, metrics, jpeg_fast_path=False)
            fast = analyze(data, metrics, jpeg_fast_path=True)
            for field, value in drift(full, fast).items():
                worst[side][field] = max(worst[side][field], value)
        print(f"done: {name}", file=sys.stderr)
    print(f"{'eighth side':>11} " + " ".join(f"{f:>8}" for f in BARS) + "  within bars")
    passing = []
    for side in SIDES:
        row = worst[side]
        ok = all(row[f] <= BARS[f] for f in BARS)
        passing.append(ok)
        print(f"{side:>11} " + " ".join(f"{row[f]:>8.2f}" for f in BARS) + f"  {'yes' if ok else 'NO'}")
    threshold = next((s for s, _ in zip(SIDES, passing) if all(passing[SIDES.index(s):])), None)
    print(f"smallest eighth-scale side from which every larger one passes: {threshold}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
