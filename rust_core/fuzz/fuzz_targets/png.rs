//! The PNG decoder on arbitrary bytes, and the resize of what it decodes: each returns a
//! value or an error, never panics; a decoded image is as large as it says and within the
//! pixel limit, and its resize to the analysis size is as large as asked. Each input is also
//! decoded with its chunks' CRCs recomputed, so that mutations reach the inflate, unfilter
//! and conversion code instead of stopping at the CRC check.

#![no_main]

use _core::deadline::Deadline;
use _core::png::{decode, MAX_ICC_BYTES, SIGNATURE};
use _core::resize::{analysis_size, resize};
use libfuzzer_sys::fuzz_target;

/// Keeps each run's allocation small, as the service's own limit keeps a request's.
const MAX_PIXELS: u64 = 4_000_000;

/// `data` with the CRC of each complete chunk replaced by the right one.
fn with_valid_crcs(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    let mut offset = SIGNATURE.len();
    while let Some(head) = out.get(offset..offset + 8) {
        let length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let Some(end) = (offset + 12).checked_add(length).filter(|&end| end <= out.len()) else {
            break;
        };
        let crc = crc32fast::hash(&out[offset + 4..end - 4]);
        out[end - 4..end].copy_from_slice(&crc.to_be_bytes());
        offset = end;
    }
    out
}

fn check(data: &[u8]) {
    let Ok(decoded) = decode(data, MAX_PIXELS, &Deadline::none()) else {
        return;
    };
    let pixels = decoded.pixels;
    let channels = pixels.layout.channels();
    assert_eq!(pixels.data.len(), pixels.width * pixels.height * channels);
    assert!((pixels.width * pixels.height) as u64 <= MAX_PIXELS);
    assert!(decoded.icc.is_none_or(|icc| icc.len() <= MAX_ICC_BYTES));
    let (width, height) = analysis_size(pixels.width, pixels.height);
    let resized =
        resize(&pixels, width, height, &Deadline::none()).expect("a decoded image resizes");
    assert_eq!(resized.data.len(), width * height * channels);
}

fuzz_target!(|data: &[u8]| {
    check(data);
    check(&with_valid_crcs(data));
});
