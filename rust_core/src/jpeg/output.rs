//! From coefficients to eighth-scale pixels, as libjpeg produces them at scale 1/8:
//! each block's DC term through the 1x1 inverse DCT; chroma at half resolution both ways
//! (4:2:0) through libjpeg's 2x2 reduced inverse DCT instead, which lands it on the luma
//! grid; other chroma replicated (libjpeg turns fancy upsampling off at this scale); then
//! JFIF YCbCr to RGB in 16-bit fixed point.

use super::headers::{Component, Frame};
use super::scan::{AcBlock, Plane, USED_AC, USED_MASK};
use super::scratch::{self, BYTES};
use crate::error::CoreError;

/// libjpeg's range limit after an inverse DCT: a level-shifted sample clamps to 0..=255
/// inside -384..=383 and wraps every 1024 levels outside (only corrupt data gets there).
#[inline(always)]
fn range_limit(value: i64) -> u8 {
    RANGE_LIMIT[(value & 1023) as usize]
}

/// `range_limit` as a table, indexed by the sample modulo 1024 (branches on the sample
/// would be unpredictable).
const RANGE_LIMIT: [u8; 1024] = {
    let mut table = [0u8; 1024];
    let mut m = 0;
    while m < 1024 {
        table[m] = match m {
            0..=127 => (m + 128) as u8,
            128..=511 => 255,
            512..=895 => 0,
            _ => (m - 896) as u8,
        };
        m += 1;
    }
    table
};

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

