//! Relative luminance as WCAG 2.x defines it (linearised sRGB, Rec. 709 primaries), for the
//! readable-text advice: its mean and the percentiles that text over a busy image sits on.
//!
//! Each pixel's relative luminance Y is the sum of three table look-ups, in fixed point
//! (Y x 2^24, each channel's weighted linear value rounded: within 1e-7 of the formula). The
//! mean is the exact sum of those; the percentiles are exact order statistics of them, found
//! in two passes without sorting: the first counts the values into 4,097 coarse bins (16 KB,
//! in L1), the second counts, at full resolution, only the values in the bins that hold the
//! wanted ranks. Alpha is ignored, as it is by the brightness statistics.

use crate::quantiles::percentile_ranks;

/// Fixed-point scale of Y: 1.0 is 2^24.
const ONE: u32 = 1 << 24;
/// Coarse bins: Y >> SHIFT, for Y in 0..=ONE.
const SHIFT: u32 = 12;
const COARSE_BINS: usize = (ONE >> SHIFT) as usize + 1;
const SUB_BINS: usize = 1 << SHIFT;

/// WCAG 2.x linearisation of one 8-bit sRGB channel value.
pub fn linearise(value: u8) -> f64 {
    let c = value as f64 / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// WCAG 2.x weights of linear R, G and B.
pub const WEIGHTS: [f64; 3] = [0.2126, 0.7152, 0.0722];

/// Per channel, the weighted linear value of every 8-bit value in fixed point; grey uses its
/// own table (the weights sum to 1: a grey's luminance is its linear value).
struct Tables {
    rgb: [[u32; 256]; 3],
    grey: [u32; 256],
}

fn tables() -> &'static Tables {
    static TABLES: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let fixed = |v: f64| (v * ONE as f64).round() as u32;
        let mut t = Tables {
            rgb: [[0; 256]; 3],
            grey: [0; 256],
        };
        for v in 0..=255u8 {
            let lin = linearise(v);
            for (c, weight) in WEIGHTS.iter().enumerate() {
                t.rgb[c][v as usize] = fixed(weight * lin);
            }
            t.grey[v as usize] = fixed(lin);
        }
        t
    })
}

/// Relative luminance of one pixel of `C` bytes, in fixed point (at most ONE + 1: three
/// rounded terms).
#[inline(always)]
fn fixed_luminance<const C: usize>(t: &Tables, px: &[u8]) -> u32 {
    if C < 3 {
        t.grey[px[0] as usize]
    } else {
        t.rgb[0][px[0] as usize] + t.rgb[1][px[1] as usize] + t.rgb[2][px[2] as usize]
    }
}

#[inline(always)]
fn coarse(y: u32) -> usize {
    ((y >> SHIFT) as usize).min(COARSE_BINS - 1)
}

/// Accumulates the relative luminance of pixels, row by row (the first pass).
pub struct TextLuminance {
    coarse: Box<[u32; COARSE_BINS]>,
    sum: u64,
    count: u64,
}

impl Default for TextLuminance {
    fn default() -> Self {
        Self {
            coarse: Box::new([0; COARSE_BINS]),
            sum: 0,
            count: 0,
        }
    }
}

/// The relative luminance statistics of a region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextStatistics {
    pub mean: f64,
    /// Percentiles (the darkest and brightest patches text may sit on), linear
    /// interpolation between ranks as NumPy's default.
    pub p5: f64,
    pub p95: f64,
}

impl TextLuminance {
    /// Counts one row of `C`-byte pixels (1 or 2: grey (+ alpha), 3 or 4: RGB (+ alpha)).
    #[inline]
    pub fn add_row<const C: usize>(&mut self, row: &[u8]) {
        let t = tables();
        let mut sum = 0u64;
        for px in row.chunks_exact(C) {
            let y = fixed_luminance::<C>(t, px);
            sum += y as u64;
            self.coarse[coarse(y)] += 1;
        }
        self.sum += sum;
        self.count += (row.len() / C) as u64;
    }

