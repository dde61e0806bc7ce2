//! `_core::analyze` over arbitrary buffers, sizes, layouts and extras: it must return Ok or
//! a CoreError, never panic, and an Ok analysis must be internally consistent.
#![no_main]

use _core::{analyze, EdgeMode, Extras, Layout};
use libfuzzer_sys::fuzz_target;

const LAYOUTS: [Layout; 4] = [Layout::L, Layout::La, Layout::Rgb, Layout::Rgba];

fuzz_target!(|data: &[u8]| {
    // Header: width (2 bytes), height (2 bytes), layout, extras; the rest is the buffer.
    // Sizes up to 65535 each, so mismatched and overflowing products are reached too.
    if data.len() < 6 {
        return;
    }
    let width = u16::from_le_bytes([data[0], data[1]]) as usize;
    let height = u16::from_le_bytes([data[2], data[3]]) as usize;
    let layout = LAYOUTS[(data[4] & 3) as usize];
    let extras = Extras { colours: data[5] & 1 != 0, sharpness: data[5] & 2 != 0, text: data[5] & 4 != 0 };
    // Bit 2: take the buffer as is (mostly a size mismatch); otherwise fit the size to it.
    let pixels = &data[6..];
    let (width, height) = if data[5] & 4 != 0 || width == 0 {
        (width, height)
    } else {
        let per_row = width * layout.channels();
        (width, pixels.len() / per_row)
    };
    let pixels = if data[5] & 4 != 0 {
        pixels
    } else {
        &pixels[..(width * height * layout.channels()).min(pixels.len())]
    };
    let Ok(analysis) = analyze(pixels, width, height, layout, extras) else {
        return;
    };
    assert_eq!(analysis.pixel_count, (width * height) as u64);
    assert_eq!(analysis.buckets.iter().sum::<u64>(), analysis.pixel_count);
    let mean = analysis.mean();
    assert!((0.0..=255.0).contains(&mean), "mean {mean}");
    let median = analysis.median();
    assert!(analysis.min() <= median && median <= analysis.max());
    for mode in [EdgeMode::LeftRight, EdgeMode::TopBottom, EdgeMode::All] {
        let edge = analysis.edge_mean(mode);
        assert!((0.0..=255.0).contains(&edge), "edge {edge}");
    }
});
