//! From coefficients to eighth-scale pixels, as libjpeg produces them at scale 1/8:
//! each block's DC term through the 1x1 inverse DCT; chroma at half resolution both ways
//! (4:2:0) through libjpeg's 2x2 reduced inverse DCT instead, which lands it on the luma
//! grid; other chroma replicated (libjpeg turns fancy upsampling off at this scale); then
//! JFIF YCbCr to RGB in 16-bit fixed point.

use super::headers::{Component, Frame};
use super::scan::Plane;

/// libjpeg's range limit after an inverse DCT: a level-shifted sample clamps to 0..=255
/// inside -384..=383 and wraps every 1024 levels outside (only corrupt data gets there).
#[inline(always)]
fn range_limit(value: i64) -> u8 {
    match value & 1023 {
        m @ 0..=127 => (m + 128) as u8,
        128..=511 => 255,
        512..=895 => 0,
        m => (m - 896) as u8,
    }
}

/// `(value + half) >> bits`: fixed point to integer, rounding halves up.
#[inline(always)]
fn descale(value: i64, bits: u32) -> i64 {
    (value + (1 << (bits - 1))) >> bits
}

/// The 1x1 inverse DCT of T.81 A.3.3 at u = v = 0: the block mean is DC / 8 (C(0)^2 / 4 =
/// 1/8), rounded, level-shifted by 128.
#[inline(always)]
pub(super) fn dc_sample(quantised: i16, step: u16) -> u8 {
    range_limit(descale(i64::from(quantised) * i64::from(step), 3))
}

/// True when libjpeg decodes this component at scale 1/8 with its 2x2 inverse DCT: it
/// scales chroma up in the DCT rather than by upsampling when the subsampling is 2 both
/// ways.
pub(super) fn reduced_by_idct(frame: &Frame, component: &Component) -> bool {
    frame.components.len() == 3 && frame.h_max / component.h == 2 && frame.v_max / component.v == 2
}

/// Fixed-point bits of the reduced inverse DCT's constants, and the extra bits its first
/// pass keeps.
const IDCT_BITS: u32 = 13;
const PASS1_BITS: u32 = 2;
/// The odd basis functions summed at the two output points of the 2-point reduction, as
/// 13-bit fixed point: sqrt(2) times (c1 + c3 + c5 + c7), (-c1 + c3 - c5 - c7) ... for
/// the coefficients 1, 3, 5, 7 (c_k = cos(k pi / 16)).
const ODD_WEIGHTS: [(usize, i64); 4] = [(1, 29692), (3, -10426), (5, 6967), (7, -5906)];

/// The AC coefficients the 2x2 reduction reads: rows and columns 0, 1, 3, 5, 7.
const USED_AC: [usize; 24] = [
    1, 3, 5, 7, 8, 9, 11, 13, 15, 24, 25, 27, 29, 31, 40, 41, 43, 45, 47, 56, 57, 59, 61, 63,
];

/// The 2x2 reduced inverse DCT of one block (natural order) with its quantisation table:
/// a 2-point inverse DCT on columns 0, 1, 3, 5, 7 then on the two rows (the even
/// coefficients other than DC cancel at these points).
fn idct_2x2(block: &[i16; 64], table: &[u16; 64]) -> [[u8; 2]; 2] {
    if USED_AC.iter().all(|&i| block[i] == 0) {
        // A flat block (as most chroma blocks are): both passes reduce to the DC sample.
        return [[dc_sample(block[0], table[0]); 2]; 2];
    }
    let dequantised = |i: usize| i64::from(block[i]) * i64::from(table[i]);
    let mut work = [[0i64; 8]; 2];
    for column in [0, 1, 3, 5, 7] {
        let even = dequantised(column) << (IDCT_BITS + 2);
        let odd: i64 = ODD_WEIGHTS
            .iter()
            .map(|&(row, w)| dequantised(8 * row + column) * w)
            .sum();
        work[0][column] = i64::from(descale(even + odd, IDCT_BITS - PASS1_BITS + 2) as i32);
        work[1][column] = i64::from(descale(even - odd, IDCT_BITS - PASS1_BITS + 2) as i32);
    }
    work.map(|row| {
        let even = row[0] << (IDCT_BITS + 2);
        let odd: i64 = ODD_WEIGHTS.iter().map(|&(column, w)| row[column] * w).sum();
        let bits = IDCT_BITS + PASS1_BITS + 3 + 2;
        [
            range_limit(descale(even + odd, bits)),
            range_limit(descale(even - odd, bits)),
        ]
    })
}

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
pub(super) fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
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

