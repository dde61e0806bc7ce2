"""Writes the fuzzing seed corpus (small generated JPEGs and PNGs of every kind the service
meets, and WebP, AVIF, HEIC, GIF and TIFF files, valid and hostile, where their encoders are
installed) into a folder: `python fuzz/seeds.py DIR`. Nothing is committed; scripts/fuzz.sh
writes it to a temporary folder."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

# run by path from scripts/fuzz.sh
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import formats, synthetic  # noqa: E402


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
    found.update(format_seeds(rgb))
    return found


def format_seeds(rgb: np.ndarray) -> dict[str, bytes]:
    """Small WebP, AVIF, HEIC, GIF and TIFF files of each kind, then hostile edits of them
    (cut in half, declaring a huge size, thousands of frames); a format whose encoder is
    not installed is left out."""
    rgba = synthetic.with_alpha(rgb)
    deep = rgb.astype(np.uint16) * 257
    palette = formats.palette_picture(rgb, 16)
    # name -> (the tool that writes it, or None when Python does, and how)
    makers: dict[str, tuple[str | None, Callable[[], bytes]]] = {
        "lossy.webp": ("cwebp", lambda: formats.webp_lossy(rgb)),
        "alpha.webp": ("cwebp", lambda: formats.webp_lossy(rgba)),
        "lossless.webp": ("cwebp", lambda: formats.webp_lossless(rgba)),
        "animated.webp": ("img2webp", lambda: formats.webp_animated([rgb, rgb[::-1].copy()])),
        "frames-300.webp": ("cwebp", lambda: formats.webp_of_1x1_frames(
            300, formats.webp_lossless(rgb[:1, :1]))),
        "8.avif": ("avifenc", lambda: formats.avif(rgb)),
        "10-alpha.avif": ("avifenc", lambda: formats.avif(rgba.astype(np.uint16) * 257, 10)),
        "12-lossless.avif": ("avifenc", lambda: formats.avif(deep, 12, lossless=True)),
        "8.heic": ("heif-enc", lambda: formats.heic(rgb)),
        "10.heic": ("heif-enc", lambda: formats.heic(deep, 10)),
        "palette.gif": (None, lambda: formats.gif(palette)),
        "transparent.gif": (None, lambda: formats.gif(palette, transparent_index=1)),
        "animated.gif": ("gifsicle", lambda: formats.gif_animated([palette, palette[::-1].copy()])),
        "frames-300.gif": (None, lambda: formats.gif_of_1x1_frames(300)),
        "rgb.tif": (None, lambda: formats.tiff([rgb])),
        "grey16.tif": (None, lambda: formats.tiff([deep[..., 0].copy()])),
        "pages.tif": (None, lambda: formats.tiff([rgb, rgb[:5, :7].copy()])),
        "rgba-lzw.tif": ("tiffcp", lambda: formats.tiff_compressed([rgba], "lzw-predictor")),
        "deflate.tif": ("tiffcp", lambda: formats.tiff_compressed([rgb], "deflate")),
        "packbits.tif": ("tiffcp", lambda: formats.tiff_compressed([rgb], "packbits")),
        "jpeg.tif": ("tiffcp", lambda: formats.tiff_compressed([rgb], "jpeg")),
    }  # fmt: skip
    found = {name: make() for name, (tool, make) in makers.items()
             if tool is None or shutil.which(tool)}  # fmt: skip
    hostile = {
        "cut-lossy.webp": lambda: found["lossy.webp"][: len(found["lossy.webp"]) // 2],
        "cut-8.avif": lambda: found["8.avif"][: len(found["8.avif"]) // 2],
        "cut-8.heic": lambda: found["8.heic"][: len(found["8.heic"]) // 2],
        "cut-palette.gif": lambda: found["palette.gif"][: len(found["palette.gif"]) // 2],
        "cut-rgb.tif": lambda: found["rgb.tif"][: len(found["rgb.tif"]) // 2],
        "bomb-ispe.avif": lambda: formats.with_ispe(found["8.avif"], 60000, 60000),
        "bomb-ispe.heic": lambda: formats.with_ispe(found["8.heic"], 60000, 60000),
        "bomb-screen.gif": lambda: formats.gif_screen(found["palette.gif"], 65535, 65535),
        "bomb-size.tif": lambda: formats.tiff_set(formats.tiff_set(
            found["rgb.tif"], 256, 100_000), 257, 100_000),
    }  # fmt: skip
    for name, make in hostile.items():
        try:
            found[name] = make()
        except KeyError:  # the valid file it edits was left out
            pass
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
