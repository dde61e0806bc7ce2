//! Sharpness: the standard deviation of the 3x3 Laplacian of L over the interior pixels.
//!
//! Laplacian(x, y) = L(x-1, y) + L(x+1, y) + L(x, y-1) + L(x, y+1) - 4 L(x, y), the 4-neighbour
//! kernel [[0, 1, 0], [1, -4, 1], [0, 1, 0]]. Only pixels with all four neighbours inside the
//! image count (no padding): a blurry image has a narrow spread of Laplacian values.

use crate::luminance::SCALE;

/// Interior pixels per inner run: keeps the u64 sum of squares of one run from overflowing
/// (|Laplacian| < 4 x 2550000, so a square is below 1.05e14).
const RUN: usize = 65_536;

/// Standard deviation of the Laplacian, in luminance units, of a `width`-wide image of scaled
/// luminance `values` (row-major); 0 when it has no interior pixel (narrower or shorter than 3).
pub fn laplacian_std_dev(values: &[u32], width: usize) -> f64 {
    let height = values.len() / width.max(1);
    if width < 3 || height < 3 {
        return 0.0;
    }
    let (mut total, mut total_squares) = (0i128, 0u128);
    for y in 1..height - 1 {
        let up = &values[(y - 1) * width..y * width];
        let mid = &values[y * width..(y + 1) * width];
        let down = &values[(y + 1) * width..(y + 2) * width];
        let mut start = 1;
        while start < width - 1 {
            let end = (start + RUN).min(width - 1);
            let (mut sum, mut squares) = (0i64, 0u64);
            // |Laplacian| < 4 x 2550000 fits an i32; its square needs 64 bits.
            for x in start..end {
                let lap = (up[x] + down[x] + mid[x - 1] + mid[x + 1]) as i32 - 4 * mid[x] as i32;
                sum += lap as i64;
                squares += (lap as i64 * lap as i64) as u64;
            }
            total += sum as i128;
            total_squares += squares as u128;
            start = end;
        }
    }
    let n = ((width - 2) * (height - 2)) as i128;
    let exact = n * total_squares as i128 - total * total;
    (exact as f64 / (n as f64 * n as f64)).sqrt() / SCALE as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sharpness(values: &[u32], width: usize) -> f64 {
        laplacian_std_dev(values, width)
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
