//! The driver: one pass over the pixels fills every statistic asked for, and a second,
//! lighter pass over their luminance values pins down the exact minimum, maximum, median and
//! percentiles.

use crate::colour::{ColourAccumulator, ColourSum, DominantColour};
use crate::edges::{EdgeMode, EdgeSums, Strips};
use crate::error::CoreError;
use crate::histogram::{
    buckets_from_fine, fine_bin, luma_from_fine, BUCKETS, FINE_BINS, LUMA_BINS,
};
use crate::luminance::{scaled_pixel, Layout, SCALE};
use crate::placeholder::Placeholder;
use crate::quantiles::{interpolate, percentile_ranks, RankSelector};
use crate::sharpness::Laplacian;
use crate::text::{TextLuminance, TextStatistics};

/// Which of the costlier statistics to compute (luminance statistics are always computed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    /// Average, dominant and edge colours, and colorfulness.
    pub colours: bool,
    /// The Laplacian's spread.
    pub sharpness: bool,
    /// Relative luminance (WCAG) for the readable-text advice.
    pub text: bool,
}

/// Percentiles reported for contrast.
pub const LOW_PERCENTILE: f64 = 0.05;
pub const HIGH_PERCENTILE: f64 = 0.95;

/// Colour statistics (over opaque pixels only).
#[derive(Debug, Clone, PartialEq)]
pub struct Colours {
    pub average: Option<[u8; 3]>,
    pub colorfulness: Option<f64>,
    pub dominant: Vec<DominantColour>,
    /// Average colour of the left, right, top and bottom strips (full length each).
    pub sides: [Option<[u8; 3]>; 4],
    pub opaque_pixels: u64,
}

/// Every statistic of one image. Scaled values are L x 10000, exact.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub width: usize,
    pub height: usize,
    pub pixel_count: u64,
    /// Sum of scaled luminance over all pixels, and of its square.
    pub sum_scaled: u64,
    pub sum_squares_scaled: u128,
    pub min_scaled: u32,
    pub max_scaled: u32,
    /// Sum of the two middle scaled values (twice the median; equal values for odd counts).
    pub median_x2_scaled: u64,
    /// 5th and 95th percentiles of L (linear interpolation between ranks).
    pub p5: f64,
    pub p95: f64,
    /// Pixel counts of the contract's ten buckets.
    pub buckets: [u64; BUCKETS],
    /// Pixel counts of L rounded to an integer 0..=255 (halves up).
    pub luma_histogram: [u64; LUMA_BINS],
    pub strips: Strips,
    pub edge_sums: EdgeSums,
    pub sharpness: Option<f64>,
    pub colours: Option<Colours>,
    pub text: Option<TextStatistics>,
    /// The statistics of each region asked for, in order (filled by the pipeline).
    pub regions: Vec<Analysis>,
    /// The placeholders, when asked for (filled by the pipeline).
    pub placeholder: Option<Placeholder>,
    /// The description of the embedded colour profile the pixels were converted to sRGB
    /// from (filled by the pipeline; None: taken as sRGB).
    pub colour_profile: Option<String>,
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

    /// Standard deviation of L (population), from the exact integer sums.
    pub fn contrast_rms(&self) -> f64 {
        let n = self.pixel_count as u128;
        let sum = self.sum_scaled as u128;
        let variance = (n * self.sum_squares_scaled - sum * sum) as f64;
        (variance / (n as f64 * n as f64)).sqrt() / SCALE as f64
    }

    /// Shannon entropy, in bits, of the 256-bin histogram of L rounded to integers.
    pub fn entropy_bits(&self) -> f64 {
        let n = self.pixel_count as f64;
        -self
            .luma_histogram
            .iter()
            .filter(|&&count| count > 0)
            .map(|&count| {
                let p = count as f64 / n;
                p * p.log2()
            })
            .sum::<f64>()
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
    extras: Extras,
) -> Result<Analysis, CoreError> {
    if width == 0 || height == 0 {
        return Err(CoreError::EmptyImage { width, height });
    }
    let channels = layout.channels();
    let expected = width
        .checked_mul(height)
        .filter(|&n| (n as u64) < 1 << 32)
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
        Layout::L => run::<1>(pixels, width, height, extras),
        Layout::La => run::<2>(pixels, width, height, extras),
        Layout::Rgb => run::<3>(pixels, width, height, extras),
        Layout::Rgba => run::<4>(pixels, width, height, extras),
    })
}

