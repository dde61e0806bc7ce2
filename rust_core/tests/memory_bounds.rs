//! The memory bounds stated in `png.rs` and `resize.rs`, measured by counting allocations on
//! extreme shapes at a tenth of their length, 2 x 2,500,000 and
//! 5,000,000 x 1 grey PNGs, so that the unoptimised test build stays quick (the full sizes run
//! in tests/test_resize_core.py, on the release build, by peak RSS). Lanczos weights without
//! the pre-reduction would already take 120 MB here (6 weights per source pixel along the
//! axis, 8 bytes each), far over the bounds asserted. Every allocation of the process goes
//! through `Counting`, so the peak covers the crates' own buffers too.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use _core::deadline::Deadline;
use _core::png::decode;
use _core::resize::{analysis_size, resize};

/// The system allocator, counting the bytes live now and the most live since `reset_peak`.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// One measurement at a time: the tests of this file share the counters.
static MEASURING: Mutex<()> = Mutex::new(());

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes allocated beyond what was live when `f` started, at the peak of `f`.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let value = f();
    (value, PEAK.load(Ordering::Relaxed) - before)
}

/// A PNG of one chunk of each kind: IHDR, one IDAT, IEND.
fn grey_png(width: u32, height: u32, raw_rows: &[u8]) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], payload: &[u8]) {
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(payload);
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &fdeflate::compress_to_vec(raw_rows));
    chunk(&mut out, b"IEND", b"");
    out
}

/// Slack for the decoder's and resizer's small buffers (inflate state, weights, row sums).
const SMALL_BUFFERS: usize = 8 << 20;

/// Decodes and resizes a grey `width` x `height` PNG; returns the peaks of both steps.
fn measure(width: u32, height: u32, raw_rows: Vec<u8>) -> (usize, usize) {
    let _one_at_a_time = MEASURING.lock().unwrap();
    let data = grey_png(width, height, &raw_rows);
    drop(raw_rows);
    let (decoded, decode_peak) = peak_during(|| decode(&data, 50_000_000, &Deadline::none()));
    let pixels = decoded.unwrap().pixels;
    assert_eq!(
        (pixels.width, pixels.height),
        (width as usize, height as usize)
    );
    let (target_width, target_height) = analysis_size(pixels.width, pixels.height);
    let (resized, resize_peak) =
        peak_during(|| resize(&pixels, target_width, target_height, &Deadline::none()));
    let resized = resized.unwrap();
    assert_eq!(resized.data.len(), target_width * target_height);
    (decode_peak, resize_peak)
}

#[test]
fn a_tall_thin_png_costs_its_pixels_not_its_aspect_ratio() {
    // 2 x 2,500,000: rows of 3 raw bytes, filter 0, a ramp down the image.
    let height = 2_500_000u32;
    let mut raw = Vec::with_capacity(3 * height as usize);
    for y in 0..height {
        let level = (y / 10_000) as u8;
        raw.extend_from_slice(&[0, level, level.wrapping_add(1)]);
    }
    let image = 2 * height as usize;
    let (decode_peak, resize_peak) = measure(2, height, raw);
    // Decoding: the output plus small buffers.
    assert!(
        decode_peak <= image + SMALL_BUFFERS,
        "decode peak {decode_peak}"
    );
    // Resizing to 1 x 512: a pre-reduced 2 x 32,468 image and bounded weights.
    assert!(resize_peak <= SMALL_BUFFERS, "resize peak {resize_peak}");
}

#[test]
fn a_single_5_million_pixel_row_costs_its_pixels_and_two_rows() {
    let width = 5_000_000u32;
    let mut raw = vec![0u8; width as usize + 1];
    for (x, value) in raw[1..].iter_mut().enumerate() {
        *value = (x / 20_000) as u8;
    }
    let image = width as usize;
    let (decode_peak, resize_peak) = measure(width, 1, raw);
    // The output, and the decoder's buffer of (at most two) raw rows of 5 MB.
    assert!(
        decode_peak <= image + 2 * (image + 1) + SMALL_BUFFERS,
        "decode peak {decode_peak}"
    );
    assert!(resize_peak <= SMALL_BUFFERS, "resize peak {resize_peak}");
}
