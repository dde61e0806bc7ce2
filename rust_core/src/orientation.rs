//! The EXIF orientation: how a stored image must be turned to look as a person sees it
//! (TIFF/EXIF tag 0x0112 of the primary image), read with `kamadak-exif`, and the turn
//! itself on decoded pixels.

use crate::pixels::Pixels;

/// The EXIF orientations, 1 (as stored) to 8 (TIFF 6.0, tag 274).
pub type Orientation = u8;

/// The stored image is what a person sees.
pub const UPRIGHT: Orientation = 1;

/// The orientation in raw EXIF data (a TIFF header and its IFDs, without the JPEG APP1
/// "Exif\0\0" prefix); `UPRIGHT` when absent, unreadable or out of range. A damaged block
/// elsewhere in the EXIF data does not hide an orientation read before the damage.
pub fn exif_orientation(tiff: &[u8]) -> Orientation {
    let parsed = exif::Reader::new()
        .continue_on_error(true)
        .read_raw(tiff.to_vec())
        .or_else(|error| error.distill_partial_result(|_| {}));
    let Ok(exif) = parsed else {
        return UPRIGHT;
    };
    exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|field| field.value.get_uint(0))
        .filter(|value| (1..=8).contains(value))
        .map_or(UPRIGHT, |value| value as Orientation)
}

/// `pixels` turned as `orientation` says (2: mirrored across, 3: turned 180°, 4: mirrored
/// down, 5: transposed, 6: turned 90° clockwise, 7: transversed, 8: turned 90°
/// anticlockwise); the same pixels for 1 or anything else.
pub fn orient(pixels: Pixels, orientation: Orientation) -> Pixels {
    if !(2..=8).contains(&orientation) {
        return pixels;
    }
    let (w, h, n) = (pixels.width, pixels.height, pixels.layout.channels());
    // Orientations 5-8 swap width and height.
    let (ow, oh) = if orientation >= 5 { (h, w) } else { (w, h) };
    let mut out = vec![0u8; pixels.data.len()];
    for y in 0..oh {
        for x in 0..ow {
            // The stored pixel that lands at (x, y).
            let (sx, sy) = match orientation {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                _ => (w - 1 - y, x),
            };
            let from = (sy * w + sx) * n;
            let to = (y * ow + x) * n;
            out[to..to + n].copy_from_slice(&pixels.data[from..from + n]);
        }
    }
    Pixels {
        width: ow,
        height: oh,
        layout: pixels.layout,
        data: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::luminance::Layout;

    /// A big-endian TIFF header and one IFD of (tag, type, count, value) entries.
    fn tiff(entries: &[(u16, u16, u32, [u8; 4])]) -> Vec<u8> {
        let mut out = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
        out.extend_from_slice(&(entries.len() as u16).to_be_bytes());
        for (tag, kind, count, value) in entries {
            out.extend_from_slice(&tag.to_be_bytes());
            out.extend_from_slice(&kind.to_be_bytes());
            out.extend_from_slice(&count.to_be_bytes());
            out.extend_from_slice(value);
        }
        out.extend_from_slice(&[0; 4]);
        out
    }

    #[test]
    fn reads_the_orientation_and_ignores_what_is_not_one() {
        let cases: [(Vec<u8>, Orientation); 8] = [
            (tiff(&[(0x0112, 3, 1, [0, 6, 0, 0])]), 6),
            (tiff(&[(0x0112, 4, 1, [0, 0, 0, 8])]), 8), // as LONG
            (tiff(&[(0x0112, 3, 1, [0, 0, 0, 0])]), 1), // 0
            (tiff(&[(0x0112, 3, 1, [255, 255, 0, 0])]), 1), // 65535
            (tiff(&[(0x0112, 3, 1_000_000_000, [0, 0, 0, 16])]), 1), // values past the end
            (tiff(&[(0x8769, 4, 1, [0, 0, 0, 8])]), 1), // an IFD pointing at itself
            (b"MM\x00\x2a\xff\xff\xff\xf0".to_vec(), 1),
            ((0..=255u8).cycle().take(1024).collect(), 1),
        ];
        for (data, expected) in cases {
            assert_eq!(exif_orientation(&data), expected, "{data:?}");
        }
        assert_eq!(exif_orientation(b""), 1);
    }

    #[test]
    fn turns_each_way_as_a_person_sees_it() {
        // 3 x 2:  a b c / d e f
        let stored = Pixels {
            width: 3,
            height: 2,
            layout: Layout::L,
            data: b"abcdef".to_vec(),
        };
        let cases: [(Orientation, &[u8], (usize, usize)); 8] = [
            (1, b"abcdef", (3, 2)),
            (2, b"cbafed", (3, 2)),
            (3, b"fedcba", (3, 2)),
            (4, b"defabc", (3, 2)),
            (5, b"adbecf", (2, 3)),
            (6, b"daebfc", (2, 3)),
            (7, b"fcebda", (2, 3)),
            (8, b"cfbead", (2, 3)),
        ];
        for (orientation, expected, size) in cases {
            let turned = orient(stored.clone(), orientation);
            assert_eq!(turned.data, expected, "{orientation}");
            assert_eq!((turned.width, turned.height), size, "{orientation}");
        }
    }
}
