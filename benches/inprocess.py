"""`image_insights.analyze()` in this process on each traffic class (benches/traffic.py):
prints one JSON object, class -> median milliseconds over `--rounds` calls after a warm-up.
Runs under whatever build the interpreter imports, so compare_builds.py can time two builds
with the very same code.

    python -m benches.inprocess [--rounds N] [--classes NAME ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import image_insights
from benches.traffic import available_classes, encoded

METRICS = "brightness,median,histogram"
EDGE_MODE = "all"


def time_class(name: str, rounds: int) -> float:
    data = encoded(name)
    image_insights.analyze(data, METRICS, EDGE_MODE)  # warm-up: buffers, caches
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        image_insights.analyze(data, METRICS, EDGE_MODE)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--classes", nargs="*", default=None)
    args = parser.parse_args()
    names = [cls.name for cls in available_classes()]
    if args.classes:
        names = [name for name in names if name in args.classes]
    print(json.dumps({name: time_class(name, args.rounds) for name in names}))


if __name__ == "__main__":
    main()
