//! From sample planes to pixels, as libjpeg-turbo 2.1 produces them: each component's
//! samples upsampled to the output grid by the method `geometry` chose for it (the
//! triangle filters of jdsample.c, or plain repetition), the image's edges repeated
//! outward as jdmainct.c repeats them, then YCbCr to RGB in libjpeg's fixed point
//! (jdcolor.c), or RGB and grey as they are.

use super::geometry::{ComponentGeometry, Geometry, Upsample};
use super::scratch::{self, BYTES};
use crate::error::CoreError;

/// Bits of fraction in the colour conversion's fixed point.
const SCALE_BITS: u32 = 16;
const HALF: i32 = 1 << (SCALE_BITS - 1);

/// `value` in 16.16 fixed point, rounded.
const fn fixed(value: f64) -> i32 {
    (value * (1 << SCALE_BITS) as f64 + 0.5) as i32
}

/// JFIF's YCbCr to RGB factors: R = Y + 1.402 Cr', G = Y - 0.34414 Cb' - 0.71414 Cr',
/// B = Y + 1.772 Cb', with Cb' = Cb - 128 and Cr' = Cr - 128.
const CR_TO_R: i32 = fixed(1.402);
const CB_TO_G: i32 = fixed(0.34414);
const CR_TO_G: i32 = fixed(0.71414);
const CB_TO_B: i32 = fixed(1.772);

/// One pixel's RGB, rounded as libjpeg rounds (each term separately for R and B).
#[inline(always)]
pub(crate) fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
    let r = y + ((CR_TO_R * cr + HALF) >> SCALE_BITS);
    let g = y + ((-CB_TO_G * cb - CR_TO_G * cr + HALF) >> SCALE_BITS);
    let b = y + ((CB_TO_B * cb + HALF) >> SCALE_BITS);
    [
        r.clamp(0, 255) as u8,
        g.clamp(0, 255) as u8,
        b.clamp(0, 255) as u8,
    ]
}

/// How the three components of a colour JPEG are to be read (libjpeg's guess).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Colour {
    Grey,
    YCbCr,
    Rgb,
}

/// A component's samples: `stride` wide, meaningful up to its geometry's size.
pub(super) struct SamplePlane<'a> {
    pub samples: &'a [u8],
    pub stride: usize,
    pub geometry: ComponentGeometry,
}

impl SamplePlane<'_> {
    /// Sample row `row`, clamped into the plane's meaningful rows, as libjpeg repeats the
    /// first and last rows outward for the vertical filters.
    #[inline(always)]
    fn row(&self, row: isize) -> &[u8] {
        let last = self.geometry.height.saturating_sub(1) as isize;
        let row = row.clamp(0, last) as usize;
        &self.samples[row * self.stride..row * self.stride + self.geometry.width]
    }
}

