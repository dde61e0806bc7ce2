"""In-process `analyze()` of two builds on the traffic classes, in the same run: runs
benches/inprocess.py under this interpreter (the build under test) and under a baseline's,
alternately for `--pairs` pairs, and prints per class the median of each side and the
median of the pair-by-pair ratios (baseline / this build), as Markdown.

The baseline is any interpreter that imports another build of image_insights, e.g. one made
by scripts/baseline_build.sh from an earlier commit.

    .venv/bin/python -m benches.compare_builds --baseline /tmp/baseline/.venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(python: str, rounds: int) -> dict[str, float]:
    # The baseline's own package must win over this checkout's sources; the repository root
    # (the working directory of `-m`) holds no image_insights.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [python, "-m", "benches.inprocess", "--rounds", str(rounds)],
        capture_output=True, text=True, check=True, env=env, cwd=ROOT,
    ).stdout  # fmt: skip
    return dict(json.loads(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="the baseline build's python")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    mine: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for pair in range(args.pairs):
        # Alternate which goes first, so drift in the machine's speed falls on both.
        order = [(sys.executable, mine), (args.baseline, theirs)]
        for python, results in order if pair % 2 == 0 else reversed(order):
            results.append(run(python, args.rounds))
        print(f"pair {pair + 1} of {args.pairs} done", file=sys.stderr)
    print("| class | baseline ms | this build ms | ratio (median of pairs) | range |")
    print("|---|---:|---:|---:|---|")
    for name in mine[0]:
        ratios = [t[name] / m[name] for m, t in zip(mine, theirs, strict=True)]
        print(
            f"| {name} | {statistics.median(t[name] for t in theirs):.2f} "
            f"| {statistics.median(m[name] for m in mine):.2f} "
            f"| {statistics.median(ratios):.2f}x | {min(ratios):.2f}-{max(ratios):.2f}x |"
        )


if __name__ == "__main__":
    main()
