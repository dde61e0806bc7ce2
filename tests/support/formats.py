"""Files of the formats beyond JPEG and PNG, written by real encoders, and a second decoder
for each that shares no code with the service's.

Encoders: the Debian reference tools (`cwebp`, `img2webp`, `avifenc`, `heif-enc`,
`gifsicle`, `tiffcp`) and Pillow's GIF writer; TIFF is written uncompressed here, from its
specification, and `tiffcp` compresses it. Each takes a NumPy array: (h, w) grey or
(h, w, c) with c = 2, 3, 4 (grey+alpha, RGB, RGBA), uint8 or, where the format has deeper
samples, uint16 (for AVIF and HEIC, 16-bit samples that the encoder reduces to 10 or 12 bits).

Decoders: libvips (`pyvips`) where it reads the format (WebP, AVIF, GIF, TIFF), the format's
reference tool decoding to PNG otherwise (`heif-convert` for HEIC, whose codec the libvips
wheel leaves out; `dwebp` and `avifdec` when pyvips is absent). PNGs the tools write are
read by the small reader below, which handles 16-bit samples (Pillow reads 16-bit RGB as
8 bits). Each decoder returns the samples at their own depth, so a test can apply the
contract's round(v * 255 / (2^b - 1)) itself.

Files live in memory; the tools that need paths get a temporary folder that is removed as
soon as they finish. Nothing is ever committed.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tests.support import synthetic

#: The service's format names, and the tool each format's files are written with.
ENCODER_TOOLS = {
    "webp": ("cwebp", "img2webp"),
    "avif": ("avifenc",),
    "heif": ("heif-enc",),
    "gif": ("gifsicle",),
    "tiff": ("tiffcp",),
}


def missing_tools(fmt: str) -> list[str]:
    """The encoder tools of `fmt` that are not on PATH."""
    return [tool for tool in ENCODER_TOOLS.get(fmt, ()) if shutil.which(tool) is None]


def _run(args: Sequence[str], inputs: dict[str, bytes], output: str) -> bytes:
    """Runs a tool in a temporary folder holding `inputs` (name -> bytes); returns the bytes
    of the file it wrote as `output`."""
    with tempfile.TemporaryDirectory(prefix="formats-") as folder:
        root = Path(folder)
        for name, data in inputs.items():
            (root / name).write_bytes(data)
        done = subprocess.run(list(args), cwd=root, capture_output=True, timeout=120)
        if done.returncode != 0 or not (root / output).exists():
            raise RuntimeError(f"{args[0]} failed: {done.stderr.decode(errors='replace')[-400:]}")
        return (root / output).read_bytes()


def png_of(pixels: np.ndarray) -> bytes:
    """A PNG of uint8 or uint16 pixels, the encoders' input."""
    if pixels.dtype == np.uint16:
        return synthetic.png16(pixels)
    return synthetic.png(pixels)


# --- WebP ---------------------------------------------------------------------------------


def webp_lossy(pixels: np.ndarray, quality: int = 90) -> bytes:
    """Lossy WebP (VP8, with an ALPH chunk when `pixels` has alpha)."""
    return _run(["cwebp", "-quiet", "-q", str(quality), "in.png", "-o", "out.webp"],
                {"in.png": png_of(pixels)}, "out.webp")  # fmt: skip


def webp_lossless(pixels: np.ndarray) -> bytes:
    """Lossless WebP (VP8L); `-exact` keeps the colour under fully transparent pixels."""
    return _run(["cwebp", "-quiet", "-lossless", "-exact", "in.png", "-o", "out.webp"],
                {"in.png": png_of(pixels)}, "out.webp")  # fmt: skip


def webp_animated(frames: Sequence[np.ndarray], lossless: bool = True) -> bytes:
    """An animated WebP of these frames (same size), 100 ms each, by `img2webp`."""
    names = {f"f{i:05}.png": png_of(frame) for i, frame in enumerate(frames)}
    mode = ["-lossless"] if lossless else ["-lossy", "-q", "90"]
    return _run(["img2webp", "-loop", "0", "-d", "100", *mode, *names, "-o", "out.webp"],
                names, "out.webp")  # fmt: skip


