//! What a JPEG is, from its markers alone: the frame's size and coding, how many scans it
//! has, and its EXIF block. Entropy-coded data is passed over by looking for the next
//! marker, so a survey costs a byte search over the file, whatever it declares.

use super::bits::next_marker;
use super::malformed;
use crate::error::CoreError;

/// How the frame is coded (its SOF marker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// Baseline or extended sequential, Huffman.
    Sequential,
    /// Progressive, Huffman.
    Progressive,
    /// Arithmetic coding, lossless or hierarchical.
    Other,
}

/// A JPEG's markers, surveyed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey<'a> {
    pub width: usize,
    pub height: usize,
    pub components: usize,
    pub precision: u8,
    pub coding: Coding,
    /// SOS markers in the whole file.
    pub scans: usize,
    /// The first APP1 EXIF block before the first scan, without its "Exif\0\0" prefix
    /// (what Pillow reads the orientation from).
    pub exif: Option<&'a [u8]>,
    /// The ICC profile of the APP2 "ICC_PROFILE" segments before the first scan, joined in
    /// their sequence order; None when there are none, or they do not make one whole
    /// profile (a number missing or repeated, counts that disagree).
    pub icc: Option<Vec<u8>>,
}

/// Surveys `data`, which must start with SOI and have a frame header before its first
/// scan.
pub fn survey(data: &[u8]) -> Result<Survey<'_>, CoreError> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err(malformed("no SOI marker"));
    }
    let mut frame: Option<(usize, usize, usize, u8, Coding)> = None;
    let mut exif = None;
    let mut icc_parts: Vec<(u8, u8, &[u8])> = Vec::new();
    let mut scans = 0;
    let mut pos = 2;
    while let Some(at) = next_marker(data, pos, false) {
        let marker = data[at + 1];
        pos = at + 2;
        if matches!(marker, 0xD0..=0xD7 | 0x01 | 0xD8) {
            continue; // no segment
        }
        if marker == 0xD9 {
            break;
        }
        let length = match data.get(pos..pos + 2) {
            Some(&[high, low]) => usize::from(u16::from_be_bytes([high, low])),
            _ => return Err(malformed("truncated segment")),
        };
        let payload = data
            .get(pos + 2..pos + length.max(2))
            .ok_or_else(|| malformed("truncated segment"))?;
        pos += length.max(2);
        match marker {
            0xC0..=0xCF
                if marker != 0xC4 && marker != 0xC8 && marker != 0xCC && frame.is_none() =>
            {
                let [precision, h1, h0, w1, w0, count, ..] = payload else {
                    return Err(malformed("short frame header"));
                };
                let coding = match marker {
                    0xC0 | 0xC1 => Coding::Sequential,
                    0xC2 => Coding::Progressive,
                    _ => Coding::Other,
                };
                let height = usize::from(u16::from_be_bytes([*h1, *h0]));
                let width = usize::from(u16::from_be_bytes([*w1, *w0]));
                frame = Some((width, height, usize::from(*count), *precision, coding));
            }
            0xE1 if scans == 0 && exif.is_none() => {
                exif = payload.strip_prefix(b"Exif\0\0");
            }
            0xE2 if scans == 0 => {
                if let Some([sequence, count, rest @ ..]) = payload.strip_prefix(b"ICC_PROFILE\0") {
                    icc_parts.push((*sequence, *count, rest));
                }
            }
            0xDA => {
                if frame.is_none() {
                    return Err(malformed("scan before frame"));
                }
                scans += 1;
                pos = match next_marker(data, pos, true) {
                    Some(next) => next,
                    None => break,
                };
            }
            _ => {}
        }
    }
    let (width, height, components, precision, coding) =
        frame.ok_or_else(|| malformed("no frame header"))?;
    Ok(Survey {
        width,
        height,
        components,
        precision,
        coding,
        scans,
        exif,
        icc: join_icc(icc_parts),
    })
}

/// One profile from its APP2 parts (sequence number from 1, count), or None (see `Survey`).
fn join_icc(mut parts: Vec<(u8, u8, &[u8])>) -> Option<Vec<u8>> {
    let count = parts.first()?.1;
    parts.sort_by_key(|part| part.0);
    let whole = parts.len() == usize::from(count)
        && parts
            .iter()
            .enumerate()
            .all(|(index, part)| part.1 == count && usize::from(part.0) == index + 1);
    let size: usize = parts.iter().map(|part| part.2.len()).sum();
    (whole && size <= crate::icc::MAX_ICC_BYTES).then(|| {
        parts
            .iter()
            .flat_map(|part| part.2.iter().copied())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn reads_the_frame_counts_scans_and_keeps_the_first_exif_block() {
        let mut data = vec![0xFF, 0xD8];
        data.extend(segment(0xE1, b"Exif\0\0MM-first"));
        data.extend(segment(0xE1, b"Exif\0\0MM-second"));
        data.extend(segment(0xC2, &[8, 0x01, 0x00, 0x02, 0x00, 3, 1, 0x22, 0]));
        for _ in 0..3 {
            data.extend(segment(0xDA, &[1, 1, 0, 0, 0, 0]));
            // Entropy-coded bytes with stuffing and a restart marker.
            data.extend_from_slice(&[0x12, 0xFF, 0x00, 0xFF, 0xD0, 0x34]);
        }
        data.extend(segment(0xE1, b"Exif\0\0MM-late"));
        data.extend_from_slice(&[0xFF, 0xD9]);
        let survey = survey(&data).unwrap();
        assert_eq!(
            (survey.width, survey.height, survey.components),
            (512, 256, 3)
        );
        assert_eq!((survey.coding, survey.scans), (Coding::Progressive, 3));
        assert_eq!(survey.exif, Some(&b"MM-first"[..]));
    }

    #[test]
    fn refuses_what_has_no_frame() {
        assert!(survey(b"\xFF\xD8\xFF\xD9").is_err());
        assert!(survey(b"GIF89a").is_err());
        assert!(survey(b"\xFF\xD8\xFF\xC0\x00").is_err());
        let mut data = vec![0xFF, 0xD8];
        data.extend(segment(0xDA, &[1, 1, 0, 0, 0, 0]));
        assert!(survey(&data).is_err());
    }
}
