//! Exact order statistics (median, percentiles) of scaled luminance, without sorting.
//!
//! The first pass has already counted every value into 1000-unit fine bins. Each wanted rank
//! lies in one known fine bin; a second pass counts the values of just those bins at full
//! resolution (one table look-up per pixel), and each ranked value is read off the counts.

use crate::histogram::{fine_bin, FINE_BINS, FINE_WIDTH};

const SUB_BINS: usize = FINE_WIDTH as usize;

/// Second-pass state for `K` wanted ranks.
pub struct RankSelector<const K: usize> {
    /// Per wanted rank: its slot (distinct fine bin) and its rank inside that bin.
    slot_of_rank: [usize; K],
    rank_in_bin: [u64; K],
    /// Per slot: the fine bin it refines.
    slot_bins: Vec<usize>,
    /// Fine bin -> slot + 1 (0: not wanted).
    slot_of_bin: Box<[u8; FINE_BINS]>,
    counts: Vec<[u32; SUB_BINS]>,
}

impl<const K: usize> RankSelector<K> {
    /// Prepares the second pass for 0-based `ranks` among the `count` values whose fine
    /// histogram is `fine`. Every rank must be below `count`.
    pub fn new(fine: &[u64; FINE_BINS], count: u64, ranks: [u64; K]) -> Self {
        assert!(K < u8::MAX as usize, "too many ranks for the slot table");
        let mut slot_of_bin = Box::new([0u8; FINE_BINS]);
        let mut slot_bins = Vec::with_capacity(K);
        let mut slot_of_rank = [0usize; K];
        let mut rank_in_bin = [0u64; K];
        for (i, &rank) in ranks.iter().enumerate() {
            assert!(rank < count, "rank {rank} of {count} values");
            let (bin, inside) = locate(fine, rank);
            if slot_of_bin[bin] == 0 {
                slot_bins.push(bin);
                slot_of_bin[bin] = slot_bins.len() as u8;
            }
            slot_of_rank[i] = slot_of_bin[bin] as usize - 1;
            rank_in_bin[i] = inside;
        }
        let counts = vec![[0u32; SUB_BINS]; slot_bins.len()];
        Self {
            slot_of_rank,
            rank_in_bin,
            slot_bins,
            slot_of_bin,
            counts,
        }
    }

    /// Counts one value of the second pass (values outside the wanted bins are ignored).
    #[inline(always)]
    pub fn observe(&mut self, scaled: u32) {
        let bin = fine_bin(scaled);
        let slot = self.slot_of_bin[bin];
        if slot != 0 {
            self.counts[slot as usize - 1][scaled as usize - bin * SUB_BINS] += 1;
        }
    }

    /// The value at each wanted rank.
    pub fn finish(self) -> [u32; K] {
        std::array::from_fn(|i| {
            let slot = self.slot_of_rank[i];
            nth_in_bin(
                self.slot_bins[slot],
                &self.counts[slot],
                self.rank_in_bin[i],
            )
        })
    }
}

/// The fine bin holding the value of 0-based rank `rank`, and its rank inside that bin.
fn locate(fine: &[u64; FINE_BINS], rank: u64) -> (usize, u64) {
    let mut before = 0u64;
    for (bin, &count) in fine.iter().enumerate() {
        if rank < before + count {
            return (bin, rank - before);
        }
        before += count;
    }
    unreachable!("rank {rank} is beyond the {before} counted values")
}

/// The value of rank `rank` among the values counted in one fine bin.
fn nth_in_bin(bin: usize, counts: &[u32; SUB_BINS], rank: u64) -> u32 {
    let mut before = 0u64;
    for (offset, &count) in counts.iter().enumerate() {
        before += count as u64;
        if rank < before {
            return (bin * SUB_BINS + offset) as u32;
        }
    }
    unreachable!("rank {rank} is beyond the {before} values of bin {bin}")
}

/// The two ranks whose values a linearly interpolated percentile needs, and the weight of
/// the upper one: position q x (n - 1), as NumPy's default ("linear") method defines it.
pub fn percentile_ranks(count: u64, q: f64) -> (u64, u64, f64) {
    let position = q * (count - 1) as f64;
    let lower = position.floor();
    let upper = position.ceil().min((count - 1) as f64);
    (lower as u64, upper as u64, position - lower)
}

/// Interpolates between the values at the two ranks of `percentile_ranks`.
pub fn interpolate(lower: u32, upper: u32, weight: f64) -> f64 {
    lower as f64 + (upper as f64 - lower as f64) * weight
}

/// Exact values at `ranks` of a slice of scaled values (both passes over one slice).
pub fn select<const K: usize>(values: &[u32], ranks: [u64; K]) -> [u32; K] {
    let mut fine = [0u64; FINE_BINS];
    for &v in values {
        fine[fine_bin(v)] += 1;
    }
    let mut selector = RankSelector::new(&fine, values.len() as u64, ranks);
    for &v in values {
        selector.observe(v);
    }
    selector.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn median_x2(values: &[u32]) -> u64 {
        let n = values.len() as u64;
        let [low, high] = select(values, [(n - 1) / 2, n / 2]);
        low as u64 + high as u64
    }

    #[test]
    fn medians() {
        let cases: &[(&[u32], u64)] = &[
            (&[7], 14),
            (&[1, 2], 3),
            (&[5, 1, 3], 6),
            (&[0, 2_550_000], 2_550_000),
            (&[999, 1000], 1999),
            (&[1000, 999, 1000, 999], 1999),
            (&[9, 9, 9, 9], 18),
        ];
        for (values, expected) in cases {
            assert_eq!(median_x2(values), *expected, "{values:?}");
        }
    }

    #[test]
    fn agrees_with_sorting_at_every_rank() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut values = Vec::new();
        for n in 1..300usize {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            values.push((state % 2_550_001) as u32);
            if n % 3 == 0 {
                values.push(values[n / 2]);
            }
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let last = sorted.len() as u64 - 1;
            let ranks = [0, last / 3, last / 2, last];
            let expected = ranks.map(|r| sorted[r as usize]);
            assert_eq!(select(&values, ranks), expected, "n = {n}");
        }
    }

    #[test]
    fn percentile_positions() {
        assert_eq!(percentile_ranks(1, 0.05), (0, 0, 0.0));
        assert_eq!(percentile_ranks(21, 0.05), (1, 1, 0.0));
        let (low, high, weight) = percentile_ranks(11, 0.95);
        assert_eq!((low, high), (9, 10));
        assert!((weight - 0.5).abs() < 1e-12);
        assert_eq!(interpolate(10, 20, 0.25), 12.5);
    }
}