/// `dc_sample` of every DC term, in a loop that vectorises: inside -384..=383 libjpeg's
/// range limit is a clamp, and only corrupt data reaches past it (then the wrap is
/// computed block by block).
fn dc_samples(dcs: &[i16], step: u16) -> Result<Vec<u8>, CoreError> {
    let step = i32::from(step);
    let mut samples = scratch::take(&BYTES, dcs.len())?;
    let mut outside = false;
    for (sample, &dc) in samples.iter_mut().zip(dcs) {
        // |i16 x u16| < 2^31: no overflow.
        let level = (i32::from(dc) * step + 4) >> 3;
        outside |= !(-384..=383).contains(&level);
        *sample = (level + 128).clamp(0, 255) as u8;
    }
    if outside {
        for (sample, &dc) in samples.iter_mut().zip(dcs) {
            *sample = dc_sample(dc, step as u16);
        }
    }
    Ok(samples)
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

/// The kept slots of the lowest AC terms, natural positions 1 (row 0), 8 and 9 (row 1):
/// all most non-flat chroma blocks of photos have.
const LOWEST_SLOTS: (usize, usize, usize) = (0, 4, 5);
/// Their `AcBlock::nonzero` bits (zigzag positions 1, 2 and 4).
const LOWEST_MASK: u64 = 1 << 1 | 1 << 2 | 1 << 4;

/// The 2x2 reduced inverse DCT of one block, kept as its DC term and an `AcBlock`: a
/// 2-point inverse DCT on columns 0, 1, 3, 5, 7, then on the two rows (the even
/// coefficients other than DC cancel at these points).
fn idct_2x2(dc: i16, ac: &AcBlock, table: &[u16; 64]) -> [[u8; 2]; 2] {
    let used = ac.nonzero & USED_MASK;
    if used == 0 {
        // A flat block (as most chroma blocks are): both passes reduce to the DC sample.
        return [[dc_sample(dc, table[0]); 2]; 2];
    }
    let value = |slot: usize| i64::from(ac.values[slot]) * i64::from(table[USED_AC[slot]]);
    let dc = i64::from(dc) * i64::from(table[0]);
    let w1 = ODD_WEIGHTS[0].1;
    if used & !LOWEST_MASK == 0 {
        // Only the lowest terms: columns 3, 5, 7 and rows 3, 5, 7 are zero, and so are
        // their products (the same arithmetic, without the terms that are known zero).
        let (first, below_dc, below_first) = LOWEST_SLOTS;
        let (upper0, lower0) = idct_column(dc, value(below_dc) * w1);
        let (upper1, lower1) = idct_column(value(first), value(below_first) * w1);
        return [idct_row(upper0, upper1 * w1), idct_row(lower0, lower1 * w1)];
    }
    // The kept values are rows 0, 1, 3, 5, 7 of those columns, row by row (`USED_AC`):
    // row 0 has no DC, so column m's row-0 term is slot m - 1 and its odd rows are
    // slots 4 + m, 9 + m, 14 + m, 19 + m.
    let (mut upper, mut lower) = ([0i64; 5], [0i64; 5]);
    for (m, (upper, lower)) in upper.iter_mut().zip(&mut lower).enumerate() {
        let top = if m == 0 { dc } else { value(m - 1) };
        let odd: i64 = ODD_WEIGHTS
            .iter()
            .enumerate()
            .map(|(row, &(_, w))| value(4 + 5 * row + m) * w)
            .sum();
        (*upper, *lower) = idct_column(top, odd);
    }
    [upper, lower].map(|row| {
        let odd: i64 = ODD_WEIGHTS
            .iter()
            .enumerate()
            .map(|(column, &(_, w))| row[column + 1] * w)
            .sum();
        idct_row(row[0], odd)
    })
}

/// The first pass on one column: its top term and its weighted odd rows to the column's
/// two points, kept in a 32-bit workspace as libjpeg keeps them.
#[inline(always)]
fn idct_column(top: i64, odd: i64) -> (i64, i64) {
    let even = top << (IDCT_BITS + 2);
    let bits = IDCT_BITS - PASS1_BITS + 2;
    (
        i64::from(descale(even + odd, bits) as i32),
        i64::from(descale(even - odd, bits) as i32),
    )
}

/// The second pass on one row: its first point and its weighted odd points to two samples.
#[inline(always)]
fn idct_row(first: i64, odd: i64) -> [u8; 2] {
    let even = first << (IDCT_BITS + 2);
    let bits = IDCT_BITS + PASS1_BITS + 3 + 2;
    [
        range_limit(descale(even + odd, bits)),
        range_limit(descale(even - odd, bits)),
    ]
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

fn samples(frame: &Frame, component: &Component, plane: &Plane) -> Result<Samples, CoreError> {
    let table = plane.quantisation.unwrap_or([1; 64]);
    if plane.ac.is_empty() {
        return Ok(Samples {
            values: dc_samples(&plane.dc, table[0])?,
            across: plane.across,
            ratio: (frame.h_max / component.h, frame.v_max / component.v),
        });
    }
    let across = 2 * plane.across;
    let mut values = scratch::take(&BYTES, plane.dc.len() * 4)?;
    for ((rows, dcs), acs) in values
        .chunks_exact_mut(2 * across)
        .zip(plane.dc.chunks_exact(plane.across))
        .zip(plane.ac.chunks_exact(plane.across))
    {
        let (top, bottom) = rows.split_at_mut(across);
        for (((&dc, ac), top), bottom) in dcs
            .iter()
            .zip(acs)
            .zip(top.chunks_exact_mut(2))
            .zip(bottom.chunks_exact_mut(2))
        {
            let [upper, lower] = idct_2x2(dc, ac, &table);
            top.copy_from_slice(&upper);
            bottom.copy_from_slice(&lower);
        }
    }
    Ok(Samples {
        values,
        across,
        ratio: (1, 1),
    })
}

/// The samples of a component for output row `y`.
fn row_of(grid: &Samples, y: usize) -> &[u8] {
    let start = (y / grid.ratio.1) * grid.across;
    &grid.values[start..start + grid.across]
}

/// Renders the eighth-scale image: 1 channel (grey) or 3 (RGB), row-major.
pub(super) fn render(
    frame: &Frame,
    planes: &[Plane],
    width: usize,
    height: usize,
) -> Result<Vec<u8>, CoreError> {
    let grids = frame
        .components
        .iter()
        .zip(planes)
        .map(|(c, p)| samples(frame, c, p))
        .collect::<Result<Vec<Samples>, CoreError>>()?;
    let channels = grids.len().min(3);
    let mut pixels = scratch::take(&BYTES, width * height * channels)?;
    if let [grey] = grids.as_slice() {
        for (y, row) in pixels.chunks_exact_mut(width).enumerate() {
            row.copy_from_slice(&row_of(grey, y)[..width]);
        }
    } else {
        convert(&grids, &mut pixels, width);
    }
    for grid in grids {
        scratch::give(&BYTES, grid.values);
    }
    Ok(pixels)
}

/// YCbCr samples to RGB pixels, row by row.
fn convert(grids: &[Samples], pixels: &mut [u8], width: usize) {
    // Chroma at half resolution across (4:2:2, and 4:2:0 in no file libjpeg reduces by
    // the IDCT) is replicated into these rows first.
    let mut wide = [vec![0u8; width], vec![0u8; width]];
    for (y, row) in pixels.chunks_exact_mut(width * 3).enumerate() {
        let luma = &row_of(&grids[0], y)[..width];
        let mut chroma = [&[][..], &[][..]];
        for ((grid, wide), chroma) in grids[1..].iter().zip(&mut wide).zip(&mut chroma) {
            let samples = row_of(grid, y);
            *chroma = if grid.ratio.0 == 1 {
                &samples[..width]
            } else {
                for (pair, &sample) in wide.chunks_mut(2).zip(samples) {
                    pair.fill(sample);
                }
                &wide[..]
            };
        }
        for (((pixel, &y), &cb), &cr) in row
            .chunks_exact_mut(3)
            .zip(luma)
            .zip(chroma[0])
            .zip(chroma[1])
        {
            pixel.copy_from_slice(&ycbcr_to_rgb(y, cb, cr));
        }
    }
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
    fn plane_samples_equal_block_samples_in_and_out_of_range() {
        let dcs: Vec<i16> = (-32768..=32767).step_by(7).collect();
        for step in [1u16, 2, 8, 16, 99, 255, 65535] {
            let one_by_one: Vec<u8> = dcs.iter().map(|&dc| dc_sample(dc, step)).collect();
            assert_eq!(dc_samples(&dcs, step).unwrap(), one_by_one, "step {step}");
            let sane: Vec<i16> = dcs.iter().map(|&dc| dc.clamp(-20, 20)).collect();
            let one_by_one: Vec<u8> = sane.iter().map(|&dc| dc_sample(dc, step)).collect();
            assert_eq!(dc_samples(&sane, step).unwrap(), one_by_one, "step {step}");
        }
    }

    #[test]
    fn reduced_idct_of_a_flat_block_is_its_dc_sample() {
        let table = [2u16; 64];
        // Non-zero only where the reduction does not look (zigzag 3 is natural 16).
        let mut ignored = AcBlock::default();
        ignored.store_value(3, 40);
        for dc in [-64i16, -3, 0, 5, 63] {
            let flat = dc_sample(dc, 2);
            assert_eq!(
                idct_2x2(dc, &AcBlock::default(), &table),
                [[flat; 2]; 2],
                "{dc}"
            );
            assert_eq!(idct_2x2(dc, &ignored, &table), [[flat; 2]; 2], "{dc}");
        }
    }

    #[test]
    fn reduced_idct_splits_a_horizontal_ramp_left_and_right() {
        let mut block = AcBlock::default();
        block.store_value(1, 10); // the first horizontal cosine: left half brighter than the right
        let [top, bottom] = idct_2x2(0, &block, &[8; 64]);
        assert_eq!(top, bottom);
        assert!(top[0] > 128 && top[1] < 128 && u16::from(top[0]) + u16::from(top[1]) == 256);
    }

    #[test]
    fn the_lowest_terms_shortcut_equals_the_whole_reduction() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |range: i64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % (2 * range as u64 + 1)) as i64 - range
        };
        let table: [u16; 64] = std::array::from_fn(|i| 1 + (i as u16 * 7) % 60);
        for case in 0..20_000 {
            // Small terms mostly, and now and then ones that take the range limit's wrap.
            let range = if case % 10 == 0 { 30_000 } else { 200 };
            let mut block = AcBlock::default();
            for zigzag in [1, 2, 4] {
                if next(1) != 0 {
                    block.store_value(zigzag, next(range) as i16);
                }
            }
            let dc = next(range) as i16;
            // Zigzag 6 (natural 3) is kept: marking it non-zero while its value stays 0
            // takes the whole reduction over the same terms.
            let mut whole = block;
            whole.nonzero |= 1 << 6;
            assert_eq!(
                idct_2x2(dc, &block, &table),
                idct_2x2(dc, &whole, &table),
                "{case}"
            );
        }
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
