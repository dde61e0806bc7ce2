"""Prints how far `_core.resize` (fast_image_resize Lanczos3, channels apart, the box
pre-reduction past a factor of 64) lands from today's Pillow path on generated photos: per
pixel (max and mean absolute difference of the colour channels) and in the statistics the
contract's DOWNSCALED tolerance bounds (mean, median, worst bucket, score).
Usage: .venv/bin/python -m scripts.resize_drift"""

from __future__ import annotations

import numpy as np

from image_insights import _core
from tests.support.reference import reference_size as analysis_size
from tests.test_resize_core import PRE_REDUCED, SIZES, core_resize, photo, pillow_resize


def main() -> None:
    print(
        "| source | layout | target | pre-reduced | max | mean | Δ mean | Δ median | Δ bucket"
        " | Δ score |"
    )
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|")
    for size in SIZES + PRE_REDUCED:
        target = analysis_size(*size)
        reduced = any(s > 64 * t for s, t in zip(size, target, strict=True))
        for layout in ("L", "RGB"):
            pixels = photo(*size, layout)
            ours = core_resize(pixels, layout, target)
            theirs = pillow_resize(pixels, layout, target)
            difference = np.abs(ours.astype(np.int16) - theirs)
            a, b = (
                _core.pixel_statistics(image.tobytes(), *target, layout) for image in (ours, theirs)
            )
            bucket = max(
                abs(x - y) / a.pixel_count * 100 for x, y in zip(a.buckets, b.buckets, strict=True)
            )
            score = round(a.mean / 255 * 100) - round(b.mean / 255 * 100)
            print(
                f"| {size[0]}×{size[1]} | {layout} | {target[0]}×{target[1]} | "
                f"{'yes' if reduced else 'no'} | {difference.max()} | {difference.mean():.3f} | "
                f"{a.mean - b.mean:+.3f} | {a.median - b.median:+.2f} | {bucket:.2f} | {score:+d} |"
            )


if __name__ == "__main__":
    main()
