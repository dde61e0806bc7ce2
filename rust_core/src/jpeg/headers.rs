//! Marker segments (T.81 B.2): the frame header, the scan header, and the tables.

use super::blocks::NATURAL_ORDER;
use super::huffman::HuffmanTable;
use super::{malformed, unsupported};
use crate::error::CoreError;

/// One component of the frame (T.81 B.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Component {
    pub id: u8,
    /// Horizontal and vertical sampling factors, 1 to 4.
    pub h: usize,
    pub v: usize,
    /// Quantisation table selector.
    pub table: usize,
}

/// The largest width or height libjpeg decodes (`JPEG_MAX_DIMENSION`).
pub(super) const MAX_DIMENSION: usize = 65500;

/// The frame header of a baseline, extended-sequential or progressive Huffman JPEG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Frame {
    pub progressive: bool,
    pub width: usize,
    pub height: usize,
    pub components: Vec<Component>,
    pub h_max: usize,
    pub v_max: usize,
    /// MCUs across and down in an interleaved scan.
    pub mcus_across: usize,
    pub mcus_down: usize,
}

impl Frame {
    /// Parses an SOFn segment's payload (after the length). `marker` is the SOF code.
    /// Refuses what libjpeg refuses, and reports as unsupported what it reads but this
    /// reader does not (the caller decodes those another way).
    pub(super) fn parse(marker: u8, payload: &[u8], max_pixels: u64) -> Result<Self, CoreError> {
        let progressive = match marker {
            0xC0 | 0xC1 => false,
            0xC2 => true,
            0xC3 | 0xC7 | 0xCB | 0xCF => return Err(unsupported("lossless JPEG")),
            0xC5 | 0xC6 | 0xCD | 0xCE => return Err(unsupported("hierarchical JPEG")),
            _ => return Err(unsupported("arithmetic-coded JPEG")),
        };
        let [precision, h1, h0, w1, w0, count, rest @ ..] = payload else {
            return Err(malformed("short frame header"));
        };
        let height = usize::from(u16::from_be_bytes([*h1, *h0]));
        let width = usize::from(u16::from_be_bytes([*w1, *w0]));
        if height == 0 {
            return Err(unsupported("height defined by a DNL marker"));
        }
        if width == 0 {
            return Err(malformed("zero width"));
        }
        if (width as u64) * (height as u64) > max_pixels {
            return Err(CoreError::JpegTooLarge {
                width,
                height,
                max_pixels,
            });
        }
        if width > MAX_DIMENSION || height > MAX_DIMENSION {
            return Err(malformed("width or height over 65500"));
        }
        if *precision != 8 {
            return Err(unsupported("sample precision other than 8 bits"));
        }
        let count = usize::from(*count);
        // libjpeg refuses a segment of any other length.
        if count == 0 || rest.len() != 3 * count {
            return Err(malformed("bad frame header length"));
        }
        let mut components = Vec::with_capacity(count);
        for spec in rest.chunks_exact(3).take(count) {
            let (h, v) = (usize::from(spec[1] >> 4), usize::from(spec[1] & 15));
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) || spec[2] > 3 {
                return Err(malformed("bad component in frame header"));
            }
            if components.iter().any(|c: &Component| c.id == spec[0]) {
                return Err(malformed("duplicate component id"));
            }
            components.push(Component {
                id: spec[0],
                h,
                v,
                table: usize::from(spec[2]),
            });
        }
        match count {
            1 | 3 => {}
            4 => return Err(unsupported("four-component (CMYK or YCCK) JPEG")),
            _ => return Err(unsupported("component count other than 1 or 3")),
        }
        Ok(Frame::with_components(
            progressive,
            width,
            height,
            components,
        ))
    }

    /// The frame of these components, with the MCU geometry they imply.
    pub(super) fn with_components(
        progressive: bool,
        width: usize,
        height: usize,
        mut components: Vec<Component>,
    ) -> Self {
        if let [only] = components.as_mut_slice() {
            // A single component is always coded block by block, whatever its factors say,
            // and is never upsampled.
            only.h = 1;
            only.v = 1;
        }
        let h_max = components.iter().map(|c| c.h).max().unwrap_or(1);
        let v_max = components.iter().map(|c| c.v).max().unwrap_or(1);
        Frame {
            progressive,
            width,
            height,
            components,
            h_max,
            v_max,
            mcus_across: width.div_ceil(8 * h_max),
            mcus_down: height.div_ceil(8 * v_max),
        }
    }

    /// Blocks across and down of component `index` in a non-interleaved scan (T.81 A.2.2).
    pub(super) fn component_blocks(&self, index: usize) -> (usize, usize) {
        let c = &self.components[index];
        let across = (self.width * c.h).div_ceil(self.h_max).div_ceil(8);
        let down = (self.height * c.v).div_ceil(self.v_max).div_ceil(8);
        (across, down)
    }
}

