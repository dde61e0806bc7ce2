//! The size an AVIF or HEIF file declares, read from its boxes before any decoder sees it:
//! the largest `ispe` (image spatial extents) property in `meta` / `iprp` / `ipco`. The
//! primary image (a grid's whole canvas included) is never smaller than its tiles,
//! thumbnails or auxiliary images, so the largest is the one the pixel limit is held against.
//! An AV1 picture is decoded at the size its sequence header declares whatever `ispe` says
//! (libavif then crops it), so the largest maximum frame size of the AV1 sequence headers
//! in `av1C` properties counts too: a 1 KB AVIF declaring 64 x 64 with an 8192 x 8192
//! picture made dav1d allocate 148 MB. (libheif refuses an HEVC picture larger than its
//! `ispe` before decoding it.)
//!
//! The walk is bounded: boxes are read by their declared sizes within their parent, at most
//! `MAX_BOXES` in all, and a size that runs past its parent ends the walk.

/// Boxes visited at most.
pub const MAX_BOXES: usize = 4096;

/// (width, height) of the largest `ispe` of `data`, or None when it has none.
pub fn declared_size(data: &[u8]) -> Option<(u64, u64)> {
    declared(data, false)
}

/// The same for an AVIF, whose AV1 sequence headers count too (see the module
/// documentation).
pub fn declared_avif_size(data: &[u8]) -> Option<(u64, u64)> {
    declared(data, true)
}

fn declared(data: &[u8], av1: bool) -> Option<(u64, u64)> {
    let mut budget = MAX_BOXES;
    let meta = find(data, b"meta", &mut budget)?;
    // A full box: version and flags first.
    let iprp = find(meta.get(4..)?, b"iprp", &mut budget)?;
    let ipco = find(iprp, b"ipco", &mut budget)?;
    let mut largest: Option<(u64, u64)> = None;
    // The sequence headers at the start of each item's data (an AV1 item's first OBUs),
    // for encoders whose av1C carries none.
    let iloc = if av1 {
        find(meta.get(4..)?, b"iloc", &mut budget)
    } else {
        None
    };
    if let Some(iloc) = iloc {
        for (offset, length) in item_extents(iloc).into_iter().take(64) {
            let end = offset.saturating_add(length).min(data.len());
            let size = data.get(offset..end).and_then(av1_max_frame_size);
            if let Some((width, height)) = size {
                if largest.is_none_or(|(w, h)| width * height > w * h) {
                    largest = Some((width, height));
                }
            }
        }
    }
    for (kind, body) in boxes(ipco, &mut budget) {
        let size = match &kind {
            b"ispe" if body.len() >= 12 => Some((
                u64::from(u32::from_be_bytes([body[4], body[5], body[6], body[7]])),
                u64::from(u32::from_be_bytes([body[8], body[9], body[10], body[11]])),
            )),
            // The four bytes of the AV1 configuration record, then its configOBUs.
            b"av1C" if av1 => body.get(4..).and_then(av1_max_frame_size),
            _ => None,
        };
        if let Some((width, height)) = size {
            if largest.is_none_or(|(w, h)| width * height > w * h) {
                largest = Some((width, height));
            }
        }
    }
    largest
}

/// (file offset, length) of the first extent of each item an `iloc` box (ISO/IEC 14496-12
/// 8.11.3) places in the file itself (construction method 0); at most 4,096 items read.
fn item_extents(iloc: &[u8]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let Some(&version) = iloc.first() else {
        return found;
    };
    let mut bits = Bits { data: iloc, at: 32 };
    let mut walk = || -> Option<()> {
        let offset_size = bits.read(4)? as u32 * 8;
        let length_size = bits.read(4)? as u32 * 8;
        let base_size = bits.read(4)? as u32 * 8;
        let index_size = if version >= 1 {
            bits.read(4)? as u32 * 8
        } else {
            bits.read(4).map(|_| 0)?
        };
        let items = bits.read(if version < 2 { 16 } else { 32 })?.min(4096);
        for _ in 0..items {
            bits.read(if version < 2 { 16 } else { 32 })?; // item_ID
            let method = if version >= 1 {
                bits.read(16)? & 0xF
            } else {
                0
            };
            bits.read(16)?; // data_reference_index
            let base = bits.read(base_size)?;
            let extents = bits.read(16)?;
            for extent in 0..extents {
                bits.read(index_size)?;
                let offset = bits.read(offset_size)?;
                let length = bits.read(length_size)?;
                if extent == 0 && method == 0 {
                    let start = usize::try_from(base.checked_add(offset)?).ok()?;
                    found.push((start, usize::try_from(length).ok()?));
                }
            }
        }
        Some(())
    };
    walk();
    found
}