    /// The statistics at percentiles `low` and `high`, with a second pass over `pixels` (the
    /// same `C`-byte pixels that were counted); None when none was.
    pub fn finish<const C: usize>(
        &self,
        pixels: &[u8],
        low: f64,
        high: f64,
    ) -> Option<TextStatistics> {
        if self.count == 0 {
            return None;
        }
        let (l0, l1, lw) = percentile_ranks(self.count, low);
        let (h0, h1, hw) = percentile_ranks(self.count, high);
        let ranks = [l0, l1, h0, h1];
        // Each rank's coarse bin and its rank inside it.
        let located = ranks.map(|rank| {
            let mut before = 0u64;
            for (bin, &n) in self.coarse.iter().enumerate() {
                if before + n as u64 > rank {
                    return (bin, rank - before);
                }
                before += n as u64;
            }
            unreachable!("rank {rank} of {} values", self.count)
        });
        let mut bins: Vec<usize> = located.iter().map(|&(bin, _)| bin).collect();
        bins.sort_unstable();
        bins.dedup();
        // Coarse bin -> its slot + 1 (0: not wanted): one look-up per pixel.
        let mut slot_of = Box::new([0u8; COARSE_BINS]);
        for (slot, &bin) in bins.iter().enumerate() {
            slot_of[bin] = slot as u8 + 1;
        }
        let mut counts = vec![[0u32; SUB_BINS]; bins.len()];
        let t = tables();
        for px in pixels.chunks_exact(C) {
            let y = fixed_luminance::<C>(t, px);
            let slot = slot_of[coarse(y)];
            if slot != 0 {
                let slot = slot as usize - 1;
                counts[slot][(y as usize - (bins[slot] << SHIFT)).min(SUB_BINS - 1)] += 1;
            }
        }
        let value = |(bin, inside): (usize, u64)| {
            let slot = bins.binary_search(&bin).unwrap();
            let mut before = 0u64;
            for (sub, &n) in counts[slot].iter().enumerate() {
                before += n as u64;
                if before > inside {
                    return ((bin << SHIFT) + sub) as f64 / ONE as f64;
                }
            }
            unreachable!("rank inside bin {bin}")
        };
        let [a, b, c, d] = located.map(value);
        Some(TextStatistics {
            mean: self.sum as f64 / self.count as f64 / ONE as f64,
            p5: a + (b - a) * lw,
            p95: c + (d - c) * hw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats<const C: usize>(pixels: &[u8]) -> TextStatistics {
        let mut acc = TextLuminance::default();
        acc.add_row::<C>(pixels);
        acc.finish::<C>(pixels, 0.05, 0.95).unwrap()
    }

    #[test]
    fn black_and_white_are_the_ends_of_the_scale() {
        let s = stats::<3>(&[0, 0, 0, 255, 255, 255]);
        assert!((s.mean - 0.5).abs() < 1e-6);
        assert_eq!((s.p5, s.p95), (0.05, 0.95));
        assert!((stats::<1>(&[255]).mean - 1.0).abs() < 1e-6);
    }

    #[test]
    fn primaries_weigh_as_wcag_says() {
        for (c, weight) in WEIGHTS.iter().enumerate() {
            let mut px = [0u8; 4];
            px[c] = 255;
            let s = stats::<4>(&px);
            assert!((s.mean - weight).abs() < 1e-6, "channel {c}");
        }
    }

    #[test]
    fn the_linearisation_has_its_two_pieces() {
        assert!((linearise(10) - 10.0 / 255.0 / 12.92).abs() < 1e-12);
        assert!((linearise(128) - ((128.0 / 255.0 + 0.055) / 1.055f64).powf(2.4)).abs() < 1e-12);
    }

    #[test]
    fn percentiles_are_exact_order_statistics() {
        // 1000 grey pixels of every value in turn: the ranks fall inside coarse bins.
        let pixels: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 256) as u8).collect();
        let s = stats::<1>(&pixels);
        let mut ys: Vec<f64> = pixels.iter().map(|&v| linearise(v)).collect();
        ys.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let pos = q * (ys.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            ys[lo] + (ys[hi] - ys[lo]) * (pos - lo as f64)
        };
        assert!((s.p5 - at(0.05)).abs() < 1e-7, "{} {}", s.p5, at(0.05));
        assert!((s.p95 - at(0.95)).abs() < 1e-7, "{} {}", s.p95, at(0.95));
        let mean = ys.iter().sum::<f64>() / ys.len() as f64;
        assert!((s.mean - mean).abs() < 1e-7);
    }

    #[test]
    fn an_empty_accumulator_has_no_statistics() {
        assert!(TextLuminance::default()
            .finish::<3>(&[], 0.05, 0.95)
            .is_none());
    }
}