/// One component of a scan: its index in the frame and its Huffman table selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ScanComponent {
    pub index: usize,
    pub dc_table: usize,
    pub ac_table: usize,
}

/// A scan header (T.81 B.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Scan {
    pub components: Vec<ScanComponent>,
    /// Spectral selection start and end.
    pub start: u8,
    pub end: u8,
    /// Successive approximation: high and low bit positions.
    pub high: u8,
    pub low: u8,
}

impl Scan {
    pub(super) fn parse(payload: &[u8], frame: &Frame) -> Result<Self, CoreError> {
        let [count, rest @ ..] = payload else {
            return Err(malformed("short scan header"));
        };
        let count = usize::from(*count);
        // libjpeg refuses a segment of any other length.
        if count == 0 || count > 4 || rest.len() != 2 * count + 3 {
            return Err(malformed("bad scan header"));
        }
        let mut components: Vec<ScanComponent> = Vec::with_capacity(count);
        for (slot, spec) in rest.chunks_exact(2).take(count).enumerate() {
            // libjpeg takes the first frame component with this id whose index is not
            // below this place in the scan: components listed in frame order always
            // qualify, and some others do.
            let index = frame
                .components
                .iter()
                .enumerate()
                .position(|(index, c)| c.id == spec[0] && index >= slot)
                .ok_or_else(|| malformed("scan names an unknown component"))?;
            if components.iter().any(|c| c.index == index) {
                return Err(malformed("scan names a component twice"));
            }
            let (dc_table, ac_table) = (usize::from(spec[1] >> 4), usize::from(spec[1] & 15));
            if dc_table > 3 || ac_table > 3 {
                return Err(malformed("bad Huffman table selector"));
            }
            components.push(ScanComponent {
                index,
                dc_table,
                ac_table,
            });
        }
        let tail = &rest[2 * count..];
        let scan = Scan {
            components,
            start: tail[0],
            end: tail[1],
            high: tail[2] >> 4,
            low: tail[2] & 15,
        };
        let blocks_per_mcu: usize = scan
            .components
            .iter()
            .map(|c| frame.components[c.index].h * frame.components[c.index].v)
            .sum();
        if scan.components.len() > 1 && blocks_per_mcu > 10 {
            return Err(malformed("more than 10 blocks in an MCU"));
        }
        if frame.progressive {
            // libjpeg's checks (jdphuff.c): a DC band is coefficient 0 alone; an AC band
            // lies in 1..=63, in one component; a refinement lowers the bit by one; no
            // bit position above 13.
            let band_ok = if scan.start == 0 {
                scan.end == 0
            } else {
                scan.start <= scan.end && scan.end <= 63 && count == 1
            };
            let bits_ok = (scan.high == 0 || scan.low + 1 == scan.high) && scan.low <= 13;
            if !band_ok || !bits_ok {
                return Err(malformed(
                    "bad spectral selection or successive approximation",
                ));
            }
        }
        // A sequential scan's band and bit positions mean nothing: libjpeg only warns when
        // they are not 0, 63, 0, 0 (some encoders write zeros there) and reads it whole.
        Ok(scan)
    }
}