/// The maximum frame size of the sequence header OBU that starts `obus` (AV1 specification
/// 5.3 and 5.5; after a temporal delimiter at most), or None when there is none there or it
/// is cut short.
fn av1_max_frame_size(obus: &[u8]) -> Option<(u64, u64)> {
    let mut at = 0;
    for _ in 0..2 {
        let header = *obus.get(at)?;
        let kind = (header >> 3) & 0xF;
        if header & 0x80 != 0 || !(kind == 1 || kind == 2) {
            return None;
        }
        let mut payload = at + 1 + usize::from(header & 4 != 0);
        let size = if header & 2 != 0 {
            let (size, used) = leb128(obus.get(payload..)?)?;
            payload += used;
            size
        } else {
            obus.len().checked_sub(payload)?
        };
        let end = payload.checked_add(size)?;
        if kind == 1 {
            return sequence_header_size(obus.get(payload..end.min(obus.len()))?);
        }
        at = end;
    }
    None
}

/// An unsigned LEB128 number and the bytes it took (at most 8, as AV1 allows).
fn leb128(data: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0u64;
    for (index, &byte) in data.iter().take(8).enumerate() {
        value |= u64::from(byte & 0x7F) << (7 * index);
        if byte & 0x80 == 0 {
            return Some((usize::try_from(value).ok()?, index + 1));
        }
    }
    None
}

/// Bits of a byte string, most significant first.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn read(&mut self, count: u32) -> Option<u64> {
        let mut value = 0u64;
        for _ in 0..count {
            let byte = *self.data.get(self.at / 8)?;
            value = value << 1 | u64::from(byte >> (7 - self.at % 8) & 1);
            self.at += 1;
        }
        Some(value)
    }

    fn flag(&mut self) -> Option<bool> {
        Some(self.read(1)? == 1)
    }

    /// uvlc(): leading zeros, then that many bits.
    fn uvlc(&mut self) -> Option<u64> {
        let mut zeros = 0;
        while !self.flag()? {
            zeros += 1;
            if zeros >= 32 {
                return Some(u64::from(u32::MAX));
            }
        }
        Some(self.read(zeros)? + (1 << zeros) - 1)
    }
}

/// max_frame_width_minus_1 + 1 and max_frame_height_minus_1 + 1 of a sequence header.
fn sequence_header_size(payload: &[u8]) -> Option<(u64, u64)> {
    let mut bits = Bits {
        data: payload,
        at: 0,
    };
    bits.read(3)?; // seq_profile
    bits.read(1)?; // still_picture
    if bits.flag()? {
        bits.read(5)?; // reduced_still_picture_header: seq_level_idx[0]
    } else {
        let mut buffer_delay_bits = 0;
        let decoder_model = if bits.flag()? {
            // timing_info
            bits.read(32)?;
            bits.read(32)?;
            if bits.flag()? {
                bits.uvlc()?;
            }
            let present = bits.flag()?;
            if present {
                buffer_delay_bits = bits.read(5)? as u32 + 1;
                bits.read(32)?;
                bits.read(5)?;
                bits.read(5)?;
            }
            present
        } else {
            false
        };
        let initial_display_delay = bits.flag()?;
        let points = bits.read(5)? + 1;
        for _ in 0..points {
            bits.read(12)?; // operating_point_idc
            if bits.read(5)? > 7 {
                bits.read(1)?; // seq_tier
            }
            if decoder_model && bits.flag()? {
                bits.read(buffer_delay_bits)?;
                bits.read(buffer_delay_bits)?;
                bits.read(1)?;
            }
            if initial_display_delay && bits.flag()? {
                bits.read(4)?;
            }
        }
    }
    let width_bits = bits.read(4)? as u32 + 1;
    let height_bits = bits.read(4)? as u32 + 1;
    Some((bits.read(width_bits)? + 1, bits.read(height_bits)? + 1))
}

/// The body of the first box of `kind` among the boxes of `data`.
fn find<'a>(data: &'a [u8], kind: &[u8; 4], budget: &mut usize) -> Option<&'a [u8]> {
    let mut boxes = boxes(data, budget);
    boxes.find(|(found, _)| found == kind).map(|(_, body)| body)
}

