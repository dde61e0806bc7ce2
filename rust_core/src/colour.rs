//! Colour statistics: average colour, Hasler and Süsstrunk's colorfulness, dominant colours,
//! and the average colour of each edge strip. Fully transparent pixels carry no colour and
//! are skipped here (luminance statistics keep every pixel, as the contract's fields always
//! have).

use crate::edges::Strips;

/// Bits kept per channel for the dominant-colour histogram (16 levels per channel).
pub const QUANT_BITS: u32 = 4;
const QUANT_LEVELS: usize = 1 << QUANT_BITS;
const QUANT_BINS: usize = QUANT_LEVELS * QUANT_LEVELS * QUANT_LEVELS;
/// How many dominant colours are reported at most.
pub const MAX_DOMINANT: usize = 5;

/// Channel sums and a pixel count: an average colour in the making.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ColourSum {
    pub count: u64,
    pub rgb: [u64; 3],
}

impl ColourSum {
    #[inline(always)]
    fn add(&mut self, r: u8, g: u8, b: u8) {
        self.count += 1;
        self.rgb[0] += r as u64;
        self.rgb[1] += g as u64;
        self.rgb[2] += b as u64;
    }

    fn merge(&mut self, other: &ColourSum) {
        self.count += other.count;
        for (total, part) in self.rgb.iter_mut().zip(other.rgb) {
            *total += part;
        }
    }

    /// The mean colour, each channel rounded half to even (as Python's `round`); None when
    /// no pixel was counted.
    pub fn mean(&self) -> Option<[u8; 3]> {
        (self.count > 0).then(|| self.rgb.map(|sum| round_half_even(sum, self.count)))
    }
}

/// sum / n rounded to the nearest integer, ties to even.
pub fn round_half_even(sum: u64, n: u64) -> u8 {
    let (quotient, remainder) = (sum / n, sum % n);
    let up = 2 * remainder > n || (2 * remainder == n && quotient % 2 == 1);
    (quotient + up as u64) as u8
}

/// `#rrggbb`.
pub fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

/// One dominant colour: the mean of the pixels of a cluster of quantised bins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DominantColour {
    pub rgb: [u8; 3],
    pub count: u64,
}

/// One quantised bin while the pass runs: 32-bit sums (16 bytes, so the 4096 bins stay
/// small enough for the cache), folded into 64-bit totals before they could overflow.
#[derive(Debug, Clone, Copy, Default)]
struct PassBin {
    count: u32,
    rgb: [u32; 3],
}

/// Pixels a bin's 32-bit channel sum can take before it might overflow (255 x this < 2^32).
const FOLD_EVERY: u64 = 16_000_000;

/// Everything the colour pass accumulates. Channel totals (and so the means of rg and yb)
/// come from the bins; only the squares need a per-pixel sum of their own.
pub struct ColourAccumulator {
    /// Sums of rg² (rg = R - G) and of (2·yb)² (2·yb = R + G - 2B, doubled to stay integer).
    squares: (u64, u64),
    pass_bins: Vec<PassBin>,
    since_fold: u64,
    bins: Vec<ColourSum>,
    /// The strips of `SIDES`, in its order (full length, see `edge_colours`).
    pub sides: [ColourSum; 4],
}

/// The names of the edge strips whose average colours are kept, in the order of `sides`.
pub const SIDES: [&str; 4] = ["left", "right", "top", "bottom"];

impl Default for ColourAccumulator {
    fn default() -> Self {
        Self {
            squares: (0, 0),
            pass_bins: vec![PassBin::default(); QUANT_BINS],
            since_fold: 0,
            bins: vec![ColourSum::default(); QUANT_BINS],
            sides: [ColourSum::default(); 4],
        }
    }
}

/// Reads the colour and opacity of one pixel of `C` bytes.
#[inline(always)]
fn colour<const C: usize>(px: &[u8]) -> (u8, u8, u8, bool) {
    match C {
        1 => (px[0], px[0], px[0], true),
        2 => (px[0], px[0], px[0], px[1] != 0),
        3 => (px[0], px[1], px[2], true),
        _ => (px[0], px[1], px[2], px[3] != 0),
    }
}