/// One component's samples and how output pixels map onto them.
struct Samples {
    values: Vec<u8>,
    across: usize,
    /// Output pixels per sample, across and down.
    ratio: (usize, usize),
}

fn samples(frame: &Frame, component: &Component, plane: &Plane) -> Samples {
    let table = plane.quantisation.unwrap_or([1; 64]);
    if plane.stride == 1 {
        return Samples {
            values: plane
                .coefficients
                .iter()
                .map(|&dc| dc_sample(dc, table[0]))
                .collect(),
            across: plane.across,
            ratio: (frame.h_max / component.h, frame.v_max / component.v),
        };
    }
    let across = 2 * plane.across;
    let mut values = vec![0u8; plane.coefficients.len() / plane.stride * 4];
    let block_row = plane.across * plane.stride;
    for (rows, blocks) in values
        .chunks_exact_mut(2 * across)
        .zip(plane.coefficients.chunks_exact(block_row))
    {
        let (top, bottom) = rows.split_at_mut(across);
        for ((block, top), bottom) in blocks
            .chunks_exact(plane.stride)
            .zip(top.chunks_exact_mut(2))
            .zip(bottom.chunks_exact_mut(2))
        {
            let block: &[i16; 64] = block.try_into().unwrap_or(&[0; 64]);
            let [upper, lower] = idct_2x2(block, &table);
            top.copy_from_slice(&upper);
            bottom.copy_from_slice(&lower);
        }
    }
    Samples {
        values,
        across,
        ratio: (1, 1),
    }
}

/// Renders the eighth-scale image: 1 channel (grey) or 3 (RGB), row-major.
pub(super) fn render(frame: &Frame, planes: &[Plane], width: usize, height: usize) -> Vec<u8> {
    let grids: Vec<Samples> = frame
        .components
        .iter()
        .zip(planes)
        .map(|(c, p)| samples(frame, c, p))
        .collect();
    let channels = if planes.len() == 1 { 1 } else { 3 };
    let mut pixels = vec![0u8; width * height * channels];
    for (y, row) in pixels.chunks_exact_mut(width * channels).enumerate() {
        let rows: Vec<&[u8]> = grids
            .iter()
            .map(|grid| {
                let start = (y / grid.ratio.1) * grid.across;
                &grid.values[start..start + grid.across]
            })
            .collect();
        if channels == 1 {
            row.copy_from_slice(&rows[0][..width]);
            continue;
        }
        // Ratios are 1 or 2: a shift, not a division, per pixel.
        let [s0, s1, s2] = [0, 1, 2].map(|c| grids[c].ratio.0.trailing_zeros());
        for (x, pixel) in row.chunks_exact_mut(3).enumerate() {
            pixel.copy_from_slice(&ycbcr_to_rgb(
                rows[0][x >> s0],
                rows[1][x >> s1],
                rows[2][x >> s2],
            ));
        }
    }
    pixels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dc_sample_is_the_rounded_block_mean_plus_128() {
        let cases: [(i16, u16, u8); 8] = [
            (0, 16, 128),
            (1, 16, 130),
            (-1, 16, 126),
            (100, 8, 228),
            (300, 8, 255),  // clamps
            (-300, 8, 0),   // clamps
            (1000, 8, 104), // wraps, as libjpeg's range-limit table does
            (1, 4, 129),    // 4 / 8 = 0.5 rounds up
        ];
        for (dc, step, expected) in cases {
            assert_eq!(dc_sample(dc, step), expected, "{dc} x {step}");
        }
    }

    #[test]
    fn reduced_idct_of_a_flat_block_is_its_dc_sample() {
        let mut block = [0i16; 64];
        let table = [2u16; 64];
        for dc in [-64i16, -3, 0, 5, 63] {
            block[0] = dc;
            let flat = dc_sample(dc, 2);
            assert_eq!(idct_2x2(&block, &table), [[flat; 2]; 2], "{dc}");
        }
    }

    #[test]
    fn reduced_idct_splits_a_horizontal_ramp_left_and_right() {
        let mut block = [0i16; 64];
        block[1] = 10; // the first horizontal cosine: left half brighter than the right
        let [top, bottom] = idct_2x2(&block, &[8; 64]);
        assert_eq!(top, bottom);
        assert!(top[0] > 128 && top[1] < 128 && u16::from(top[0]) + u16::from(top[1]) == 256);
    }

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
}
