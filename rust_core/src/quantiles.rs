//! The exact median of scaled luminance, without sorting.
//!
//! The first pass has already counted every value into 1024-unit fine bins. Knowing the two
//! middle ranks, at most two fine bins can hold the middle values; a second pass counts the
//! values inside just those bins at full resolution, and the median is read off the counts.

use crate::histogram::{fine_bin, FINE_BINS, FINE_SHIFT, FINE_WIDTH};

const SUB_BINS: usize = FINE_WIDTH as usize;

/// Second-pass state: exact counts inside the fine bins holding the two middle ranks.
pub struct MedianRefiner {
    /// Fine bins of the lower and upper middle rank (equal when both fall in one bin).
    bins: [usize; 2],
    /// Rank, within its fine bin, of the lower and upper middle value.
    ranks_in_bin: [u64; 2],
    lower: Box<[u32; SUB_BINS]>,
    upper: Box<[u32; SUB_BINS]>,
}

impl MedianRefiner {
    /// Prepares the second pass for `count` values whose fine histogram is `fine`.
    /// Returns `None` when there are no values.
    pub fn new(fine: &[u64; FINE_BINS], count: u64) -> Option<Self> {
        if count == 0 {
            return None;
        }
        let lower = locate(fine, (count - 1) / 2);
        let upper = locate(fine, count / 2);
        Some(Self {
            bins: [lower.0, upper.0],
            ranks_in_bin: [lower.1, upper.1],
            lower: Box::new([0; SUB_BINS]),
            upper: Box::new([0; SUB_BINS]),
        })
    }

    /// Counts one value of the second pass (values outside the two bins are ignored).
    #[inline(always)]
    pub fn observe(&mut self, scaled: u32) {
        let bin = fine_bin(scaled);
        let offset = (scaled & (FINE_WIDTH - 1)) as usize;
        if bin == self.bins[0] {
            self.lower[offset] += 1;
        } else if bin == self.bins[1] {
            self.upper[offset] += 1;
        }
    }

    /// The sum of the two middle values (twice the median, exact).
    pub fn finish(self) -> u64 {
        let same_bin = self.bins[0] == self.bins[1];
        let low = nth_in_bin(self.bins[0], &self.lower, self.ranks_in_bin[0]);
        let high_counts = if same_bin { &self.lower } else { &self.upper };
        let high = nth_in_bin(self.bins[1], high_counts, self.ranks_in_bin[1]);
        low as u64 + high as u64
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
            return ((bin as u32) << FINE_SHIFT) | offset as u32;
        }
    }
    unreachable!("rank {rank} is beyond the {before} values of bin {bin}")
}

/// Exact median x 2 of a slice of scaled values (the two passes over one slice); for tests
/// and for callers that already hold the values.
pub fn median_x2(values: &[u32]) -> Option<u64> {
    let mut fine = [0u64; FINE_BINS];
    for &v in values {
        fine[fine_bin(v)] += 1;
    }
    let mut refiner = MedianRefiner::new(&fine, values.len() as u64)?;
    for &v in values {
        refiner.observe(v);
    }
    Some(refiner.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_median_x2(values: &[u32]) -> u64 {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        sorted[(n - 1) / 2] as u64 + sorted[n / 2] as u64
    }

    #[test]
    fn table() {
        let cases: &[(&[u32], u64)] = &[
            (&[7], 14),
            (&[1, 2], 3),
            (&[5, 1, 3], 6),
            (&[0, 2_550_000], 2_550_000),
            (&[1023, 1024], 2047),
            (&[1024, 1023, 1024, 1023], 2047),
            (&[9, 9, 9, 9], 18),
        ];
        for (values, expected) in cases {
            assert_eq!(median_x2(values), Some(*expected), "{values:?}");
        }
        assert_eq!(median_x2(&[]), None);
    }

    #[test]
    fn agrees_with_sorting() {
        // A deterministic spread of values across many fine bins, odd and even counts.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut values = Vec::new();
        for n in 1..400usize {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            values.push((state % 2_550_001) as u32);
            if n % 3 == 0 {
                values.push(values[n / 2]);
            }
            assert_eq!(median_x2(&values), Some(sorted_median_x2(&values)), "n = {n}");
        }
    }
}
