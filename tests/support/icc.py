"""ICC colour profiles built from first principles, a parser to read them back, and an
independent NumPy rendering of profiled 8-bit pixels into sRGB, for the colour-management
tests and the ICC benchmark.

The profiles are matrix/TRC display profiles in the ICC.1 layout (version 2.4 by default,
4.3 on request): a 128-byte header, a tag table, then the tags. The colorants are computed
here from the published chromaticities of each space and its white, chromatically adapted
to the D50 profile connection space with the Bradford transform; nothing is copied from an
existing profile or asked of LittleCMS, so the tests check the service against a second,
unrelated implementation of the same arithmetic.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

#: The PCS illuminant of every ICC profile (ICC.1 7.2.16), exactly as the header stores it.
D50_XYZ = np.array([0.9642, 1.0, 0.8249])
#: CIE D65 chromaticity, as sRGB (IEC 61966-2-1), Display P3 and Adobe RGB (1998) give it.
D65_XY = (0.3127, 0.3290)
#: The Bradford cone-response matrix (Lam 1985, as used by ICC.1 Annex E and LittleCMS).
BRADFORD = np.array([
    [0.8951, 0.2664, -0.1614],
    [-0.7502, 1.7135, 0.0367],
    [0.0389, -0.0685, 1.0296],
])  # fmt: skip
#: s15Fixed16Number: a signed 32-bit integer over 65536.
FIXED_ONE = 65536
HEADER_SIZE = 128
#: Version fields of the header: 2.4.0 and 4.3.0.
VERSION_2_4 = 0x02400000
VERSION_4_3 = 0x04300000


def xy_to_xyz(x: float, y: float) -> np.ndarray:
    """The XYZ of chromaticity (x, y) at luminance Y = 1."""
    return np.array([x / y, 1.0, (1.0 - x - y) / y])


D65_XYZ = xy_to_xyz(*D65_XY)


def bradford(source_white: np.ndarray, target_white: np.ndarray) -> np.ndarray:
    """The 3x3 Bradford matrix taking XYZ seen under `source_white` to `target_white`."""
    cones = BRADFORD @ target_white / (BRADFORD @ source_white)
    return np.linalg.inv(BRADFORD) @ np.diag(cones) @ BRADFORD


def rgb_to_xyz(primaries: tuple[tuple[float, float], ...], white: np.ndarray) -> np.ndarray:
    """The 3x3 matrix from linear RGB to XYZ (columns: the primaries' XYZ) that sends
    RGB (1, 1, 1) to `white`: each primary's unit-luminance XYZ scaled so that they sum to
    the white."""
    columns = np.column_stack([xy_to_xyz(x, y) for x, y in primaries])
    return columns * np.linalg.solve(columns, white)


@dataclass(frozen=True)
class Transfer:
    """A tone reproduction curve: a pure power law `gamma`, or the sRGB piecewise curve
    (IEC 61966-2-1) when `gamma` is None."""

    gamma: float | None = None

    def decode(self, encoded: np.ndarray) -> np.ndarray:
        """Linear light of encoded values in [0, 1]."""
        if self.gamma is not None:
            return np.power(encoded, self.gamma)
        return np.where(
            encoded <= 0.04045, encoded / 12.92, np.power((encoded + 0.055) / 1.055, 2.4)
        )

    def encode(self, linear: np.ndarray) -> np.ndarray:
        """Encoded values of linear light in [0, 1]."""
        if self.gamma is not None:
            return np.power(linear, 1.0 / self.gamma)
        return np.where(
            linear <= 0.0031308, linear * 12.92, 1.055 * np.power(linear, 1 / 2.4) - 0.055
        )


#: The sRGB curve's parameters as an ICC parametric curve of type 3:
#: Y = (aX + b)^g for X >= d, Y = cX below.
SRGB_PARAMETERS = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)
SRGB_CURVE = Transfer()


@dataclass(frozen=True)
class RgbSpace:
    """An RGB colour space: its name (the profile's description), the xy chromaticities of
    its red, green and blue primaries, its white and its tone curve."""

    name: str
    primaries: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]
    white: tuple[float, float]
    transfer: Transfer

    @property
    def white_xyz(self) -> np.ndarray:
        return xy_to_xyz(*self.white)

    @property
    def to_xyz(self) -> np.ndarray:
        """Linear RGB to XYZ under the space's own white."""
        return rgb_to_xyz(self.primaries, self.white_xyz)

    @property
    def to_pcs(self) -> np.ndarray:
        """Linear RGB to XYZ adapted to D50: the columns are the rXYZ, gXYZ, bXYZ tags."""
        return bradford(self.white_xyz, D50_XYZ) @ self.to_xyz


SRGB = RgbSpace("sRGB (built for tests)", ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)), D65_XY,
                SRGB_CURVE)  # fmt: skip
