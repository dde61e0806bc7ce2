"""Writes the seed corpus of the PNG fuzz target: small PNGs of every colour type, bit depth,
interlacing and tRNS kind, Pillow-written photos (every filter type), an animated PNG, and
files with metadata chunks (iCCP, eXIf, text). Usage: png_fuzz_seeds.py DIRECTORY"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

# run by path from scripts/fuzz.sh
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import png_files, synthetic  # noqa: E402


def _animated() -> bytes:
    """Two frames, IDAT the first: acTL, fcTL, IDAT, fcTL, fdAT."""
    def fctl(sequence: int) -> bytes:
        fields = [sequence, 4, 3, 0, 0]
        payload = b"".join(v.to_bytes(4, "big") for v in fields) + bytes([0, 1, 0, 10, 0, 0])
        return png_files.chunk(b"fcTL", payload)

    rows = zlib.compress(b"".join(b"\x00" + bytes(range(y, y + 4)) for y in range(3)))
    frame = png_files.chunk(b"fdAT", (2).to_bytes(4, "big") + rows)
    return png_files.assemble(
        png_files.ihdr(4, 3, 8, png_files.GREY),
        rows,
        before=(png_files.chunk(b"acTL", (2).to_bytes(4, "big") + bytes(4)), fctl(0)),
        after=(fctl(1), frame),
    )


def seeds() -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for colour_type, depth, trns in png_files.every_kind():
        for interlace in (False, True):
            name = f"kind-{colour_type}-{depth}-{int(trns)}-{int(interlace)}.png"
            case = png_files.generated(colour_type, depth, 9, 7, interlace=interlace, trns=trns)
            found[name] = case.data
    rgb = synthetic.textured_photo(24, 16, seed=2)
    found["photo-rgb.png"] = synthetic.png(rgb)
    found["photo-rgba.png"] = synthetic.png(synthetic.with_alpha(rgb))
    found["photo-palette.png"] = synthetic.palette_png(rgb, transparent_index=1)
    found["animated.png"] = _animated()
    found["metadata.png"] = png_files.with_chunks_before_idat(
        synthetic.png(rgb[:4, :4]),
        (
            png_files.chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"profile" * 20)),
            png_files.chunk(b"eXIf", b"MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03"),
            png_files.chunk(b"zTXt", b"k\x00\x00" + zlib.compress(b"text" * 50)),
        ),
    )
    found["wide-row.png"] = png_files.assemble(
        png_files.ihdr(3000, 1, 8, png_files.GREY), zlib.compress(b"\x00" + bytes(3000))
    )
    found["tall.png"] = png_files.assemble(
        png_files.ihdr(1, 3000, 8, png_files.GREY), zlib.compress(b"\x00\x80" * 3000)
    )
    return found


def main(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in seeds().items():
        (directory / name).write_bytes(data)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
