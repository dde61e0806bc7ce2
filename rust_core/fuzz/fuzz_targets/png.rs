//! The PNG decoder on arbitrary bytes, and the resize of what it decodes: each returns a
//! value or an error, never panics; a decoded image is as large as it says and within the
//! pixel limit, and its resize to the analysis size is as large as asked.

#![no_main]

use _core::deadline::Deadline;
use _core::png::{decode, MAX_ICC_BYTES};
use _core::resize::{analysis_size, resize};
use libfuzzer_sys::fuzz_target;

/// Keeps each run's allocation small, as the service's own limit keeps a request's.
const MAX_PIXELS: u64 = 4_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = decode(data, MAX_PIXELS, &Deadline::none()) else {
        return;
    };
    let pixels = decoded.pixels;
    let channels = pixels.layout.channels();
    assert_eq!(pixels.data.len(), pixels.width * pixels.height * channels);
    assert!((pixels.width * pixels.height) as u64 <= MAX_PIXELS);
    assert!(decoded.icc.is_none_or(|icc| icc.len() <= MAX_ICC_BYTES));
    let (width, height) = analysis_size(pixels.width, pixels.height);
    let resized = resize(&pixels, width, height, &Deadline::none()).expect("a decoded image resizes");
    assert_eq!(resized.data.len(), width * height * channels);
});
