//! Histograms of scaled luminance (L x 10000).
//!
//! The pass keeps one fine histogram of 1000-unit bins (0.1 luminance level). Its edges fall
//! on both grids the statistics need: the contract's bucket edges (multiples of 256000 = 256
//! fine bins) and the rounding edges of integer luma (10000k + 5000 = 10k + 5 fine bins), so
//! the ten buckets and the 256-bin histogram are both sums of fine bins, and every ranked
//! value is found inside one fine bin (see `quantiles.rs`).

use crate::luminance::{MAX_SCALED, SCALE};

/// Number of contract buckets.
pub const BUCKETS: usize = 10;
/// Width of one contract bucket: 25.6 luminance levels in scaled units.
pub const BUCKET_WIDTH: u32 = 256_000;
/// Width of one fine bin in scaled units: fine bin = scaled / FINE_WIDTH.
pub const FINE_WIDTH: u32 = 1000;
/// Number of fine bins covering 0..=MAX_SCALED.
pub const FINE_BINS: usize = (MAX_SCALED / FINE_WIDTH) as usize + 1;
/// Fine bins per contract bucket.
const FINE_PER_BUCKET: usize = (BUCKET_WIDTH / FINE_WIDTH) as usize;
/// Bins of the integer-luma histogram: L rounded to 0..=255.
pub const LUMA_BINS: usize = 256;

/// Fine bins per integer luma level.
const FINE_PER_LUMA: usize = (SCALE / FINE_WIDTH) as usize;

const _: () = assert!(
    BUCKET_WIDTH % FINE_WIDTH == 0,
    "fine bins must nest in buckets"
);
const _: () = assert!(
    (SCALE / 2) % FINE_WIDTH == 0,
    "fine bins must nest in luma levels"
);

/// Fine bin of a scaled luminance.
#[inline(always)]
pub fn fine_bin(scaled: u32) -> usize {
    (scaled / FINE_WIDTH) as usize
}

/// L rounded to the nearest integer, halves up: the bin of the 256-bin luma histogram.
#[inline(always)]
pub fn luma_bin(scaled: u32) -> usize {
    ((scaled + SCALE / 2) / SCALE) as usize
}

/// Folds the fine histogram into the 256-bin histogram of L rounded half up: level k holds
/// scaled values in [10000k - 5000, 10000k + 5000).
pub fn luma_from_fine(fine: &[u64; FINE_BINS]) -> [u64; LUMA_BINS] {
    let mut luma = [0u64; LUMA_BINS];
    for (bin, count) in fine.iter().enumerate() {
        luma[(bin + FINE_PER_LUMA / 2) / FINE_PER_LUMA] += count;
    }
    luma
}

/// Contract bucket of a scaled luminance: i with i x 256000 <= scaled < (i + 1) x 256000,
/// white included in the last bucket.
pub fn bucket_of(scaled: u32) -> usize {
    ((scaled / BUCKET_WIDTH) as usize).min(BUCKETS - 1)
}

/// Folds the fine histogram into the contract's ten buckets.
pub fn buckets_from_fine(fine: &[u64; FINE_BINS]) -> [u64; BUCKETS] {
    let mut buckets = [0u64; BUCKETS];
    for (bin, count) in fine.iter().enumerate() {
        buckets[(bin / FINE_PER_BUCKET).min(BUCKETS - 1)] += count;
    }
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fine_bins_agree_with_buckets_at_every_edge() {
        let mut probes = vec![
            0,
            1,
            4_999,
            5_000,
            MAX_SCALED - 5_001,
            MAX_SCALED - 5_000,
            MAX_SCALED - 1,
            MAX_SCALED,
        ];
        for i in 1..BUCKETS as u32 {
            let edge = i * BUCKET_WIDTH;
            probes.extend([edge - 1, edge, edge + 1]);
        }
        for v in probes {
            let mut fine = [0u64; FINE_BINS];
            fine[fine_bin(v)] += 1;
            let buckets = buckets_from_fine(&fine);
            assert_eq!(buckets[bucket_of(v)], 1, "scaled value {v}");
            assert_eq!(luma_from_fine(&fine)[luma_bin(v)], 1, "scaled value {v}");
        }
    }

    #[test]
    fn bucket_edges() {
        let cases = [
            (0, 0),
            (255_999, 0),
            (256_000, 1),
            (2_303_999, 8),
            (2_304_000, 9),
            (MAX_SCALED, 9),
        ];
        for (v, bucket) in cases {
            assert_eq!(bucket_of(v), bucket, "scaled value {v}");
        }
    }

    #[test]
    fn luma_rounds_halves_up() {
        let cases = [
            (0, 0),
            (4_999, 0),
            (5_000, 1),
            (14_999, 1),
            (MAX_SCALED, 255),
        ];
        for (v, bin) in cases {
            assert_eq!(luma_bin(v), bin, "scaled value {v}");
        }
    }
}