DISPLAY_P3 = RgbSpace(
    "Display P3 (built for tests)", ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), D65_XY,
    SRGB_CURVE,
)  # fmt: skip
ADOBE_RGB = RgbSpace(
    "Adobe RGB (1998) (built for tests)", ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06)), D65_XY,
    Transfer(563 / 256),
)  # fmt: skip
#: Gamma 1.8 as a curveType stores it: u8Fixed8 461/256 = 1.80078125 (1.8 is not representable).
GREY_18 = Transfer(461 / 256)
GREY_18_NAME = "Grey gamma 1.8 (built for tests)"


# --- encoding -------------------------------------------------------------------------


def s15fixed16(value: float) -> bytes:
    return struct.pack(">i", round(value * FIXED_ONE))


def xyz_number(xyz: np.ndarray) -> bytes:
    return b"".join(s15fixed16(v) for v in xyz)


def xyz_type(xyz: np.ndarray) -> bytes:
    return b"XYZ " + bytes(4) + xyz_number(xyz)


def text_description_type(text: str) -> bytes:
    """The version 2 textDescriptionType: the ASCII name with its NUL, no Unicode name
    (language 0, count 0), no ScriptCode name (code 0, count 0, 67 zero bytes)."""
    ascii_name = text.encode("ascii") + b"\0"
    return (b"desc" + bytes(4) + struct.pack(">I", len(ascii_name)) + ascii_name
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + bytes(67))  # fmt: skip


def text_type(text: str) -> bytes:
    return b"text" + bytes(4) + text.encode("ascii") + b"\0"


def multi_localized_unicode_type(text: str) -> bytes:
    """The version 4 multiLocalizedUnicodeType with one record, en-US, UTF-16BE."""
    name = text.encode("utf-16-be")
    return (b"mluc" + bytes(4) + struct.pack(">II", 1, 12)
            + b"enUS" + struct.pack(">II", len(name), 28) + name)  # fmt: skip


def curve_type(transfer: Transfer, table_size: int = 0) -> bytes:
    """curveType: one u8Fixed8 gamma, or (`table_size` > 0) the curve sampled at that many
    evenly spaced inputs as 16-bit values."""
    if table_size:
        samples = transfer.decode(np.linspace(0.0, 1.0, table_size))
        table = np.round(samples * 65535).astype(">u2").tobytes()
        return b"curv" + bytes(4) + struct.pack(">I", table_size) + table
    if transfer.gamma is None:
        raise ValueError("the sRGB curve is not a pure gamma: use a table or parametricCurveType")
    return b"curv" + bytes(4) + struct.pack(">IH", 1, round(transfer.gamma * 256)) + bytes(2)


def parametric_curve_type(parameters: tuple[float, ...]) -> bytes:
    """parametricCurveType: function 0 for one parameter (a gamma), function 3 for five."""
    function = {1: 0, 5: 3}[len(parameters)]
    return (b"para" + bytes(4) + struct.pack(">HH", function, 0)
            + b"".join(s15fixed16(p) for p in parameters))  # fmt: skip


def trc_tag(transfer: Transfer, table_size: int) -> bytes:
    """The TRC as the profiles in the wild carry it: a gamma in curveType, the sRGB curve as
    a parametric curve, or either as a sampled table."""
    if table_size or transfer.gamma is not None:
        return curve_type(transfer, table_size)
    return parametric_curve_type(SRGB_PARAMETERS)


def assemble(colour_space: bytes, tags: list[tuple[bytes, bytes]], *, version: int,
             intent: int = 0) -> bytes:
    """A complete profile: header, tag table and the tags, each on a 4-byte boundary. Tags
    with identical data share it (as rTRC/gTRC/bTRC usually do)."""
    table_size = 4 + 12 * len(tags)
    offset = HEADER_SIZE + table_size
    entries, blobs, placed = [], [], {}
    for signature, data in tags:
        if data not in placed:
            placed[data] = offset
            padded = data + bytes(-len(data) % 4)
            blobs.append(padded)
            offset += len(padded)
        entries.append(struct.pack(">4sII", signature, placed[data], len(data)))
    size = offset
    header = struct.pack(
        ">I4sI4s4s4s6H4s4sI4s4sQI12s4s16s28x",
        size, b"\0\0\0\0", version, b"mntr", colour_space, b"XYZ ",
        2026, 1, 1, 0, 0, 0, b"acsp", b"\0\0\0\0", 0, b"\0\0\0\0", b"\0\0\0\0", 0,
        intent, xyz_number(D50_XYZ), b"\0\0\0\0", bytes(16),
    )  # fmt: skip
    assert len(header) == HEADER_SIZE
    return header + struct.pack(">I", len(tags)) + b"".join(entries) + b"".join(blobs)


