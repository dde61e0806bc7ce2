//! Relative luminance as WCAG 2.x defines it (linearised sRGB, Rec. 709 primaries), for the
//! readable-text advice: its mean and the percentiles that text over a busy image sits on.
//!
//! Each pixel's relative luminance Y is the sum of three table look-ups (the channel's
//! linearised value times its weight), counted into 65,536 bins of Y rounded to 1/65,535;
//! percentiles are read off the bins (so within 1/131,070 of the exact value), the mean is
//! the exact sum. Alpha is ignored, as it is by the brightness statistics.

use crate::quantiles::percentile_ranks;

/// Bins of the relative-luminance histogram: Y rounded to a multiple of 1 / (BINS - 1).
pub const BINS: usize = 1 << 16;

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

/// Per channel, the weighted linear value of every 8-bit value; grey uses the sum of all three.
struct Tables {
    rgb: [[f32; 256]; 3],
    grey: [f32; 256],
}

fn tables() -> &'static Tables {
    static TABLES: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let mut t = Tables {
            rgb: [[0.0; 256]; 3],
            grey: [0.0; 256],
        };
        for v in 0..=255u8 {
            let lin = linearise(v);
            for (c, weight) in WEIGHTS.iter().enumerate() {
                t.rgb[c][v as usize] = (weight * lin) as f32;
            }
            // The weights sum to 1: a grey's luminance is its linear value.
            t.grey[v as usize] = lin as f32;
        }
        t
    })
}

/// Accumulates the relative luminance of pixels, row by row.
pub struct TextLuminance {
    histogram: Box<[u32; BINS]>,
    sum: f64,
    count: u64,
}

impl Default for TextLuminance {
    fn default() -> Self {
        Self {
            histogram: vec![0u32; BINS].into_boxed_slice().try_into().unwrap(),
            sum: 0.0,
            count: 0,
        }
    }
}

/// The relative luminance statistics of a region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextStatistics {
    pub mean: f64,
    /// Percentiles at `LOW_PERCENTILE` and `HIGH_PERCENTILE` (the darkest and brightest
    /// patches text may sit on), linear interpolation between ranks.
    pub p5: f64,
    pub p95: f64,
}

impl TextLuminance {
    /// Counts one row of `C`-byte pixels (1 or 2: grey (+ alpha), 3 or 4: RGB (+ alpha)).
    #[inline]
    pub fn add_row<const C: usize>(&mut self, row: &[u8]) {
        let t = tables();
        let scale = (BINS - 1) as f32;
        let mut row_sum = 0.0f64;
        for px in row.chunks_exact(C) {
            let y = if C < 3 {
                t.grey[px[0] as usize]
            } else {
                t.rgb[0][px[0] as usize] + t.rgb[1][px[1] as usize] + t.rgb[2][px[2] as usize]
            };
            row_sum += y as f64;
            let bin = (y * scale + 0.5) as usize;
            self.histogram[bin.min(BINS - 1)] += 1;
        }
        self.sum += row_sum;
        self.count += (row.len() / C) as u64;
    }

    /// The statistics; None when no pixel was counted.
    pub fn finish(&self, low: f64, high: f64) -> Option<TextStatistics> {
        if self.count == 0 {
            return None;
        }
        Some(TextStatistics {
            mean: self.sum / self.count as f64,
            p5: self.percentile(low),
            p95: self.percentile(high),
        })
    }

    fn percentile(&self, q: f64) -> f64 {
        let (low, high, weight) = percentile_ranks(self.count, q);
        let (a, b) = (self.value_at(low), self.value_at(high));
        a + (b - a) * weight
    }

    /// The value of 0-based rank `rank` (rank < count).
    fn value_at(&self, rank: u64) -> f64 {
        let mut seen = 0u64;
        for (bin, &n) in self.histogram.iter().enumerate() {
            seen += n as u64;
            if seen > rank {
                return bin as f64 / (BINS - 1) as f64;
            }
        }
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats<const C: usize>(pixels: &[u8]) -> TextStatistics {
        let mut acc = TextLuminance::default();
        acc.add_row::<C>(pixels);
        acc.finish(0.05, 0.95).unwrap()
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
    fn an_empty_accumulator_has_no_statistics() {
        assert!(TextLuminance::default().finish(0.05, 0.95).is_none());
    }
}
