"""Writes the PNG decoder benchmark inputs (benches/inputs.py, PNG_DECODE) into a folder, for
rust_core/benches/png_decoders.rs: `python -m scripts.png_bench_inputs DIR`, then
`PNG_BENCH_DIR=DIR cargo bench -p image_insights_core --bench png_decoders`."""

from __future__ import annotations

import sys
from pathlib import Path

from benches.inputs import PNG_DECODE, png_input


def main(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in PNG_DECODE:
        (directory / (name.replace(" ", "-") + ".png")).write_bytes(png_input(name))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