def _text_tags(description: str, version: int) -> list[tuple[bytes, bytes]]:
    copyright_text = "No copyright, use freely (test profile)"
    if version >= 4:
        return [(b"desc", multi_localized_unicode_type(description)),
                (b"cprt", multi_localized_unicode_type(copyright_text))]  # fmt: skip
    return [(b"desc", text_description_type(description)), (b"cprt", text_type(copyright_text))]


def _white_tags(white_xyz: np.ndarray, version: int) -> list[tuple[bytes, bytes]]:
    """Version 2: wtpt is the display's own white. Version 4: wtpt is D50 and chad holds the
    adaptation from the display's white (ICC.1:2010 9.2.15, Annex E)."""
    if version < 4:
        return [(b"wtpt", xyz_type(white_xyz))]
    chad = bradford(white_xyz, D50_XYZ)
    return [(b"wtpt", xyz_type(D50_XYZ)),
            (b"chad", b"sf32" + bytes(4) + b"".join(s15fixed16(v) for v in chad.ravel()))]


def data_type(payload: bytes) -> bytes:
    """dataType with binary data (flag 1): a private tag's content, ignored by readers."""
    return b"data" + bytes(4) + struct.pack(">I", 1) + payload


def rgb_profile(space: RgbSpace, *, version: int = 2, table_size: int = 0,
                description: str | None = None,
                extra_tags: tuple[tuple[bytes, bytes], ...] = ()) -> bytes:
    """The matrix/TRC display profile of `space` (see `trc_tag` for `table_size`), with
    `extra_tags` (private tags, say) after the standard ones."""
    version_field = VERSION_4_3 if version >= 4 else VERSION_2_4
    pcs = space.to_pcs
    trc = trc_tag(space.transfer, table_size)
    tags = _text_tags(description or space.name, version) + _white_tags(space.white_xyz, version)
    tags += [(b"rXYZ", xyz_type(pcs[:, 0])), (b"gXYZ", xyz_type(pcs[:, 1])),
             (b"bXYZ", xyz_type(pcs[:, 2]))]  # fmt: skip
    tags += [(b"rTRC", trc), (b"gTRC", trc), (b"bTRC", trc), *extra_tags]
    return assemble(b"RGB ", tags, version=version_field)


def grey_profile(transfer: Transfer = GREY_18, *, description: str = GREY_18_NAME,
                 version: int = 2) -> bytes:
    """A monochrome display profile: grey TRC (kTRC) times the D50 white is the PCS XYZ."""
    version_field = VERSION_4_3 if version >= 4 else VERSION_2_4
    tags = _text_tags(description, version) + [(b"wtpt", xyz_type(D50_XYZ))]
    tags.append((b"kTRC", curve_type(transfer)))
    return assemble(b"GRAY", tags, version=version_field)


def display_p3(**options: object) -> bytes:
    """Display P3: DCI-P3 primaries, D65 white, the sRGB curve."""
    return rgb_profile(DISPLAY_P3, **options)  # type: ignore[arg-type]


def adobe_rgb(**options: object) -> bytes:
    """Adobe RGB (1998): its primaries, D65 white, gamma 563/256."""
    return rgb_profile(ADOBE_RGB, **options)  # type: ignore[arg-type]


def srgb(**options: object) -> bytes:
    """sRGB, built the same way as the others."""
    return rgb_profile(SRGB, **options)  # type: ignore[arg-type]


def grey_gamma_18() -> bytes:
    """A grey display profile with gamma 1.8."""
    return grey_profile()


