"""Writes the seed corpus of the JPEG reader's byte-level fuzz target: small generated JPEGs
of every kind the reader handles or refuses (layouts, including chroma finer than luma,
progressive, restart intervals, greyscale, RGB, arithmetic coding, CMYK), each once per
scale (the target reads its first byte as the scale). Usage: jpeg_fuzz_seeds.py DIRECTORY"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image

# run by path from scripts/fuzz.sh
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import synthetic  # noqa: E402


def main(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    pixels = synthetic.textured_photo(48, 40, seed=1)
    seeds: dict[str, bytes] = {}
    for subsampling in (0, 1, 2):
        for progressive in (False, True):
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(
                buffer, "JPEG", quality=75, subsampling=subsampling, progressive=progressive
            )
            seeds[f"pillow-{subsampling}-{int(progressive)}.jpg"] = buffer.getvalue()
    buffer = io.BytesIO()
    Image.fromarray(synthetic.to_grey(pixels)).save(buffer, "JPEG", quality=60)
    seeds["grey.jpg"] = buffer.getvalue()
    seeds["cmyk.jpg"] = synthetic.cmyk_jpeg(pixels)
    if shutil.which("cjpeg"):
        ppm = io.BytesIO()
        Image.fromarray(pixels).save(ppm, "PPM")
        for name, args in {
            "440-restart.jpg": ["-sample", "1x2,1x1,1x1", "-restart", "1B"],
            "420-progressive-restart.jpg": ["-progressive", "-restart", "2B"],
            "chroma-finer.jpg": ["-sample", "1x1,2x1,1x1"],
            "411-progressive.jpg": ["-sample", "4x1,1x1,1x1", "-progressive"],
            "mixed.jpg": ["-sample", "2x2,1x2,2x1"],
            "rgb.jpg": ["-rgb"],
            "arithmetic.jpg": ["-arithmetic"],
        }.items():
            seeds[name] = subprocess.run(
                ["cjpeg", "-quality", "70", *args], input=ppm.getvalue(), capture_output=True,
                check=True,
            ).stdout
    for name, data in seeds.items():
        for scale in range(4):
            (directory / f"{scale}-{name}").write_bytes(bytes([scale]) + data)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