/// Renders the output image: 1 channel (grey) or 3 (RGB), row-major.
pub(super) fn render(
    geometry: &Geometry,
    planes: &[SamplePlane<'_>],
    colour: Colour,
) -> Result<Vec<u8>, CoreError> {
    let width = geometry.width;
    let channels = if colour == Colour::Grey { 1 } else { 3 };
    let mut pixels = scratch::take(&BYTES, width * geometry.height * channels)?;
    // One upsampled row per component, a little wider than the output: upsampling
    // writes whole input groups.
    let mut rows: Vec<Vec<u8>> = planes.iter().map(|_| vec![0u8; 4 * (width + 8)]).collect();
    let mut sums = vec![0u16; width + 8];
    for (y, out) in pixels.chunks_exact_mut(width * channels).enumerate() {
        for (plane, row) in planes.iter().zip(&mut rows) {
            upsample_row(plane, y, row, &mut sums);
        }
        match colour {
            Colour::Grey => out.copy_from_slice(&rows[0][..width]),
            Colour::YCbCr => {
                let (luma, chroma) = (&rows[0][..width], (&rows[1][..width], &rows[2][..width]));
                for (((pixel, &y), &cb), &cr) in out
                    .chunks_exact_mut(3)
                    .zip(luma)
                    .zip(chroma.0)
                    .zip(chroma.1)
                {
                    pixel.copy_from_slice(&ycbcr_to_rgb(y, cb, cr));
                }
            }
            Colour::Rgb => {
                for (((pixel, &r), &g), &b) in out
                    .chunks_exact_mut(3)
                    .zip(&rows[0][..width])
                    .zip(&rows[1][..width])
                    .zip(&rows[2][..width])
                {
                    pixel.copy_from_slice(&[r, g, b]);
                }
            }
        }
    }
    Ok(pixels)
}

/// Output row `y` of one component into `out` (at least the output width).
fn upsample_row(plane: &SamplePlane<'_>, y: usize, out: &mut [u8], sums: &mut [u16]) {
    let width = plane.geometry.width;
    let y = y as isize;
    match plane.geometry.upsample {
        Upsample::None => out[..width].copy_from_slice(plane.row(y)),
        Upsample::Repeat { across, down } => {
            let row = plane.row(y / down as isize);
            if across == 1 {
                out[..width].copy_from_slice(row);
            } else {
                for (group, &sample) in out.chunks_exact_mut(across).zip(row) {
                    group.fill(sample);
                }
            }
        }
        Upsample::FancyAcross => fancy_across(plane.row(y), out),
        Upsample::FancyDown => {
            let (nearer, farther, bias) = vertical_pair(plane, y);
            for ((sample, &a), &b) in out.iter_mut().zip(nearer).zip(farther) {
                *sample = ((3 * u16::from(a) + u16::from(b) + bias) >> 2) as u8;
            }
        }
        Upsample::FancyBoth => {
            let (nearer, farther, _) = vertical_pair(plane, y);
            for ((sum, &a), &b) in sums.iter_mut().zip(nearer).zip(farther) {
                *sum = 3 * u16::from(a) + u16::from(b);
            }
            fancy_across_sums(&sums[..width], out);
        }
    }
}

/// For output row `y` of a component upsampled twice down: its nearer sample row, the
/// farther one (above for even rows, below for odd ones) and the rounding bias libjpeg
/// adds to the even and odd rows' triangle filter.
#[inline(always)]
fn vertical_pair<'a>(plane: &'a SamplePlane<'_>, y: isize) -> (&'a [u8], &'a [u8], u16) {
    let row = y / 2;
    if y % 2 == 0 {
        (plane.row(row), plane.row(row - 1), 1)
    } else {
        (plane.row(row), plane.row(row + 1), 2)
    }
}

/// h2v1 fancy upsampling of one row (more than two samples): each sample becomes two,
/// 3/4 of itself and 1/4 of its neighbour on that side; the ends keep themselves.
fn fancy_across(row: &[u8], out: &mut [u8]) {
    let n = row.len();
    let at = |i: usize| u16::from(row[i]);
    out[0] = row[0];
    out[1] = ((at(0) * 3 + at(1) + 2) >> 2) as u8;
    for i in 1..n - 1 {
        let nearer = at(i) * 3;
        out[2 * i] = ((nearer + at(i - 1) + 1) >> 2) as u8;
        out[2 * i + 1] = ((nearer + at(i + 1) + 2) >> 2) as u8;
    }
    out[2 * n - 2] = ((at(n - 1) * 3 + at(n - 2) + 1) >> 2) as u8;
    out[2 * n - 1] = row[n - 1];
}

