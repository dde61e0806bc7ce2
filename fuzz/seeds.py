"""Writes the fuzzing seed corpus (small generated JPEGs and PNGs of every kind the service
meets) into a folder: `python fuzz/seeds.py DIR`. Nothing is committed; scripts/fuzz.sh
writes it to a temporary folder."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

# run by path from scripts/fuzz.sh
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import synthetic  # noqa: E402


def seeds() -> dict[str, bytes]:
    rgb = synthetic.textured_photo(40, 28, seed=7)
    grey = synthetic.to_grey(rgb)
    found = {
        "baseline.jpg": synthetic.jpeg(rgb, quality=75),
        "progressive.jpg": synthetic.jpeg(rgb, progressive=True),
        "grey.jpg": synthetic.jpeg(grey),
        "cmyk.jpg": synthetic.cmyk_jpeg(rgb),
        "rgb.png": synthetic.png(rgb),
        "rgba.png": synthetic.png(synthetic.with_alpha(rgb)),
        "la.png": synthetic.png(synthetic.with_alpha(grey)),
        "grey.png": synthetic.png(grey),
        "palette-trns.png": synthetic.palette_png(rgb, transparent_index=0),
        "grey16.png": synthetic.png16((grey.astype(np.uint16) * 257)),
        "rgb16.png": synthetic.png16((rgb.astype(np.uint16) * 257)),
        "1x1.png": synthetic.png(rgb[:1, :1]),
        "1x9.jpg": synthetic.jpeg(rgb[:9, :1]),
        "bomb-header.png": synthetic.png_header_only(30000, 30000),
    }
    for name, data in list(found.items())[:4]:
        found["cut-" + name] = data[: len(data) // 2]
    return found


def core_seeds() -> dict[str, bytes]:
    """Inputs of the cargo-fuzz `analyze` target: width and height (u16 LE), layout (0-3:
    L, LA, RGB, RGBA), flags (1 colours, 2 sharpness, 4 buffer taken as is), then pixels."""
    rgb = synthetic.textured_photo(16, 12, seed=3)
    found = {}
    for layout, channels in enumerate((1, 2, 3, 4)):
        pixels = np.resize(rgb, (12, 16, channels)).tobytes()
        header = (16).to_bytes(2, "little") + (12).to_bytes(2, "little")
        found[f"core-{channels}"] = header + bytes([layout, 3]) + pixels
    found["core-mismatch"] = (65535).to_bytes(2, "little") * 2 + bytes([3, 7]) + b"\x80" * 64
    found["core-1x1"] = b"\x01\x00\x01\x00\x02\x07\x10\x20\x30"
    return found


def main() -> None:
    """`seeds.py DIR` writes the image seeds; `seeds.py --core DIR` the Rust target's."""
    core = sys.argv[1] == "--core"
    target = Path(sys.argv[-1])
    target.mkdir(parents=True, exist_ok=True)
    chosen = core_seeds() if core else seeds()
    for name, data in chosen.items():
        (target / name).write_bytes(data)
    print(f"{len(chosen)} seeds in {target}")


if __name__ == "__main__":
    main()
