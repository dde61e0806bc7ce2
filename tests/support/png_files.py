"""PNG files for the decoder tests, fuzz seeds and benchmarks: every colour type, bit depth,
interlacing and tRNS kind (written by pypng, an encoder independent of both decoders under
test), raw rows under every filter type (written here), and chunk surgery (damaged CRCs,
cut points, replaced payloads)."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np
import png as pypng

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG colour types (PNG spec, IHDR).
GREY, RGB, PALETTE, GREY_ALPHA, RGBA = 0, 2, 3, 4, 6
CHANNELS = {GREY: 1, RGB: 3, PALETTE: 1, GREY_ALPHA: 2, RGBA: 4}
#: The bit depths each colour type allows.
DEPTHS = {
    GREY: (1, 2, 4, 8, 16), RGB: (8, 16), PALETTE: (1, 2, 4, 8), GREY_ALPHA: (8, 16), RGBA: (8, 16),
}  # fmt: skip


@dataclass(frozen=True)
class Case:
    """A generated PNG and the samples it stores."""

    data: bytes
    colour_type: int
    bit_depth: int
    #: (height, width, channels) stored samples (palette indices for palette images).
    samples: np.ndarray
    #: The colour key (grey value or RGB triple) for tRNS on grey or RGB images.
    key: tuple[int, ...] | None = None
    #: The palette, (entries, 3) uint8, and the alpha of its first entries for tRNS.
    palette: np.ndarray | None = None
    palette_alpha: np.ndarray | None = None


def generated(
    colour_type: int,
    bit_depth: int,
    width: int,
    height: int,
    *,
    interlace: bool = False,
    trns: bool = False,
    seed: int = 0,
) -> Case:
    """Random samples of the kind given, written by pypng. With `trns`, grey and RGB images
    get a colour key equal to their first pixel (so some pixels match it) and palette images
    a tRNS chunk shorter than the palette (so some entries stay opaque)."""
    rng = np.random.default_rng(seed)
    channels = CHANNELS[colour_type]
    top = (1 << bit_depth) - 1
    palette = palette_alpha = None
    key = None
    if colour_type == PALETTE:
        entries = min(top + 1, 40)
        palette = rng.integers(0, 256, size=(entries, 3), dtype=np.uint8)
        samples = rng.integers(0, entries, size=(height, width, 1))
        if trns:
            palette_alpha = rng.integers(0, 256, size=max(1, entries // 2), dtype=np.uint8)
    else:
        samples = rng.integers(0, top + 1, size=(height, width, channels))
        if trns:
            key = tuple(int(v) for v in samples[0, 0])
            # A few more pixels with the key's colour.
            samples[rng.random((height, width)) < 0.2] = key
    writer_options: dict[str, object] = {
        "greyscale": colour_type in (GREY, GREY_ALPHA),
        "alpha": colour_type in (GREY_ALPHA, RGBA),
        "bitdepth": bit_depth,
        "interlace": interlace,
    }
    if palette is not None:
        entries_list: list[tuple[int, ...]] = [tuple(int(v) for v in entry) for entry in palette]
        if palette_alpha is not None:
            entries_list = [
                (*entry, int(palette_alpha[i])) if i < len(palette_alpha) else entry
                for i, entry in enumerate(entries_list)
            ]
        writer_options = {"palette": entries_list, "bitdepth": bit_depth, "interlace": interlace}
    if key is not None:
        writer_options["transparent"] = key[0] if colour_type == GREY else key
    writer = pypng.Writer(width, height, **writer_options)
    buffer = io.BytesIO()
    writer.write(buffer, samples.reshape(height, width * channels).tolist())
    return Case(buffer.getvalue(), colour_type, bit_depth, samples.astype(np.uint16), key,
                palette, palette_alpha)  # fmt: skip


def every_kind() -> list[tuple[int, int, bool]]:
    """(colour type, bit depth, tRNS) for every combination PNG allows."""
    kinds = []
    for colour_type, depths in DEPTHS.items():
        for depth in depths:
            kinds.append((colour_type, depth, False))
            if colour_type in (GREY, RGB, PALETTE):
                kinds.append((colour_type, depth, True))
    return kinds


# --- raw files: every filter type -------------------------------------------------------


def chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def ihdr(width: int, height: int, bit_depth: int, colour_type: int, interlace: int = 0) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0,
                                      interlace))  # fmt: skip


def assemble(
    header: bytes, idat: bytes, before: tuple[bytes, ...] = (), after: tuple[bytes, ...] = ()
) -> bytes:
    """Signature, IHDR, the chunks `before`, one IDAT, the chunks `after`, IEND."""
    middle = b"".join(before) + chunk(b"IDAT", idat) + b"".join(after)
    return SIGNATURE + header + middle + chunk(b"IEND", b"")


def _paeth(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    a, b, c = (v.astype(np.int16) for v in (a, b, c))
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c)).astype(np.uint8)


def filtered(rows: np.ndarray, bytes_per_pixel: int) -> bytes:
    """Raw rows (height, row bytes) filtered with types 0, 1, 2, 3, 4 in turn, filter byte
    first on each row: the data an IDAT stream inflates to."""
    out = []
    previous = np.zeros(rows.shape[1], np.uint8)
    for y, row in enumerate(rows):
        kind = y % 5
        left = np.concatenate([np.zeros(bytes_per_pixel, np.uint8), row[:-bytes_per_pixel]])
        upper_left = np.concatenate(
            [np.zeros(bytes_per_pixel, np.uint8), previous[:-bytes_per_pixel]]
        )
        predictor = [
            np.zeros_like(row),
            left,
            previous,
            ((left.astype(np.uint16) + previous) // 2).astype(np.uint8),
            _paeth(left, previous, upper_left),
        ][kind]
        out.append(bytes([kind]) + (row - predictor).astype(np.uint8).tobytes())
        previous = row
    return b"".join(out)


def raw_png(samples: np.ndarray, colour_type: int, *, compress_level: int = 6) -> bytes:
    """A non-interlaced PNG of (height, width, channels) samples (uint8 or uint16 for 16-bit)
    of a colour type, with every filter type in turn."""
    height, width, channels = samples.shape
    wide = samples.dtype == np.uint16
    rows = samples.astype(">u2" if wide else np.uint8).reshape(height, -1).view(np.uint8)
    rows = rows.reshape(height, -1)
    data = zlib.compress(filtered(rows, channels * (2 if wide else 1)), compress_level)
    return assemble(ihdr(width, height, 16 if wide else 8, colour_type), data)


# --- surgery -----------------------------------------------------------------------------


def chunks(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(offset, type, payload) of each complete chunk."""
    found = []
    offset = len(SIGNATURE)
    while offset + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        found.append((offset, kind, data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return found


def with_bad_crc(data: bytes, kind: bytes) -> bytes:
    """`data` with the CRC of its first `kind` chunk flipped in one bit."""
    for offset, found, payload in chunks(data):
        if found == kind:
            crc_at = offset + 8 + len(payload)
            return data[:crc_at] + bytes([data[crc_at] ^ 0x01]) + data[crc_at + 1 :]
    raise ValueError(f"no {kind!r} chunk")


def with_chunks_before_idat(data: bytes, extra: tuple[bytes, ...]) -> bytes:
    """`data` with `extra` chunks inserted just before its first IDAT."""
    for offset, kind, _ in chunks(data):
        if kind == b"IDAT":
            return data[:offset] + b"".join(extra) + data[offset:]
    raise ValueError("no IDAT")


def with_idat(data: bytes, payload: bytes) -> bytes:
    """`data` with all its IDAT chunks replaced by one holding `payload` (valid CRC)."""
    found = chunks(data)
    first = next(offset for offset, kind, _ in found if kind == b"IDAT")
    after = [offset for offset, kind, _ in found if kind not in (b"IDAT",) and offset > first]
    end = after[0] if after else len(data)
    return data[:first] + chunk(b"IDAT", payload) + data[end:]


def idat_stream(data: bytes) -> bytes:
    """The concatenated IDAT payloads (the zlib stream)."""
    return b"".join(payload for _, kind, payload in chunks(data) if kind == b"IDAT")