/// First-pass luminance accumulators. The fine histogram (from which the buckets, the luma
/// histogram and every rank come) is kept twice, even and odd pixels apart: neighbouring
/// pixels of a photo mostly fall in the same bin, and one copy would make every increment
/// wait for the previous one.
/// The copies count in 32 bits (20 KB together: they stay in L1); `analyze` refuses images
/// of 2^32 pixels or more, so no count can overflow.
struct Accumulator {
    fine: Box<[[u32; FINE_BINS]; 2]>,
    sum: u64,
    squares: u128,
}

impl Accumulator {
    fn new() -> Self {
        Self {
            fine: Box::new([[0; FINE_BINS]; 2]),
            sum: 0,
            squares: 0,
        }
    }

    /// Counts one row into every first-pass statistic, writing its scaled values to `out`;
    /// returns the row's scaled sum.
    #[inline(always)]
    fn add_row<const C: usize>(&mut self, row: &[u8], out: &mut [u32]) -> u64 {
        for (px, value) in row.chunks_exact(C).zip(out.iter_mut()) {
            *value = scaled_pixel::<C>(px);
        }
        let [fine_even, fine_odd] = &mut *self.fine;
        let mut pairs = out.chunks_exact(2);
        for pair in &mut pairs {
            fine_even[fine_bin(pair[0])] += 1;
            fine_odd[fine_bin(pair[1])] += 1;
        }
        for &v in pairs.remainder() {
            fine_even[fine_bin(v)] += 1;
        }
        let (mut sum, mut squares) = (0u64, 0u128);
        // Runs whose squares still fit a u64: 2550000² x 2048 < 2^64.
        for run in out.chunks(2048) {
            let mut run_squares = 0u64;
            for &v in run {
                sum += v as u64;
                run_squares += v as u64 * v as u64;
            }
            squares += run_squares as u128;
        }
        self.sum += sum;
        self.squares += squares;
        sum
    }

    /// The fine histogram, both copies added.
    fn fine_total(&self) -> Box<[u64; FINE_BINS]> {
        let mut total = Box::new([0u64; FINE_BINS]);
        for ((t, even), odd) in total.iter_mut().zip(self.fine[0]).zip(self.fine[1]) {
            *t = even as u64 + odd as u64;
        }
        total
    }
}

fn sum_values(values: &[u32]) -> u64 {
    values.iter().map(|&v| v as u64).sum()
}

/// Images up to this many pixels keep every pixel's luminance (4 bytes each) for the second
/// pass, which then reads it back instead of computing it again; larger ones keep three rows
/// (for the Laplacian) and recompute, since writing and reading back a buffer that size costs
/// more memory traffic and page faults than the arithmetic it saves.
const KEEP_VALUES_MAX_PIXELS: usize = 1 << 20;

fn run<const C: usize>(pixels: &[u8], width: usize, height: usize, extras: Extras) -> Analysis {
    run_with::<C>(
        pixels,
        width,
        height,
        extras,
        width * height <= KEEP_VALUES_MAX_PIXELS,
    )
}