/// The horizontal half of h2v2 fancy upsampling, on column sums (3 x nearer row +
/// farther row) of more than two columns.
fn fancy_across_sums(sums: &[u16], out: &mut [u8]) {
    let n = sums.len();
    out[0] = ((sums[0] * 4 + 8) >> 4) as u8;
    out[1] = ((sums[0] * 3 + sums[1] + 7) >> 4) as u8;
    // The inner columns LANES at a time, in fixed-size arrays the compiler vectorises
    // (the row loop is a tenth of a full-scale decode otherwise); the rest one by one.
    const LANES: usize = 16;
    let inner = n - 2;
    let mut i = 1;
    for (pairs, window) in out[2..2 + 2 * (inner - inner % LANES)]
        .chunks_exact_mut(2 * LANES)
        .zip(sums.windows(LANES + 2).step_by(LANES))
    {
        let (mut even, mut odd) = ([0u8; LANES], [0u8; LANES]);
        for lane in 0..LANES {
            let nearer = window[lane + 1] * 3;
            even[lane] = ((nearer + window[lane] + 8) >> 4) as u8;
            odd[lane] = ((nearer + window[lane + 2] + 7) >> 4) as u8;
        }
        for lane in 0..LANES {
            pairs[2 * lane] = even[lane];
            pairs[2 * lane + 1] = odd[lane];
        }
        i += LANES;
    }
    for i in i..n - 1 {
        let nearer = sums[i] * 3;
        out[2 * i] = ((nearer + sums[i - 1] + 8) >> 4) as u8;
        out[2 * i + 1] = ((nearer + sums[i + 1] + 7) >> 4) as u8;
    }
    out[2 * n - 2] = ((sums[n - 1] * 3 + sums[n - 2] + 8) >> 4) as u8;
    out[2 * n - 1] = ((sums[n - 1] * 4 + 7) >> 4) as u8;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_ycbcr_like_jfif() {
        let cases = [
            ((128, 128, 128), [128, 128, 128]),
            ((0, 128, 128), [0, 0, 0]),
            ((255, 128, 128), [255, 255, 255]),
            ((76, 85, 255), [254, 0, 0]),
            ((150, 44, 21), [0, 255, 1]),
            ((29, 255, 107), [0, 0, 254]),
        ];
        for ((y, cb, cr), expected) in cases {
            assert_eq!(ycbcr_to_rgb(y, cb, cr), expected, "{y} {cb} {cr}");
        }
    }

    #[test]
    fn the_row_filter_on_column_sums_equals_its_definition_at_every_width() {
        // Widths around the vectorised chunk (16 inner columns), sums up to 4 x 255.
        let mut seed = 7u32;
        for n in 3..=70 {
            let sums: Vec<u16> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    ((seed >> 16) % 1021) as u16
                })
                .collect();
            let mut out = vec![0u8; 2 * n];
            fancy_across_sums(&sums, &mut out);
            for i in 0..n {
                let (left, right) = (sums[i.saturating_sub(1)], sums[(i + 1).min(n - 1)]);
                assert_eq!(
                    out[2 * i],
                    ((3 * sums[i] + left + 8) >> 4) as u8,
                    "n {n}, {i} even"
                );
                assert_eq!(
                    out[2 * i + 1],
                    ((3 * sums[i] + right + 7) >> 4) as u8,
                    "n {n}, {i} odd"
                );
            }
        }
    }

    #[test]
    fn triangle_filters_weigh_the_nearer_sample_three_times() {
        let mut out = [0u8; 8];
        fancy_across(&[0, 100, 200, 40], &mut out);
        // 0 | 3/4*0+1/4*100 | 3/4*100+1/4*0 | ... with libjpeg's biases (1, then 2).
        assert_eq!(out, [0, 25, 75, 125, 175, 160, 80, 40]);
        let mut out = [0u8; 6];
        // Sums of 4 x 0, 4 x 100, 4 x 200: flat columns.
        fancy_across_sums(&[0, 400, 800], &mut out);
        assert_eq!(out, [0, 25, 75, 125, 175, 200]);
    }

    fn plane(samples: &[u8], width: usize, height: usize, upsample: Upsample) -> SamplePlane<'_> {
        SamplePlane {
            samples,
            stride: width,
            geometry: ComponentGeometry {
                samples: 1,
                width,
                height,
                upsample,
            },
        }
    }

    #[test]
    fn vertical_filters_repeat_the_first_and_last_rows() {
        let samples = [0, 0, 0, 80, 80, 80];
        let plane = plane(&samples, 3, 2, Upsample::FancyDown);
        let mut rows = [[0u8; 8]; 4];
        let mut sums = [0u16; 8];
        for (y, row) in rows.iter_mut().enumerate() {
            upsample_row(&plane, y, row, &mut sums);
        }
        // Row 0: above the first row is itself; row 3: below the last row is itself.
        assert_eq!(
            [rows[0][0], rows[1][0], rows[2][0], rows[3][0]],
            [0, 20, 60, 80]
        );
    }
}
