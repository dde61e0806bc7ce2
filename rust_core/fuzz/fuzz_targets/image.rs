//! The whole path from encoded bytes on arbitrary input: `analyze_image` (sniffing, the TIFF
//! decoder, the embedded ICC profiles of JPEG, PNG and TIFF through LittleCMS, the resize and
//! the statistics) and the AVIF/HEIF size reader must return a value or an error, never
//! panic; a TIFF analysed is within the pixel limit. Each input is also analysed with its
//! bytes after the first 16 taken as an ICC profile handed to `analyze_pixels`, so that
//! LittleCMS reads hostile profiles whatever the container.

#![no_main]

use _core::deadline::Deadline;
use _core::isobmff::declared_size;
use _core::pipeline::{analyze_image, analyze_pixels, Options, Outcome};
use _core::{Extras, Layout};
use libfuzzer_sys::fuzz_target;

/// Keeps each run's allocation small, as the service's own limit keeps a request's.
const MAX_PIXELS: u64 = 4_000_000;

fuzz_target!(|data: &[u8]| {
    let options = Options {
        max_pixels: MAX_PIXELS,
        extras: Extras {
            colours: data.first().is_some_and(|b| b & 1 != 0),
            sharpness: false,
            text: data.first().is_some_and(|b| b & 2 != 0),
        },
        deadline: Deadline::none(),
        ..Options::default()
    };
    if let Ok(Outcome::Analysed { facts, analysis, .. }) = analyze_image(data, &options) {
        assert!((facts.width * facts.height) as u64 <= MAX_PIXELS);
        assert!(analysis.pixel_count > 0);
        assert!(facts.frames >= 1);
    }
    let _ = declared_size(data);
    if data.len() > 16 {
        let pixels: Vec<u8> = (0..48u8).map(|v| v.wrapping_mul(37)).collect();
        let layout = if data[0] & 4 != 0 { Layout::L } else { Layout::Rgb };
        let size = if layout == Layout::L { (8, 6) } else { (4, 4) };
        let used = size.0 * size.1 * layout.channels();
        let result =
            analyze_pixels(&pixels[..used], size, layout, size, 1, Some(&data[16..]), &options);
        assert!(result.is_ok(), "a bad profile is ignored, never an error");
    }
});