impl ColourAccumulator {
    /// Adds row `y` of `C`-byte pixels.
    pub fn add_row<const C: usize>(&mut self, row: &[u8], y: usize, strips: &Strips) {
        if self.since_fold + (row.len() / C) as u64 > FOLD_EVERY {
            self.fold();
        }
        self.since_fold += (row.len() / C) as u64;
        // The sums of squares in a loop of their own, without a branch (a transparent pixel
        // adds 0), so that it vectorises; the scattered bin increments follow.
        let (mut rg_sq, mut yb_sq) = (0u64, 0u64);
        for px in row.chunks_exact(C) {
            let (r, g, b, opaque) = colour::<C>(px);
            let keep = opaque as i32;
            let rg = (r as i32 - g as i32) * keep;
            let yb2 = (r as i32 + g as i32 - 2 * b as i32) * keep;
            rg_sq += (rg * rg) as u64;
            yb_sq += (yb2 * yb2) as u64;
        }
        for px in row.chunks_exact(C) {
            let (r, g, b, opaque) = colour::<C>(px);
            if !opaque {
                continue;
            }
            let bin = &mut self.pass_bins
                [((r as usize >> 4) << 8) | ((g as usize >> 4) << 4) | (b as usize >> 4)];
            bin.count += 1;
            bin.rgb[0] += r as u32;
            bin.rgb[1] += g as u32;
            bin.rgb[2] += b as u32;
        }
        self.squares.0 += rg_sq;
        self.squares.1 += yb_sq;

        let side = strips.side * C;
        self.sides[0].merge(&strip_sum::<C>(&row[..side]));
        self.sides[1].merge(&strip_sum::<C>(&row[row.len() - side..]));
        let (top, bottom) = (y < strips.band, y + strips.band >= strips.height);
        if top || bottom {
            let whole = strip_sum::<C>(row);
            if top {
                self.sides[2].merge(&whole);
            }
            if bottom {
                self.sides[3].merge(&whole);
            }
        }
    }

    /// Moves the 32-bit pass sums into the 64-bit bins.
    fn fold(&mut self) {
        for (total, pass) in self.bins.iter_mut().zip(self.pass_bins.iter_mut()) {
            total.count += pass.count as u64;
            for (t, p) in total.rgb.iter_mut().zip(pass.rgb) {
                *t += p as u64;
            }
            *pass = PassBin::default();
        }
        self.since_fold = 0;
    }

    /// Ends the pass: folds what is left; returns the colour sum of every opaque pixel.
    pub fn finish(&mut self) -> ColourSum {
        self.fold();
        let mut total = ColourSum::default();
        for bin in &self.bins {
            total.merge(bin);
        }
        total
    }

    /// Hasler and Süsstrunk (2003): sqrt(σ_rg² + σ_yb²) + 0.3 · sqrt(μ_rg² + μ_yb²), over the
    /// opaque pixels (`total`, from `finish`); None when there are none.
    pub fn colorfulness(&self, total: &ColourSum) -> Option<f64> {
        let n = total.count;
        if n == 0 {
            return None;
        }
        let [r, g, b] = total.rgb.map(|sum| sum as i128);
        let (rg_sum, yb2_sum) = (r - g, r + g - 2 * b);
        let nf = n as f64;
        let variance = |sum: i128, squares: u64| {
            let exact = n as i128 * squares as i128 - sum * sum;
            exact as f64 / (nf * nf)
        };
        let (mean_rg, mean_yb) = (rg_sum as f64 / nf, yb2_sum as f64 / nf / 2.0);
        let var_rg = variance(rg_sum, self.squares.0);
        let var_yb = variance(yb2_sum, self.squares.1) / 4.0;
        Some((var_rg + var_yb).sqrt() + 0.3 * (mean_rg * mean_rg + mean_yb * mean_yb).sqrt())
    }

    /// Up to `MAX_DOMINANT` colours, most common first. Non-empty 4-bit-per-channel bins are
    /// visited from the most to the least populated (ties: lower bin index first); a bin
    /// joins the first cluster whose seed bin is its neighbour (at most one level away on
    /// every channel), else it seeds a new cluster. Each colour is its cluster's mean.
    pub fn dominant_colours(&self) -> Vec<DominantColour> {
        let mut order: Vec<usize> = (0..QUANT_BINS)
            .filter(|&i| self.bins[i].count > 0)
            .collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(self.bins[i].count), i));
        // Cluster index (+1) of each seed bin, so a bin finds "the first cluster whose seed is
        // its neighbour" by looking at its 27 neighbouring bins, not at every cluster.
        let mut seed_of_bin = vec![0u32; QUANT_BINS];
        let mut clusters: Vec<ColourSum> = Vec::new();
        for bin in order {
            let first_neighbour_seed = neighbourhood(bin)
                .filter_map(|other| seed_of_bin[other].checked_sub(1))
                .min();
            match first_neighbour_seed {
                Some(cluster) => clusters[cluster as usize].merge(&self.bins[bin]),
                None => {
                    clusters.push(self.bins[bin]);
                    seed_of_bin[bin] = clusters.len() as u32;
                }
            }
        }
        // Stable: equal counts keep the order in which the clusters were seeded.
        clusters.sort_by_key(|sum| std::cmp::Reverse(sum.count));
        clusters
            .iter()
            .take(MAX_DOMINANT)
            .filter_map(|sum| {
                sum.mean().map(|rgb| DominantColour {
                    rgb,
                    count: sum.count,
                })
            })
            .collect()
    }
}

