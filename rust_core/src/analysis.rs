//! The driver: one pass over the pixels fills every luminance statistic, and a second,
//! lighter pass pins down the exact median.

use crate::edges::{EdgeMode, EdgeSums, Strips};
use crate::error::CoreError;
use crate::histogram::{
    buckets_from_fine, fine_bin, luma_bin, BUCKETS, FINE_BINS, LUMA_BINS,
};
use crate::luminance::{scaled_pixel, scaled_sum, Layout, SCALE};
use crate::median::MedianRefiner;

/// Every luminance statistic of one image. Scaled values are L x 10000, exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub width: usize,
    pub height: usize,
    pub pixel_count: u64,
    /// Sum of scaled luminance over all pixels.
    pub sum_scaled: u64,
    pub min_scaled: u32,
    pub max_scaled: u32,
    /// Sum of the two middle scaled values (twice the median; equal values for odd counts).
    pub median_x2_scaled: u64,
    /// Pixel counts of the contract's ten buckets.
    pub buckets: [u64; BUCKETS],
    /// Pixel counts of L rounded to an integer 0..=255 (halves up).
    pub luma_histogram: [u64; LUMA_BINS],
    pub strips: Strips,
    pub edge_sums: EdgeSums,
}

impl Analysis {
    /// Mean luminance, 0..=255.
    pub fn mean(&self) -> f64 {
        self.sum_scaled as f64 / self.pixel_count as f64 / SCALE as f64
    }

    /// Median luminance, 0..=255 (mean of the two middle values for an even count).
    pub fn median(&self) -> f64 {
        self.median_x2_scaled as f64 / (2 * SCALE) as f64
    }

    pub fn min(&self) -> f64 {
        self.min_scaled as f64 / SCALE as f64
    }

    pub fn max(&self) -> f64 {
        self.max_scaled as f64 / SCALE as f64
    }

    /// Mean luminance over the strips of `mode`, 0..=255.
    pub fn edge_mean(&self, mode: EdgeMode) -> f64 {
        self.edge_sums.get(mode) as f64 / self.strips.pixel_count(mode) as f64 / SCALE as f64
    }
}

/// Analyses a tightly packed, row-major `width` x `height` image in `layout`.
pub fn analyze(
    pixels: &[u8],
    width: usize,
    height: usize,
    layout: Layout,
) -> Result<Analysis, CoreError> {
    if width == 0 || height == 0 {
        return Err(CoreError::EmptyImage { width, height });
    }
    let channels = layout.channels();
    let expected = width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(channels))
        .ok_or(CoreError::TooLarge { width, height })?;
    if pixels.len() != expected {
        return Err(CoreError::SizeMismatch {
            expected,
            actual: pixels.len(),
            width,
            height,
            channels,
        });
    }
    Ok(match layout {
        Layout::L => run::<1>(pixels, width, height),
        Layout::La => run::<2>(pixels, width, height),
        Layout::Rgb => run::<3>(pixels, width, height),
        Layout::Rgba => run::<4>(pixels, width, height),
    })
}

/// First-pass accumulators.
struct Accumulator {
    fine: Box<[u64; FINE_BINS]>,
    luma: Box<[u64; LUMA_BINS]>,
    sum: u64,
    min: u32,
    max: u32,
}

impl Accumulator {
    fn new() -> Self {
        Self {
            fine: Box::new([0; FINE_BINS]),
            luma: Box::new([0; LUMA_BINS]),
            sum: 0,
            min: u32::MAX,
            max: 0,
        }
    }

    /// Counts a run of pixels into every first-pass statistic; returns the run's scaled sum.
    #[inline(always)]
    fn add_run<const C: usize>(&mut self, run: &[u8]) -> u64 {
        let mut run_sum = 0u64;
        for px in run.chunks_exact(C) {
            let v = scaled_pixel::<C>(px);
            self.fine[fine_bin(v)] += 1;
            self.luma[luma_bin(v)] += 1;
            self.min = self.min.min(v);
            self.max = self.max.max(v);
            run_sum += v as u64;
        }
        self.sum += run_sum;
        run_sum
    }
}