def riff_chunks(data: bytes) -> list[tuple[int, bytes, int]]:
    """(offset, FourCC, payload length) of each top-level chunk of a WebP's RIFF body."""
    found, offset = [], 12
    while offset + 8 <= len(data):
        kind = data[offset : offset + 4]
        (length,) = struct.unpack_from("<I", data, offset + 4)
        found.append((offset, kind, length))
        offset += 8 + length + (length & 1)
    return found


def riff_chunk(kind: bytes, payload: bytes) -> bytes:
    """One RIFF chunk, padded to an even length."""
    return kind + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) & 1)


def riff(chunks: bytes) -> bytes:
    """A WebP file of these chunks."""
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks


def webp_of_1x1_frames(count: int, lossless_1x1: bytes) -> bytes:
    """An animated 1x1 WebP of `count` frames, each the VP8L bitstream of `lossless_1x1`
    (a 1x1 lossless WebP): VP8X (animation flag), ANIM, then one ANMF chunk per frame."""
    (vp8l,) = [riff_chunk(kind, lossless_1x1[o + 8 : o + 8 + n])
               for o, kind, n in riff_chunks(lossless_1x1) if kind == b"VP8L"]  # fmt: skip
    vp8x = riff_chunk(b"VP8X", bytes([0x02, 0, 0, 0]) + (0).to_bytes(3, "little") * 2)
    anim = riff_chunk(b"ANIM", b"\xff\xff\xff\xff" + struct.pack("<H", 0))
    # x, y (in units of 2), width - 1, height - 1 (24 bits each), duration, flags.
    frame = riff_chunk(b"ANMF", b"\x00" * 12 + (10).to_bytes(3, "little") + b"\x00" + vp8l)
    return riff(vp8x + anim + frame * count)


# --- AVIF and HEIC ------------------------------------------------------------------------


