//! The JPEG DC reader on arbitrary bytes: it must return, an image or an error, never
//! panic, and an image must be as large as it says.

#![no_main]

use libfuzzer_sys::fuzz_target;

/// Keeps each run's allocation small, as the service's own limit keeps a request's.
const MAX_PIXELS: u64 = 16_000_000;

fuzz_target!(|data: &[u8]| {
    if let Ok(image) = _core::jpeg::decode_dc(data, MAX_PIXELS) {
        assert_eq!(image.width, image.source_width.div_ceil(8));
        assert_eq!(image.height, image.source_height.div_ceil(8));
        assert_eq!(image.pixels.len(), image.width * image.height * image.channels);
    }
});