fn run_with<const C: usize>(
    pixels: &[u8],
    width: usize,
    height: usize,
    extras: Extras,
    keep_values: bool,
) -> Analysis {
    let strips = Strips::new(width, height);
    let middle = strips.middle_columns();
    let mut acc = Accumulator::new();
    let mut edges = EdgeSums::default();
    let mut colours = extras.colours.then(ColourAccumulator::default);
    let mut laplacian = extras.sharpness.then(Laplacian::default);
    let mut text = extras.text.then(TextLuminance::default);
    // Row y's luminance goes to slot y (all rows kept) or y mod 3 (a ring of three rows).
    let slots = if keep_values { height } else { 3 };
    let mut stored = vec![0u32; width * slots];

    for (y, row) in pixels.chunks_exact(width * C).enumerate() {
        let slot = y % slots;
        let values = &mut stored[slot * width..(slot + 1) * width];
        let whole = acc.add_row::<C>(row, values);
        let left = sum_values(&values[..strips.side]);
        let right = sum_values(&values[width - strips.side..]);
        let bands = strips.band_multiplicity(y);
        let mid = if bands > 0 {
            sum_values(&values[middle.clone()])
        } else {
            0
        };
        edges.add_row(left, right, mid, whole, bands);
        if let Some(colours) = colours.as_mut() {
            colours.add_row::<C>(row, y, &strips);
        }
        if let Some(text) = text.as_mut() {
            text.add_row::<C>(row);
        }
        if let (Some(laplacian), true) = (laplacian.as_mut(), y >= 2) {
            let row_at = |r: usize| &stored[(r % slots) * width..(r % slots + 1) * width];
            laplacian.add_row(row_at(y - 2), row_at(y - 1), row_at(y));
        }
    }

    let n = (width * height) as u64;
    let (p5_low, p5_high, p5_weight) = percentile_ranks(n, LOW_PERCENTILE);
    let (p95_low, p95_high, p95_weight) = percentile_ranks(n, HIGH_PERCENTILE);
    let ranks = [
        0,
        n - 1,
        (n - 1) / 2,
        n / 2,
        p5_low,
        p5_high,
        p95_low,
        p95_high,
    ];
    let fine = acc.fine_total();
    let mut selector = RankSelector::new(&fine, n, ranks);
    if keep_values {
        stored.iter().for_each(|&v| selector.observe(v));
    } else {
        pixels
            .chunks_exact(C)
            .for_each(|px| selector.observe(scaled_pixel::<C>(px)));
    }
    let [min, max, median_low, median_high, p5a, p5b, p95a, p95b] = selector.finish();

    Analysis {
        width,
        height,
        pixel_count: n,
        sum_scaled: acc.sum,
        sum_squares_scaled: acc.squares,
        min_scaled: min,
        max_scaled: max,
        median_x2_scaled: median_low as u64 + median_high as u64,
        p5: interpolate(p5a, p5b, p5_weight) / SCALE as f64,
        p95: interpolate(p95a, p95b, p95_weight) / SCALE as f64,
        buckets: buckets_from_fine(&fine),
        luma_histogram: luma_from_fine(&fine),
        strips,
        edge_sums: edges,
        sharpness: laplacian.map(|l| l.std_dev()),
        colours: colours.map(|mut c| {
            let total = c.finish();
            Colours {
                average: total.mean(),
                colorfulness: c.colorfulness(&total),
                dominant: c.dominant_colours(),
                sides: c.sides.map(|side: ColourSum| side.mean()),
                opaque_pixels: total.count,
            }
        }),
        text: text.and_then(|t| t.finish::<C>(pixels, LOW_PERCENTILE, HIGH_PERCENTILE)),
        regions: Vec::new(),
        placeholder: None,
        colour_profile: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Extras = Extras {
        colours: true,
        sharpness: true,
        text: true,
    };

    fn grey(width: usize, height: usize, values: &[u8]) -> Analysis {
        assert_eq!(values.len(), width * height);
        analyze(values, width, height, Layout::L, ALL).unwrap()
    }

    #[test]
    fn one_pixel() {
        let a = grey(1, 1, &[100]);
        assert_eq!(a.mean(), 100.0);
        assert_eq!(a.median(), 100.0);
        assert_eq!(
            (a.min(), a.max(), a.p5, a.p95),
            (100.0, 100.0, 100.0, 100.0)
        );
        for mode in EdgeMode::ALL_MODES {
            assert_eq!(a.edge_mean(mode), 100.0, "{mode:?}");
        }
        assert_eq!(a.buckets.iter().sum::<u64>(), 1);
        assert_eq!(a.buckets[3], 1); // 76.8 <= 100 < 102.4
        assert_eq!(a.luma_histogram[100], 1);
        assert_eq!(
            (a.contrast_rms(), a.entropy_bits(), a.sharpness),
            (0.0, 0.0, Some(0.0))
        );
    }

    #[test]
    fn even_median_is_the_mean_of_the_middle_two() {
        let a = grey(4, 1, &[0, 10, 30, 255]);
        assert_eq!(a.median(), 20.0);
        assert_eq!(a.mean(), 295.0 / 4.0);
    }

    #[test]
    fn contrast_and_entropy_of_two_levels() {
        let a = grey(4, 1, &[0, 0, 200, 200]);
        assert_eq!(a.contrast_rms(), 100.0);
        assert_eq!(a.entropy_bits(), 1.0);
        // Ranks at 0.05 x 3 = 0.15 and 0.95 x 3 = 2.85.
        assert_eq!(a.p5, 0.0);
        assert_eq!(a.p95, 200.0);
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
        assert_eq!(
            a.edge_mean(EdgeMode::TopBottom),
            (4.0 * 200.0 + 16.0 * 100.0) / 20.0
        );
        // all: 40 side pixels of 200, 32 band pixels of 100.
        assert_eq!(
            a.edge_mean(EdgeMode::All),
            (40.0 * 200.0 + 32.0 * 100.0) / 72.0
        );
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
    fn alpha_is_ignored_by_luminance_but_not_by_colours() {
        let rgb = [10u8, 20, 30, 40, 50, 60];
        let rgba = [10u8, 20, 30, 0, 40, 50, 60, 255];
        let a = analyze(&rgb, 2, 1, Layout::Rgb, ALL).unwrap();
        let b = analyze(&rgba, 2, 1, Layout::Rgba, ALL).unwrap();
        assert_eq!(
            (a.sum_scaled, a.median_x2_scaled, a.buckets),
            (b.sum_scaled, b.median_x2_scaled, b.buckets)
        );
        assert_eq!(a.colours.unwrap().opaque_pixels, 2);
        assert_eq!(b.colours.as_ref().unwrap().opaque_pixels, 1);
        assert_eq!(b.colours.unwrap().average, Some([40, 50, 60]));
    }

    #[test]
    fn large_image_path_agrees_with_kept_values() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for (w, h) in [(1, 1), (1, 7), (7, 1), (2, 2), (3, 3), (17, 9), (64, 33)] {
            let pixels: Vec<u8> = (0..w * h * 3)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state % 7 * 40) as u8
                })
                .collect();
            let kept = run_with::<3>(&pixels, w, h, ALL, true);
            let ring = run_with::<3>(&pixels, w, h, ALL, false);
            assert_eq!(kept, ring, "{w}x{h}");
        }
    }

    #[test]
    fn extras_are_only_computed_when_asked() {
        let a = analyze(&[1, 2, 3], 1, 1, Layout::Rgb, Extras::default()).unwrap();
        assert!(a.colours.is_none() && a.sharpness.is_none());
    }

    #[test]
    fn rejects_bad_sizes() {
        assert_eq!(
            analyze(&[1, 2, 3], 2, 1, Layout::Rgb, ALL),
            Err(CoreError::SizeMismatch {
                expected: 6,
                actual: 3,
                width: 2,
                height: 1,
                channels: 3
            })
        );
        assert!(matches!(
            analyze(&[], 0, 5, Layout::L, ALL),
            Err(CoreError::EmptyImage { .. })
        ));
        assert!(matches!(
            analyze(&[], usize::MAX, 3, Layout::Rgba, ALL),
            Err(CoreError::TooLarge { .. })
        ));
    }
}
