//! Sharpness: the standard deviation of the 3x3 Laplacian of L over the interior pixels.
//!
//! Laplacian(x, y) = L(x-1, y) + L(x+1, y) + L(x, y-1) + L(x, y+1) - 4 L(x, y), the 4-neighbour
//! kernel [[0, 1, 0], [1, -4, 1], [0, 1, 0]]. Only pixels with all four neighbours inside the
//! image count (no padding): a blurry image has a narrow spread of Laplacian values.

use crate::luminance::SCALE;

/// Interior pixels per inner run: keeps the u64 sum of squares of one run from overflowing
/// (|Laplacian| < 4 x 2550000, so a square is below 1.05e14).
const RUN: usize = 65_536;

/// The Laplacian's running sums, fed one interior row (with its neighbours) at a time.
#[derive(Debug, Default)]
pub struct Laplacian {
    sum: i128,
    squares: u128,
    count: u64,
}

impl Laplacian {
    /// Adds the Laplacian of the interior pixels of row `mid`, given the rows around it.
    pub fn add_row(&mut self, up: &[u32], mid: &[u32], down: &[u32]) {
        let width = mid.len();
        let mut start = 1;
        while start + 1 < width {
            let end = (start + RUN).min(width - 1);
            let (mut sum, mut squares) = (0i64, 0u64);
            // |Laplacian| < 4 x 2550000 fits an i32; its square needs 64 bits.
            for x in start..end {
                let lap = (up[x] + down[x] + mid[x - 1] + mid[x + 1]) as i32 - 4 * mid[x] as i32;
                sum += lap as i64;
                squares += (lap as i64 * lap as i64) as u64;
            }
            self.sum += sum as i128;
            self.squares += squares as u128;
            self.count += (end - start) as u64;
            start = end;
        }
    }

    /// Standard deviation in luminance units; 0 when no interior pixel was added (images
    /// narrower or shorter than 3).
    pub fn std_dev(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let n = self.count as i128;
        let exact = n * self.squares as i128 - self.sum * self.sum;
        (exact as f64 / (n as f64 * n as f64)).sqrt() / SCALE as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Standard deviation of the Laplacian of a `width`-wide image of scaled luminance.
    fn sharpness(values: &[u32], width: usize) -> f64 {
        let mut laplacian = Laplacian::default();
        let rows: Vec<&[u32]> = values.chunks_exact(width.max(1)).collect();
        for window in rows.windows(3) {
            laplacian.add_row(window[0], window[1], window[2]);
        }
        laplacian.std_dev()
    }

    #[test]
    fn flat_and_linear_images_have_none() {
        assert_eq!(sharpness(&[50_000; 16], 4), 0.0);
        let ramp: Vec<u32> = (0..5).flat_map(|_| (0..5).map(|x| x * 10_000)).collect();
        assert_eq!(sharpness(&ramp, 5), 0.0);
    }

    #[test]
    fn too_small_for_an_interior() {
        assert_eq!(sharpness(&[0, 100, 0, 100], 2), 0.0);
        assert_eq!(sharpness(&[0, 100, 0, 100, 0, 100], 6), 0.0);
    }

    #[test]
    fn one_bright_dot() {
        // 5x5, a dot of 1.0 in the middle: interior Laplacians are -4 at the dot, +1 at its
        // four neighbours, 0 at the four corners of the interior.
        let mut values = vec![0u32; 25];
        values[12] = SCALE;
        let values_lap = [-4.0f64, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let mean = values_lap.iter().sum::<f64>() / 9.0;
        let var = values_lap.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 9.0;
        assert!((sharpness(&values, 5) - var.sqrt()).abs() < 1e-12);
    }
}