/// The (type, body) of each box in `data`, in order, while the budget lasts.
fn boxes<'a, 'b>(
    data: &'a [u8],
    budget: &'b mut usize,
) -> impl Iterator<Item = ([u8; 4], &'a [u8])> + use<'a, 'b> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        let header = data.get(at..at.checked_add(8)?)?;
        let size32 = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let kind = [header[4], header[5], header[6], header[7]];
        let (start, size) = match size32 {
            0 => (at + 8, data.len() - at),
            1 => {
                let large = data.get(at + 8..at + 16)?;
                let size = u64::from_be_bytes(large.try_into().ok()?);
                (at + 16, usize::try_from(size).ok()?)
            }
            size => (at + 8, size as usize),
        };
        let end = at.checked_add(size)?;
        if end > data.len() || start > end {
            return None;
        }
        let body = &data[start..end];
        at = end;
        Some((kind, body))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend(kind);
        out.extend(body);
        out
    }

    fn ispe(width: u32, height: u32) -> Vec<u8> {
        let mut body = vec![0; 4];
        body.extend(width.to_be_bytes());
        body.extend(height.to_be_bytes());
        bx(b"ispe", &body)
    }

    fn file(properties: &[Vec<u8>]) -> Vec<u8> {
        let ipco = bx(b"ipco", &properties.concat());
        let iprp = bx(b"iprp", &ipco);
        let mut meta = vec![0; 4];
        meta.extend(bx(b"hdlr", &[0; 24]));
        meta.extend(iprp);
        [bx(b"ftyp", b"avif\0\0\0\0avif"), bx(b"meta", &meta)].concat()
    }

    #[test]
    fn the_largest_extent_is_the_declared_size() {
        let data = file(&[
            ispe(512, 512),
            bx(b"pixi", &[0; 8]),
            ispe(60000, 60000),
            ispe(8, 8),
        ]);
        assert_eq!(declared_size(&data), Some((60000, 60000)));
    }

    /// A reduced still-picture sequence header OBU of a `width` x `height` maximum frame,
    /// in an av1C configuration record.
    fn av1c(width: u64, height: u64) -> Vec<u8> {
        // seq_profile 0, still_picture 1, reduced 1, seq_level_idx 0, then 16-bit sizes.
        let mut fields: Vec<(u64, u32)> = vec![(0, 3), (1, 1), (1, 1), (0, 5), (15, 4), (15, 4)];
        fields.extend([(width - 1, 16), (height - 1, 16)]);
        let mut bytes = Vec::new();
        let (mut acc, mut used) = (0u64, 0u32);
        for (value, count) in fields {
            acc = acc << count | value;
            used += count;
            while used >= 8 {
                bytes.push((acc >> (used - 8)) as u8);
                used -= 8;
            }
        }
        if used > 0 {
            bytes.push((acc << (8 - used)) as u8);
        }
        let mut record = vec![0x81, 0, 0, 0, 0x0A, bytes.len() as u8];
        record.extend(bytes);
        bx(b"av1C", &record)
    }

    #[test]
    fn obus_cut_anywhere_are_read_or_refused_without_panicking() {
        let record = av1c(8192, 4096);
        let obus = &record[12..];
        assert_eq!(av1_max_frame_size(obus), Some((8192, 4096)));
        for end in 0..obus.len() {
            assert_eq!(av1_max_frame_size(&obus[..end]), None, "cut at {end}");
        }
        // An extension byte announced at the very end, a forbidden bit, another OBU type.
        for odd in [&[0x0C][..], &[0x8A, 0x01, 0x00], &[0x32, 0x00]] {
            assert_eq!(av1_max_frame_size(odd), None);
        }
    }

    #[test]
    fn an_av1_picture_larger_than_its_extents_counts() {
        let data = file(&[ispe(64, 64), av1c(8192, 8192)]);
        assert_eq!(declared_avif_size(&data), Some((8192, 8192)));
        assert_eq!(declared_size(&data), Some((64, 64)), "HEIF: ispe alone");
        let honest = file(&[ispe(640, 480), av1c(640, 480)]);
        assert_eq!(declared_avif_size(&honest), Some((640, 480)));
    }

    #[test]
    fn boxes_that_run_past_their_parent_end_the_walk() {
        let mut data = file(&[ispe(10, 20)]);
        assert_eq!(declared_size(&data), Some((10, 20)));
        data.truncate(data.len() - 1);
        assert_eq!(declared_size(&data), None);
        assert_eq!(declared_size(b""), None);
        assert_eq!(declared_size(&bx(b"meta", &[0; 4])), None);
    }
}
