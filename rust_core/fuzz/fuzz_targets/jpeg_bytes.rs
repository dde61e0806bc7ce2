//! The JPEG reader on arbitrary bytes, at every scale: it must return, an image or an
//! error, never panic, and an image must be as large as the scale says.

#![no_main]

use _core::deadline::Deadline;
use _core::jpeg::{decode, Scale};
use libfuzzer_sys::fuzz_target;

/// Keeps each run's allocation small, as the service's own limit keeps a request's.
const MAX_PIXELS: u64 = 16_000_000;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the scale, so that each input is decoded once.
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    let scale = [Scale::Eighth, Scale::Quarter, Scale::Half, Scale::Full][usize::from(pick % 4)];
    if let Ok(image) = decode(data, scale, MAX_PIXELS, &Deadline::none()) {
        let expected = scale.output_size(image.source_width, image.source_height);
        assert_eq!((image.pixels.width, image.pixels.height), expected);
        let channels = image.pixels.layout.channels();
        assert_eq!(image.pixels.data.len(), expected.0 * expected.1 * channels);
    }
});