fn strip_sum<const C: usize>(pixels: &[u8]) -> ColourSum {
    let mut sum = ColourSum::default();
    for px in pixels.chunks_exact(C) {
        let (r, g, b, opaque) = colour::<C>(px);
        if opaque {
            sum.add(r, g, b);
        }
    }
    sum
}

/// The bins at most one level away from `bin` on every channel (itself included).
fn neighbourhood(bin: usize) -> impl Iterator<Item = usize> {
    let level = |shift: u32| ((bin >> shift) & (QUANT_LEVELS - 1)) as i32;
    let (r, g, b) = (level(8), level(4), level(0));
    let near = |value: i32| (value - 1).max(0)..=(value + 1).min(QUANT_LEVELS as i32 - 1);
    near(r).flat_map(move |r2| {
        near(g).flat_map(move |g2| near(b).map(move |b2| ((r2 << 8) | (g2 << 4) | b2) as usize))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_ties_to_even() {
        let cases = [
            (5, 2, 2),
            (7, 2, 4),
            (1, 3, 0),
            (2, 3, 1),
            (510, 2, 255),
            (3, 2, 2),
        ];
        for (sum, n, expected) in cases {
            assert_eq!(round_half_even(sum, n), expected, "{sum}/{n}");
        }
    }

    #[test]
    fn hex_format() {
        assert_eq!(hex([0, 15, 255]), "#000fff");
    }

    fn accumulate<const C: usize>(pixels: &[u8], width: usize, height: usize) -> ColourAccumulator {
        let strips = Strips::new(width, height);
        let mut acc = ColourAccumulator::default();
        for (y, row) in pixels.chunks_exact(width * C).enumerate() {
            acc.add_row::<C>(row, y, &strips);
        }
        acc
    }

    #[test]
    fn grey_has_no_colour() {
        let mut acc = accumulate::<1>(&[10, 200, 30, 90], 2, 2);
        let total = acc.finish();
        assert_eq!(acc.colorfulness(&total), Some(0.0));
        assert_eq!(total.mean(), Some([82, 82, 82])); // 330 / 4 = 82.5: ties to even
    }

    #[test]
    fn transparent_pixels_carry_no_colour() {
        let rgba = [255, 0, 0, 255, 0, 0, 255, 0];
        let mut acc = accumulate::<4>(&rgba, 2, 1);
        let total = acc.finish();
        assert_eq!(total.count, 1);
        assert_eq!(total.mean(), Some([255, 0, 0]));
        assert_eq!(acc.sides[1].mean(), None); // the right strip is the transparent pixel
        assert_eq!(
            acc.dominant_colours(),
            vec![DominantColour {
                rgb: [255, 0, 0],
                count: 1
            }]
        );
    }

    #[test]
    fn pure_red_colorfulness() {
        // rg = 255, yb = 127.5 everywhere: no spread, so 0.3 · sqrt(255² + 127.5²).
        let mut acc = accumulate::<3>(&[255, 0, 0, 255, 0, 0], 2, 1);
        let total = acc.finish();
        let expected = 0.3 * (255.0f64 * 255.0 + 127.5 * 127.5).sqrt();
        assert!((acc.colorfulness(&total).unwrap() - expected).abs() < 1e-9);
    }

    #[test]
    fn neighbouring_bins_merge() {
        // Three shades of blue in adjacent bins, and one red far away.
        let mut pixels = Vec::new();
        for _ in 0..5 {
            pixels.extend([0, 0, 200]);
        }
        for _ in 0..3 {
            pixels.extend([0, 0, 215]);
        }
        for _ in 0..2 {
            pixels.extend([250, 10, 10]);
        }
        let mut acc = accumulate::<3>(&pixels, 10, 1);
        acc.finish();
        let dominant = acc.dominant_colours();
        assert_eq!(dominant.len(), 2);
        assert_eq!(dominant[0].count, 8);
        assert_eq!(
            dominant[0].rgb,
            [0, 0, round_half_even(5 * 200 + 3 * 215, 8)]
        );
        assert_eq!(
            dominant[1],
            DominantColour {
                rgb: [250, 10, 10],
                count: 2
            }
        );
    }

    #[test]
    fn sides() {
        // 10 x 2: left column red, right column blue, the rest green.
        let (w, h) = (10, 2);
        let mut pixels = Vec::new();
        for _ in 0..h {
            for x in 0..w {
                pixels.extend(match x {
                    0 => [255, 0, 0],
                    9 => [0, 0, 255],
                    _ => [0, 255, 0],
                });
            }
        }
        let acc = accumulate::<3>(&pixels, w, h);
        assert_eq!(acc.sides[0].mean(), Some([255, 0, 0]));
        assert_eq!(acc.sides[1].mean(), Some([0, 0, 255]));
        assert_eq!(acc.sides[2].count, 10); // the top row, full width
        assert_eq!(acc.sides[3].count, 10);
    }
}