/// Reads the quantisation tables of a DQT segment, each into natural (row-major) order.
pub(super) fn parse_quantisation(
    mut payload: &[u8],
    tables: &mut [Option<[u16; 64]>; 4],
) -> Result<(), CoreError> {
    while let [spec, rest @ ..] = payload {
        let (wide, id) = (spec >> 4, usize::from(spec & 15));
        let size = match wide {
            0 => 64,
            1 => 128,
            _ => return Err(malformed("bad quantisation table precision")),
        };
        if id > 3 || rest.len() < size {
            return Err(malformed("bad quantisation table"));
        }
        let mut table = [0u16; 64];
        for (zigzag, &natural) in NATURAL_ORDER[..64].iter().enumerate() {
            table[natural] = if wide == 0 {
                u16::from(rest[zigzag])
            } else {
                u16::from_be_bytes([rest[2 * zigzag], rest[2 * zigzag + 1]])
            };
        }
        tables[id] = Some(table);
        payload = &rest[size..];
    }
    Ok(())
}

/// Reads the Huffman tables of a DHT segment into the DC and AC slots.
pub(super) fn parse_huffman(
    mut payload: &[u8],
    dc: &mut [Option<HuffmanTable>; 4],
    ac: &mut [Option<HuffmanTable>; 4],
) -> Result<(), CoreError> {
    while let [spec, rest @ ..] = payload {
        let (class, id) = (spec >> 4, usize::from(spec & 15));
        if class > 1 || id > 3 || rest.len() < 16 {
            return Err(malformed("bad Huffman table header"));
        }
        let mut counts = [0u8; 16];
        counts.copy_from_slice(&rest[..16]);
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let values = rest
            .get(16..16 + total)
            .ok_or_else(|| malformed("short Huffman table"))?;
        let table = HuffmanTable::new(&counts, values)?;
        if class == 0 {
            dc[id] = Some(table);
        } else {
            ac[id] = Some(table);
        }
        payload = &rest[16 + total..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sof(width: u16, height: u16, components: &[(u8, u8)]) -> Vec<u8> {
        let mut payload = vec![8];
        payload.extend_from_slice(&height.to_be_bytes());
        payload.extend_from_slice(&width.to_be_bytes());
        payload.push(components.len() as u8);
        for &(id, factors) in components {
            payload.extend_from_slice(&[id, factors, 0]);
        }
        payload
    }

    #[test]
    fn frame_geometry_of_each_sampling_layout() {
        // (factors of Y, Cb, Cr), MCUs across and down of a 17 x 33 image, Cb blocks.
        let cases = [
            ([0x11, 0x11, 0x11], (3, 5), (3, 5)),
            ([0x21, 0x11, 0x11], (2, 5), (2, 5)),
            ([0x22, 0x11, 0x11], (2, 3), (2, 3)),
            ([0x12, 0x11, 0x11], (3, 3), (3, 3)),
        ];
        for (factors, mcus, cb_blocks) in cases {
            let payload = sof(17, 33, &[(1, factors[0]), (2, factors[1]), (3, factors[2])]);
            let frame = Frame::parse(0xC0, &payload, u64::MAX).unwrap();
            assert_eq!((frame.mcus_across, frame.mcus_down), mcus, "{factors:?}");
            assert_eq!(frame.component_blocks(1), cb_blocks, "{factors:?}");
        }
    }

    #[test]
    fn refuses_what_it_does_not_read() {
        let grey = sof(8, 8, &[(1, 0x11)]);
        let unsupported_cases: [(u8, Vec<u8>); 4] = [
            (0xC3, grey.clone()),
            (0xC9, grey.clone()),
            (0xC0, {
                let mut p = grey.clone();
                p[0] = 12;
                p
            }),
            (
                0xC0,
                sof(8, 8, &[(1, 0x11), (2, 0x11), (3, 0x11), (4, 0x11)]),
            ),
        ];
        for (marker, payload) in unsupported_cases {
            let err = Frame::parse(marker, &payload, u64::MAX).unwrap_err();
            assert!(
                matches!(err, CoreError::JpegUnsupported(_)),
                "{marker:x}: {err}"
            );
        }
        let err = Frame::parse(0xC0, &sof(1000, 1000, &[(1, 0x11)]), 999_999).unwrap_err();
        assert!(matches!(
            err,
            CoreError::JpegTooLarge {
                width: 1000,
                height: 1000,
                ..
            }
        ));
        assert!(Frame::parse(0xC0, &grey[..7], u64::MAX).is_err());
    }
}