# --- parsing back ---------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedProfile:
    """A profile read back: the header's fields and each tag's bytes by signature."""

    size: int
    version: int
    device_class: bytes
    colour_space: bytes
    pcs: bytes
    signature: bytes
    intent: int
    illuminant: np.ndarray
    tags: dict[bytes, bytes]

    def xyz(self, signature: bytes) -> np.ndarray:
        data = self.tags[signature]
        assert data[:4] == b"XYZ " and len(data) == 20, signature
        return np.array(struct.unpack(">3i", data[8:20])) / FIXED_ONE

    def colorants(self) -> np.ndarray:
        """The matrix whose columns are rXYZ, gXYZ, bXYZ."""
        return np.column_stack([self.xyz(s) for s in (b"rXYZ", b"gXYZ", b"bXYZ")])

    def description(self) -> str:
        data = self.tags[b"desc"]
        if data[:4] == b"desc":
            (count,) = struct.unpack(">I", data[8:12])
            return data[12 : 12 + count].rstrip(b"\0").decode("ascii")
        assert data[:4] == b"mluc", data[:4]
        count, record_size = struct.unpack(">II", data[8:16])
        assert count >= 1 and record_size == 12
        length, offset = struct.unpack(">II", data[20:28])
        return data[offset : offset + length].decode("utf-16-be")

    def curve(self, signature: bytes, encoded: np.ndarray) -> np.ndarray:
        """The TRC tag evaluated on encoded values in [0, 1], as the ICC defines each type."""
        data = self.tags[signature]
        kind = data[:4]
        if kind == b"curv":
            (count,) = struct.unpack(">I", data[8:12])
            if count == 0:
                return encoded.copy()
            if count == 1:
                (gamma,) = struct.unpack(">H", data[12:14])
                return np.power(encoded, gamma / 256)
            table = np.frombuffer(data[12 : 12 + 2 * count], dtype=">u2") / 65535
            return np.interp(encoded, np.linspace(0, 1, count), table)
        assert kind == b"para", kind
        function, _ = struct.unpack(">HH", data[8:12])
        params = np.array(struct.unpack(f">{(len(data) - 12) // 4}i", data[12:])) / FIXED_ONE
        if function == 0:
            return np.power(encoded, params[0])
        assert function == 3, function
        g, a, b, c, d = params[:5]
        return np.where(encoded >= d, np.power(np.maximum(a * encoded + b, 0), g), c * encoded)


def parse(data: bytes) -> ParsedProfile:
    """Reads a profile, checking the layout rules every reader relies on: the size field is
    the length, 'acsp' at 36, each tag inside the profile."""
    (size,) = struct.unpack(">I", data[:4])
    assert size == len(data), (size, len(data))
    version, device_class, colour_space, pcs = struct.unpack(">I4s4s4s", data[8:24])
    signature = data[36:40]
    (intent,) = struct.unpack(">I", data[64:68])
    illuminant = np.array(struct.unpack(">3i", data[68:80])) / FIXED_ONE
    (count,) = struct.unpack(">I", data[128:132])
    tags = {}
    for index in range(count):
        tag, offset, length = struct.unpack(">4sII", data[132 + 12 * index : 144 + 12 * index])
        assert offset % 4 == 0 and offset + length <= size, (tag, offset, length)
        tags[tag] = data[offset : offset + length]
    return ParsedProfile(size, version, device_class, colour_space, pcs, signature, intent,
                         illuminant, tags)  # fmt: skip


# --- the independent rendering --------------------------------------------------------

#: XYZ (D65) to linear sRGB.
_SRGB_FROM_XYZ = np.linalg.inv(SRGB.to_xyz)
#: XYZ under D50 to XYZ under D65.
_D50_TO_D65 = bradford(D50_XYZ, D65_XYZ)


def to_srgb(pixels: np.ndarray, space: RgbSpace | Transfer) -> np.ndarray:
    """The 8-bit sRGB rendering, float64 throughout, of 8-bit `pixels` encoded in `space`
    ((h, w, 3) for an RGB space, (h, w) for a grey Transfer): decode the TRC, linear RGB to
    XYZ D50 with the space's adapted colorants, Bradford from D50 to D65, XYZ to linear sRGB,
    clip each channel to [0, 1], encode with the sRGB curve, round.

    LittleCMS joins the two profiles at the D50 PCS instead: source colorants (A M_src),
    then the inverse of sRGB's adapted colorants (A M_srgb)^-1, where A is the same
    Bradford D65 -> D50 matrix. Their product is M_srgb^-1 A^-1 A M_src = M_srgb^-1 M_src,
    which is also the product this path computes (M_srgb^-1 A^-1 applied to A M_src), so
    for matrix/TRC profiles the two agree up to the profiles' s15Fixed16 rounding (about
    1e-5) and LittleCMS's 16-bit and table interpolation, far below one 8-bit level. Both
    clip per channel in linear sRGB (relative colorimetric, which is also what a perceptual
    request gives for profiles without perceptual tables), so out-of-gamut colours agree too.
    """
    encoded = pixels.astype(np.float64) / 255.0
    if isinstance(space, Transfer):
        # A grey profile's PCS value is Y times the D50 white: neutral at every level, so
        # linear sRGB is Y on all three channels.
        linear = np.repeat(space.decode(encoded)[..., None], 3, axis=-1)
    else:
        xyz_d50 = space.transfer.decode(encoded) @ space.to_pcs.T
        linear = xyz_d50 @ (_SRGB_FROM_XYZ @ _D50_TO_D65).T
    srgb_encoded = SRGB_CURVE.encode(np.clip(linear, 0.0, 1.0))
    return np.clip(np.round(srgb_encoded * 255.0), 0, 255).astype(np.uint8)