fn run<const C: usize>(pixels: &[u8], width: usize, height: usize) -> Analysis {
    let strips = Strips::new(width, height);
    let middle = strips.middle_columns();
    // Where the right strip starts, and the part of it already inside the left strip
    // (non-empty only when the two strips overlap, i.e. a 1-pixel-wide image).
    let right_start = width - strips.side;
    let overlap = right_start..strips.side.min(width).max(right_start);
    let row_bytes = width * C;

    let mut acc = Accumulator::new();
    let mut edges = EdgeSums::default();
    for (y, row) in pixels.chunks_exact(row_bytes).enumerate() {
        let left = acc.add_run::<C>(&row[..middle.start * C]);
        let mid = acc.add_run::<C>(&row[middle.start * C..middle.end * C]);
        let rest = acc.add_run::<C>(&row[middle.end * C..]);
        let right = rest + scaled_sum::<C>(&row[overlap.start * C..overlap.end * C]);
        edges.add_row(left, right, mid, left + mid + rest, strips.band_multiplicity(y));
    }

    let pixel_count = (width * height) as u64;
    let mut refiner =
        MedianRefiner::new(&acc.fine, pixel_count).expect("an image has at least one pixel");
    for px in pixels.chunks_exact(C) {
        refiner.observe(scaled_pixel::<C>(px));
    }

    Analysis {
        width,
        height,
        pixel_count,
        sum_scaled: acc.sum,
        min_scaled: acc.min,
        max_scaled: acc.max,
        median_x2_scaled: refiner.finish(),
        buckets: buckets_from_fine(&acc.fine),
        luma_histogram: *acc.luma,
        strips,
        edge_sums: edges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(width: usize, height: usize, values: &[u8]) -> Analysis {
        assert_eq!(values.len(), width * height);
        analyze(values, width, height, Layout::L).unwrap()
    }

    #[test]
    fn one_pixel() {
        let a = grey(1, 1, &[100]);
        assert_eq!(a.mean(), 100.0);
        assert_eq!(a.median(), 100.0);
        assert_eq!((a.min(), a.max()), (100.0, 100.0));
        for mode in EdgeMode::ALL_MODES {
            assert_eq!(a.edge_mean(mode), 100.0, "{mode:?}");
        }
        assert_eq!(a.buckets.iter().sum::<u64>(), 1);
        assert_eq!(a.buckets[3], 1); // 76.8 <= 100 < 102.4
        assert_eq!(a.luma_histogram[100], 1);
    }

    #[test]
    fn even_median_is_the_mean_of_the_middle_two() {
        let a = grey(4, 1, &[0, 10, 30, 255]);
        assert_eq!(a.median(), 20.0);
        assert_eq!(a.mean(), 295.0 / 4.0);
    }

    #[test]
    fn edges_of_a_20x10_frame() {
        // Side strips ew = 2 are 200, top/bottom rows (eh = 1) are 100, the rest 0.
        let (w, h) = (20, 10);
        let mut values = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                values[y * w + x] = if x < 2 || x >= w - 2 {
                    200
                } else if y == 0 || y == h - 1 {
                    100
                } else {
                    0
                };
            }
        }
        let a = grey(w, h, &values);
        assert_eq!(a.edge_mean(EdgeMode::LeftRight), 200.0);
        // top/bottom rows: 4 pixels of 200 and 16 of 100 each.
        assert_eq!(a.edge_mean(EdgeMode::TopBottom), (4.0 * 200.0 + 16.0 * 100.0) / 20.0);
        // all: 40 side pixels of 200, 32 band pixels of 100.
        assert_eq!(a.edge_mean(EdgeMode::All), (40.0 * 200.0 + 32.0 * 100.0) / 72.0);
    }

    #[test]
    fn single_column_counts_its_pixels_in_both_side_strips() {
        let a = grey(1, 3, &[10, 20, 30]);
        assert_eq!(a.edge_sums.left_right, 2 * 60 * 10_000);
        assert_eq!(a.edge_mean(EdgeMode::LeftRight), 20.0);
        assert_eq!(a.edge_mean(EdgeMode::TopBottom), 20.0); // rows 0 and 2
        assert_eq!(a.edge_mean(EdgeMode::All), 20.0);
    }

    #[test]
    fn single_row_lies_in_both_bands() {
        let a = grey(5, 1, &[10, 20, 30, 40, 50]);
        assert_eq!(a.edge_sums.top_bottom, 2 * 150 * 10_000);
        assert_eq!(a.edge_mean(EdgeMode::LeftRight), 30.0);
        // all: sides 10 + 50, middle 20 + 30 + 40 twice.
        assert_eq!(a.edge_mean(EdgeMode::All), (60.0 + 2.0 * 90.0) / 8.0);
    }

    #[test]
    fn alpha_is_ignored() {
        let rgb = [10u8, 20, 30, 40, 50, 60];
        let rgba = [10u8, 20, 30, 0, 40, 50, 60, 255];
        let a = analyze(&rgb, 2, 1, Layout::Rgb).unwrap();
        let b = analyze(&rgba, 2, 1, Layout::Rgba).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn rejects_bad_sizes() {
        assert_eq!(
            analyze(&[1, 2, 3], 2, 1, Layout::Rgb),
            Err(CoreError::SizeMismatch {
                expected: 6,
                actual: 3,
                width: 2,
                height: 1,
                channels: 3
            })
        );
        assert!(matches!(
            analyze(&[], 0, 5, Layout::L),
            Err(CoreError::EmptyImage { .. })
        ));
        assert!(matches!(
            analyze(&[], usize::MAX, 3, Layout::Rgba),
            Err(CoreError::TooLarge { .. })
        ));
    }
}
