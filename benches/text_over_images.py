"""What the readable-text additions cost: `text`, `placeholder` and four regions together
against the brightness-only analysis of the same image, in process, alternating the two
in every round, on the 536x354 colour sample and the 1920x1280 baseline class (issue 17's
bar: at most 1.5x). Prints a Markdown table of medians and ratios.

    python -m benches.text_over_images [--rounds 15] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

import image_insights
from benches import traffic

CLASSES = ("536x354 colour sample", "1920x1280 baseline q85")
REGIONS = "top:20;bottom:20;center:40;caption=0.1,0.7,0.8,0.2"
FULL = {"metrics": "brightness,text,placeholder", "regions": REGIONS}
BRIGHTNESS = {"metrics": "brightness"}
TARGET = 1.5


def per_call_ms(data: bytes, options: dict[str, str], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        image_insights.analyze(data, **options)
    return (time.perf_counter() - started) / repeat * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print("| class | brightness ms | text + placeholder + 4 regions ms | ratio | range | bar |")
    print("|---|---:|---:|---:|---|---|")
    for cls in traffic.available_classes():
        if cls.name not in CLASSES:
            continue
        data = traffic.encoded(cls.name)
        for options in (BRIGHTNESS, FULL):  # warm both paths
            per_call_ms(data, options, 3)
        base, full, ratios = [], [], []
        for _ in range(args.rounds):
            b = per_call_ms(data, BRIGHTNESS, args.repeat)
            f = per_call_ms(data, FULL, args.repeat)
            base.append(b)
            full.append(f)
            ratios.append(f / b)
        ratio = statistics.median(ratios)
        verdict = "met" if ratio <= TARGET else "**missed**"
        print(f"| {cls.name} | {statistics.median(base):.2f} | {statistics.median(full):.2f} | "
              f"{ratio:.2f}× | {min(ratios):.2f}–{max(ratios):.2f}× | ≤ {TARGET}×: {verdict} |")


if __name__ == "__main__":
    main()