def avif(pixels: np.ndarray, depth: int = 8, lossless: bool = False, quality: int = 70) -> bytes:
    """AVIF by `avifenc` (libaom), YUV 4:4:4. `depth` 10 or 12 wants uint16 `pixels`
    (avifenc scales the 16-bit samples down). `lossless` is AV1 lossless with the identity
    matrix (RGB stored as is)."""
    quality_args = ["-l"] if lossless else ["--min", str(63 - quality * 63 // 100),
                                            "--max", str(63 - quality * 63 // 100)]  # fmt: skip
    return _run(["avifenc", "-s", "8", "-d", str(depth), "-y", "444", *quality_args,
                 "in.png", "out.avif"], {"in.png": png_of(pixels)}, "out.avif")  # fmt: skip


def heic(pixels: np.ndarray, depth: int = 8, lossless: bool = False, quality: int = 90) -> bytes:
    """HEIC by `heif-enc` (x265). `depth` 10 or 12 wants uint16 `pixels`. `lossless` is HEVC
    lossless, 4:4:4 with the identity matrix."""
    quality_args = (["-L", "-p", "chroma=444", "--matrix_coefficients=0"] if lossless
                    else ["-q", str(quality)])  # fmt: skip
    depth_args = ["-b", str(depth)] if pixels.dtype == np.uint16 else []
    return _run(["heif-enc", *quality_args, *depth_args, "in.png", "-o", "out.heic"],
                {"in.png": png_of(pixels)}, "out.heic")  # fmt: skip


def isobmff_boxes(data: bytes, kind: bytes) -> list[int]:
    """Offsets of every box of type `kind` (found by its type bytes, then checked against
    its size field), for surgery on the small files the encoders write."""
    found, start = [], 0
    while (at := data.find(kind, start)) >= 4:
        (size,) = struct.unpack_from(">I", data, at - 4)
        if 8 <= size <= len(data) - at + 4:
            found.append(at - 4)
        start = at + 1
    return found


def with_ispe(data: bytes, width: int, height: int) -> bytes:
    """An AVIF or HEIF whose every `ispe` (image spatial extents) box declares
    `width` x `height`."""
    edited = bytearray(data)
    boxes = isobmff_boxes(data, b"ispe")
    if not boxes:
        raise ValueError("no ispe box")
    for offset in boxes:  # size(4) type(4) version+flags(4) width(4) height(4)
        edited[offset + 12 : offset + 20] = struct.pack(">II", width, height)
    return bytes(edited)


# --- GIF ----------------------------------------------------------------------------------


def palette_picture(rgb: np.ndarray, colours: int = 64) -> np.ndarray:
    """`rgb` reduced to `colours` colours without dithering: a picture that GIF, PNG and
    the other lossless formats store exactly."""
    image = Image.fromarray(rgb).quantize(colors=colours, dither=Image.Dither.NONE)
    return np.asarray(image.convert("RGB"))


def gif(rgb: np.ndarray, transparent_index: int | None = None) -> bytes:
    """A GIF of a picture of at most 256 colours (Pillow's writer, the palette exact);
    with `transparent_index`, that palette entry is transparent."""
    image = Image.fromarray(rgb).quantize(colors=256, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    options = {} if transparent_index is None else {"transparency": transparent_index}
    image.save(buffer, "GIF", optimize=False, **options)
    return buffer.getvalue()


def gif_animated(frames: Sequence[np.ndarray]) -> bytes:
    """An animated GIF of these frames (each of at most 256 colours), merged by `gifsicle`
    from one GIF per frame."""
    names = {f"f{i:05}.gif": gif(frame) for i, frame in enumerate(frames)}
    return _run(["gifsicle", "--loopcount=forever", "--delay=10", *names, "-o", "out.gif"],
                names, "out.gif")  # fmt: skip


def gif_of_1x1_frames(count: int) -> bytes:
    """An animated 1x1 GIF of `count` frames, written byte by byte: logical screen, a
    two-colour global table, the NETSCAPE loop extension, then per frame a graphic control
    extension, an image descriptor and the LZW data of one pixel."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    control = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"
    # Minimum code size 2: clear (4), index 1, end (5), three 3-bit codes in two bytes.
    pixel = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x4c\x01\x00"
    return screen + loop + (control + pixel) * count + b"\x3b"


def gif_screen(data: bytes, width: int, height: int) -> bytes:
    """A GIF whose logical screen declares `width` x `height`."""
    return data[:6] + struct.pack("<HH", width, height) + data[10:]


def gif_blocks(data: bytes) -> list[tuple[int, str]]:
    """(offset, kind) of each block after the header: "extension", "image", "trailer"."""
    flags = data[10]
    offset = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    found = []
    while offset < len(data):
        introducer = data[offset]
        if introducer == 0x3B:
            found.append((offset, "trailer"))
            break
        if introducer == 0x21:
            found.append((offset, "extension"))
            offset += 2
        elif introducer == 0x2C:
            found.append((offset, "image"))
            local = data[offset + 9]
            offset += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1
        else:
            raise ValueError(f"not a GIF block at {offset}")
        while data[offset]:  # data sub-blocks up to the empty one
            offset += data[offset] + 1
        offset += 1
    return found


# --- TIFF ---------------------------------------------------------------------------------

#: Field types of the TIFF specification (section 2).
SHORT, LONG = 3, 4
COMPRESSIONS = {
    "none": "none", "lzw": "lzw", "lzw-predictor": "lzw:2", "deflate": "zip",
    "deflate-predictor": "zip:2", "packbits": "packbits", "jpeg": "jpeg:90",
}  # fmt: skip


def tiff_page(pixels: np.ndarray, rows_per_strip: int | None = None) -> dict[int, list[int]]:
    """The baseline tags of one uncompressed page of `pixels` (uint8 or uint16; grey,
    grey+alpha, RGB, RGBA with unassociated alpha), strip offsets still to be filled in."""
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    bits = 16 if pixels.dtype == np.uint16 else 8
    rows = rows_per_strip or height
    strips = (height + rows - 1) // rows
    row_bytes = width * channels * bits // 8
    tags = {
        256: [width], 257: [height], 258: [bits] * channels, 259: [1],
        262: [1 if channels < 3 else 2], 273: [0] * strips, 277: [channels], 278: [rows],
        279: [min(rows, height - i * rows) * row_bytes for i in range(strips)],
        284: [1],
    }  # fmt: skip
    if channels in (2, 4):
        tags[338] = [2]  # ExtraSamples: unassociated alpha
    return tags


def tiff(
    pages: Sequence[np.ndarray],
    rows_per_strip: int | None = None,
    page_tags: Callable[[int, dict[int, list[int]]], None] | None = None,
) -> bytes:
    """An uncompressed little-endian TIFF with one page (IFD) per array, each page's strips
    after its IFD. `page_tags(index, tags)` may change a page's tags before it is written
    (StripOffsets are filled in afterwards unless it sets them)."""
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    link = 4  # where the offset of the next IFD goes
    for index, pixels in enumerate(pages):
        tags = tiff_page(pixels, rows_per_strip)
        offsets_given = False
        if page_tags is not None:
            before = list(tags[273])
            page_tags(index, tags)
            offsets_given = tags.get(273) != before
        raw = pixels.astype("<u2").tobytes() if pixels.dtype == np.uint16 else pixels.tobytes()
        ifd_at = len(out) + (len(out) & 1)
        out += b"\x00" * (ifd_at - len(out))
        struct.pack_into("<I", out, link, ifd_at)
        entries = sorted(tags.items())
        extra_at = ifd_at + 2 + 12 * len(entries) + 4
        data_at = extra_at + sum(4 * len(v) for _, v in entries if len(v) > 2 or 4 * len(v) > 4)
        if not offsets_given:
            position, offsets = data_at, []
            for count in tags[279]:
                offsets.append(position)
                position += count
            tags[273] = offsets
            entries = sorted(tags.items())
        ifd, extra = struct.pack("<H", len(entries)), b""
        for tag, values in entries:
            kind = LONG if tag in (273, 279, 256, 257, 278) else SHORT
            size = 4 if kind == LONG else 2
            packed = struct.pack(f"<{len(values)}{'I' if kind == LONG else 'H'}", *values)
            if len(packed) <= 4:
                ifd += struct.pack("<HHI", tag, kind, len(values)) + packed.ljust(4, b"\x00")
            else:
                ifd += struct.pack("<HHII", tag, kind, len(values), extra_at + len(extra))
                extra += packed.ljust(4 * len(values) if size == 4 else len(packed), b"\x00")
                extra += b"\x00" * (-len(extra) % 4)
        link = ifd_at + len(ifd)
        out += ifd + b"\x00\x00\x00\x00" + extra
        out += b"\x00" * (data_at - len(out))
        out += raw
    return bytes(out)


def tiff_compressed(
    pages: Sequence[np.ndarray], compression: str, big_endian: bool = False
) -> bytes:
    """A TIFF of these pages compressed by `tiffcp -c` (a key of COMPRESSIONS)."""
    order = ["-B"] if big_endian else ["-L"]
    strips = ["-r", "16"] if compression == "jpeg" else []  # JPEG strips are whole MCU rows
    return _run(["tiffcp", *order, *strips, "-c", COMPRESSIONS[compression], "in.tif", "out.tif"],
                {"in.tif": tiff(pages)}, "out.tif")  # fmt: skip


def tiff_ifd_entries(data: bytes) -> dict[int, tuple[int, int, int, int]]:
    """tag -> (entry offset, type, count, value or offset) of the first IFD of a
    little-endian TIFF."""
    (ifd,) = struct.unpack_from("<I", data, 4)
    (count,) = struct.unpack_from("<H", data, ifd)
    entries = {}
    for i in range(count):
        at = ifd + 2 + 12 * i
        tag, kind, n, value = struct.unpack_from("<HHII", data, at)
        if kind == SHORT and n == 1:
            value &= 0xFFFF
        entries[tag] = (at, kind, n, value)
    return entries


def tiff_set(data: bytes, tag: int, value: int) -> bytes:
    """A little-endian TIFF whose single-valued `tag` (SHORT or LONG) in the first IFD is
    `value`, stored as a LONG when it does not fit a SHORT."""
    at, kind, count, _ = tiff_ifd_entries(data)[tag]
    if count != 1:
        raise ValueError(f"tag {tag} has {count} values")
    edited = bytearray(data)
    if kind == SHORT and value <= 0xFFFF:
        edited[at + 8 : at + 12] = struct.pack("<HH", value, 0)
    else:
        edited[at + 2 : at + 4] = struct.pack("<H", LONG)
        edited[at + 8 : at + 12] = struct.pack("<I", value)
    return bytes(edited)


# --- reading PNGs the tools write -----------------------------------------------------------


def read_png(data: bytes) -> tuple[np.ndarray, int]:
    """(samples (h, w, c), bit depth) of a non-interlaced 8- or 16-bit grey, grey+alpha, RGB
    or RGBA PNG, as `dwebp`, `avifdec` and `heif-convert` write them: written here from the
    PNG specification so that 16-bit samples keep every bit."""
    width, height, bits, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if interlace or bits not in (8, 16) or colour not in (0, 2, 4, 6):
        raise ValueError(f"unsupported PNG: depth {bits}, colour type {colour}")
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    idat, offset = b"", 8
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        if data[offset + 4 : offset + 8] == b"IDAT":
            idat += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), np.uint8)
    step = bits // 8 * channels  # bytes per pixel
    stride = width * step
    rows = raw.reshape(height, stride + 1)
    out = np.zeros((height, stride), np.int32)
    previous = np.zeros(stride, np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 0:
            current = line
        elif kind == 2:
            current = (line + previous) & 0xFF
        else:  # sub, average and Paeth depend on the pixel to the left: byte by byte
            current = np.zeros(stride, np.int32)
            for x in range(stride):
                left = current[x - step] if x >= step else 0
                up, corner = previous[x], previous[x - step] if x >= step else 0
                if kind == 1:
                    predictor = left
                elif kind == 3:
                    predictor = (left + up) // 2
                else:
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                current[x] = (line[x] + predictor) & 0xFF
        out[y] = current
        previous = current
    samples = out.astype(np.uint8)
    if bits == 16:
        samples = samples.reshape(height, -1).view(">u2").astype(np.uint16)
    return samples.reshape(height, width, channels), bits


# --- independent decoders -------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    """A second decoder's reading of a file: the first frame's samples (h, w, c) at their
    own depth, the sample depth, and the decoder's name."""

    samples: np.ndarray
    bits: int
    decoder: str

    def rgb8(self) -> np.ndarray:
        """The 8-bit RGB pixels the contract measures: alpha dropped, grey as (g, g, g),
        deeper samples v of depth b as round(v * 255 / (2^b - 1))."""
        samples = self.samples.astype(np.int64)
        if self.bits != 8:
            maximum = (1 << self.bits) - 1
            samples = (samples * 255 * 2 + maximum) // (2 * maximum)  # halves up
        colour = samples[..., :1].repeat(3, axis=2) if samples.shape[2] < 3 else samples[..., :3]
        return colour.astype(np.uint8)


def have_pyvips() -> bool:
    try:
        import pyvips  # type: ignore[import-untyped]  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def _vips(data: bytes, fmt: str) -> Decoded:
    import pyvips  # type: ignore[import-untyped]

    image = pyvips.Image.new_from_buffer(data, "", access="sequential")
    samples = image.numpy()
    if samples.ndim == 2:
        samples = samples[..., None]
    bits = 8
    if samples.dtype == np.uint16:
        bits = 16
        if fmt in ("avif", "heif"):  # libheif's deeper samples, shifted to the top bits
            bits = int(image.get("bits-per-sample"))
            samples = samples >> (16 - bits)
    elif samples.dtype != np.uint8:
        raise ValueError(f"libvips read {samples.dtype} samples")
    return Decoded(np.ascontiguousarray(samples), bits, "libvips")


def _gif_transparent_colour(data: bytes) -> tuple[int, tuple[int, int, int]] | None:
    """(index, colour) of the first frame's transparent palette entry, or None."""
    table = data[13 : 13 + (3 << ((data[10] & 7) + 1))] if data[10] & 0x80 else b""
    for offset, kind in gif_blocks(data):
        if kind == "image":
            return None
        if data[offset + 1] == 0xF9 and data[offset + 3] & 1:  # a graphic control extension
            index = data[offset + 6]
            return index, tuple(table[3 * index : 3 * index + 3])  # type: ignore[return-value]
    return None


def _tool(data: bytes, fmt: str) -> Decoded:
    if fmt == "webp":
        # dwebp reads still images; an animation's first frame is taken out by webpmux.
        animated = any(kind == b"ANMF" for _, kind, _ in riff_chunks(data))
        if animated:
            data = _run(["webpmux", "-get", "frame", "1", "in.webp", "-o", "first.webp"],
                        {"in.webp": data}, "first.webp")  # fmt: skip
        png = _run(["dwebp", "-quiet", "in.webp", "-o", "out.png"], {"in.webp": data}, "out.png")
        samples, bits = read_png(png)
        return Decoded(samples, bits, "dwebp")
    if fmt == "avif":
        png = _run(["avifdec", "-d", "16", "in.avif", "out.png"], {"in.avif": data}, "out.png")
        samples, _ = read_png(png)
        bits = _avif_depth(data)
        maximum = (1 << bits) - 1  # avifdec scales to 16 bits with rounding: undo it
        wide = (samples.astype(np.int64) * maximum * 2 + 65535) // (2 * 65535)
        return Decoded(wide.astype(np.uint16 if bits > 8 else np.uint8), bits, "avifdec")
    if fmt == "heif":
        png = _run(["heif-convert", "--quiet", "in.heic", "out.png"], {"in.heic": data},
                   "out.png")  # fmt: skip
        samples, bits = read_png(png)
        if bits == 16:  # heif-convert shifts deeper samples to the top bits
            bits = _heif_depth(data)
            samples = samples >> (16 - bits)
        return Decoded(samples, bits, "heif-convert")
    raise ValueError(f"no reference tool decodes {fmt}")


def _avif_depth(data: bytes) -> int:
    """The bit depth in the first av1C box: 8, 10 or 12."""
    (offset,) = isobmff_boxes(data, b"av1C")[:1]
    flags = data[offset + 10]  # marker+version, profile+level, then tier|high_bitdepth|twelve
    return 12 if flags & 0x20 else 10 if flags & 0x40 else 8


def _heif_depth(data: bytes) -> int:
    """The luma bit depth in the first hvcC box."""
    (offset,) = isobmff_boxes(data, b"hvcC")[:1]
    return (data[offset + 8 + 18] & 7) + 8  # bitDepthLumaMinus8


#: The formats each second decoder reads.
VIPS_FORMATS = ("webp", "avif", "gif", "tiff")
TOOL_FORMATS = {"webp": "dwebp", "avif": "avifdec", "heif": "heif-convert"}


def decoder_missing(fmt: str) -> str | None:
    """Why no second decoder of `fmt` is available here, or None."""
    if fmt in VIPS_FORMATS and have_pyvips():
        return None
    if fmt in TOOL_FORMATS and shutil.which(TOOL_FORMATS[fmt]):
        return None
    wanted = ["pyvips"] if fmt in VIPS_FORMATS else []
    wanted += [TOOL_FORMATS[fmt]] if fmt in TOOL_FORMATS else []
    return f"no second decoder of {fmt}: needs {' or '.join(wanted)}"


def decode(data: bytes, fmt: str, prefer: str = "vips") -> Decoded:
    """The first frame (the primary image) of a file of `fmt`, read by libvips where it
    reads the format, else by the reference tool; `prefer="tool"` asks for the tool first."""
    use_vips = fmt in VIPS_FORMATS and have_pyvips()
    if prefer == "tool" and fmt in TOOL_FORMATS and shutil.which(TOOL_FORMATS[fmt]):
        use_vips = False
    if not use_vips:
        return _tool(data, fmt)
    decoded = _vips(data, fmt)
    if fmt == "gif" and (found := _gif_transparent_colour(data)) is not None:
        # libvips blanks transparent pixels; the contract drops alpha and keeps the colour.
        _, colour = found
        samples = decoded.samples.copy()
        if samples.shape[2] == 4:
            samples[samples[..., 3] == 0, :3] = colour
        decoded = Decoded(samples, decoded.bits, decoded.decoder)
    return decoded
