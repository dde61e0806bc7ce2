//! The inverse DCTs libjpeg-turbo runs at each scale on x86-64: the 1x1 mean of jidctred.c
//! (C), and the SIMD versions of the 2x2 and 4x4 reductions (jidctred-sse2.asm) and of the
//! 8x8 "islow" transform (jidctint-avx2.asm), which the library picks on every CPU the
//! service runs on. They compute what the C code does, with the fixed-point constants and
//! rounding of jidctred.c and jidctint.c, but in the SIMD code's widths: coefficients are
//! dequantised to 16 bits (the low half of the product, as `pmullw` keeps it), sums of two
//! 16-bit terms wrap at 16 bits, the first pass's results saturate to 16 bits before the
//! second pass, and output samples saturate to 0..=255. For the coefficients of real images
//! nothing comes near those bounds and the C code gives the same; for damaged or
//! adversarial files these are the bounds that decide the samples, so every sample equals
//! libjpeg's on every input.
//!
//! The 4x4 and 8x8 transforms work on eight lanes at once with `wide`'s vectors: the
//! columns of the block in the first pass, its rows in the second.

use super::blocks::{FullBlock, ReducedBlock, NATURAL_ORDER, REDUCED_AC};
use super::malformed;
use crate::error::CoreError;
use wide::{i16x8, i32x8, u32x8};

/// Fixed-point bits of the constants, and the extra bits the first pass keeps.
const CONST_BITS: u32 = 13;
const PASS1_BITS: u32 = 2;

/// `value` in CONST_BITS fixed point, as libjpeg's FIX() rounds it.
const fn fix(value: f64) -> i32 {
    (value * (1 << CONST_BITS) as f64 + 0.5) as i32
}

/// libjpeg's range limit of the C transforms (the 1x1): a level-shifted sample clamps to
/// 0..=255 inside -384..=383 and wraps every 1024 levels outside (only corrupt data gets
/// there).
#[inline(always)]
pub(super) fn range_limit(value: i32) -> u8 {
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
fn descale(value: i32, bits: u32) -> i32 {
    value.wrapping_add(1 << (bits - 1)) >> bits
}

/// A quantisation table entry as libjpeg's multiplier table holds it (16 bits, signed).
#[inline(always)]
fn multiplier(step: u16) -> i32 {
    i32::from(step as i16)
}

/// The low 16 bits of `value`, signed: what 16-bit SIMD arithmetic keeps.
#[inline(always)]
fn wrap16(value: i32) -> i32 {
    i32::from(value as i16)
}

/// `value` saturated to 16 bits, as `packssdw` packs it.
#[inline(always)]
fn saturate16(value: i32) -> i32 {
    value.clamp(i32::from(i16::MIN), i32::from(i16::MAX))
}

/// A SIMD transform's output sample: saturated to 16 then 8 bits (`packssdw`, `packsswb`)
/// and level-shifted by 128.
#[inline(always)]
fn sample(value: i32) -> u8 {
    (saturate16(value).clamp(-128, 127) + 128) as u8
}

/// A coefficient dequantised as `pmullw` does: the low 16 bits of the product.
#[inline(always)]
fn dequantise(coefficient: i16, step: u16) -> i32 {
    i32::from(coefficient.wrapping_mul(step as i16))
}

/// The 1x1 inverse DCT of T.81 A.3.3 at u = v = 0 (jpeg_idct_1x1): the block mean is
/// DC / 8 (C(0)^2 / 4 = 1/8), rounded, level-shifted by 128.
#[inline(always)]
pub(super) fn dc_sample(quantised: i16, step: u16) -> u8 {
    range_limit(descale(
        i32::from(quantised).wrapping_mul(multiplier(step)),
        3,
    ))
}

/// `dc_sample` of every DC term, in a loop that vectorises: inside -384..=383 libjpeg's
/// range limit is a clamp, and only corrupt data reaches past it (then the wrap is
/// computed block by block).
pub(super) fn dc_samples(dcs: &[i16], step: u16, samples: &mut [u8]) {
    let step = multiplier(step);
    let mut outside = false;
    for (sample, &dc) in samples.iter_mut().zip(dcs) {
        // |i16 x i16| < 2^31: no overflow.
        let level = (i32::from(dc) * step + 4) >> 3;
        outside |= !(-384..=383).contains(&level);
        *sample = (level + 128).clamp(0, 255) as u8;
    }
    if outside {
        for (sample, &dc) in samples.iter_mut().zip(dcs) {
            *sample = dc_sample(dc, step as u16);
        }
    }
}

/// The odd basis functions summed at the two output points of the 2-point reduction, as
/// 13-bit fixed point: sqrt(2) times (c1 + c3 + c5 + c7), (-c1 + c3 - c5 - c7) ... for
/// the coefficients 1, 3, 5, 7 (c_k = cos(k pi / 16)).
const ODD_2: [i32; 4] = [29692, -10426, 6967, -5906];

/// `values[i] * ODD_2[i]` summed in 32 bits (`pmaddwd`, `paddd`).
#[inline(always)]
fn odd_2(values: [i32; 4]) -> i32 {
    values
        .iter()
        .zip(ODD_2)
        .fold(0i32, |sum, (&v, w)| sum.wrapping_add(v.wrapping_mul(w)))
}

/// jsimd_idct_2x2_sse2 on a block whose dequantised coefficient at natural position p is
/// `value(p)` (0 for those it does not read): the 2-point reduction of columns 0, 1, 3,
/// 5, 7 in 32 bits, then of the two rows from the odd columns saturated to 16 bits (column
/// 0 stays 32 bits), each output saturated.
#[inline(always)]
fn sse2_2x2(value: impl Fn(usize) -> i32) -> [[u8; 2]; 2] {
    const COLUMNS: [usize; 5] = [0, 1, 3, 5, 7];
    let bits = CONST_BITS - PASS1_BITS + 2;
    let (mut upper, mut lower) = ([0i32; 5], [0i32; 5]);
    for (m, &c) in COLUMNS.iter().enumerate() {
        let odd = odd_2([value(8 + c), value(24 + c), value(40 + c), value(56 + c)]);
        let even = value(c).wrapping_shl(CONST_BITS + 2);
        upper[m] = descale(even.wrapping_add(odd), bits);
        lower[m] = descale(even.wrapping_sub(odd), bits);
    }
    let bits = CONST_BITS + PASS1_BITS + 3 + 2;
    [upper, lower].map(|row| {
        let odd = odd_2([1, 2, 3, 4].map(|m| saturate16(row[m])));
        let even = row[0].wrapping_shl(CONST_BITS + 2);
        [
            sample(descale(even.wrapping_add(odd), bits)),
            sample(descale(even.wrapping_sub(odd), bits)),
        ]
    })
}

/// The 2x2 reduction of a block kept as its DC term and a `ReducedBlock`.
pub(super) fn reduced_2x2(dc: i16, ac: &ReducedBlock, table: &[u16; 64]) -> [[u8; 2]; 2] {
    if ac.nonzero & super::blocks::REDUCED_MASK == 0 {
        // A flat block (as most chroma blocks are): the DC term's alone.
        return sse2_2x2(|p| if p == 0 { dequantise(dc, table[0]) } else { 0 });
    }
    let mut dequantised = [0i32; 64];
    dequantised[0] = dequantise(dc, table[0]);
    for (&natural, &value) in REDUCED_AC.iter().zip(&ac.values) {
        dequantised[natural] = dequantise(value, table[natural]);
    }
    sse2_2x2(|p| dequantised[p])
}

/// A quantisation table as the inverse DCTs multiply by it (natural order).
pub(super) type Multipliers = [i32; 64];

/// `table`'s entries as libjpeg multiplies by them.
pub(super) fn multipliers(table: &[u16; 64]) -> Multipliers {
    std::array::from_fn(|p| multiplier(table[p]))
}

#[inline(always)]
fn splat(value: i32) -> i32x8 {
    i32x8::splat(value)
}

/// `wrap16` lane by lane.
#[inline(always)]
fn wrap16_lanes(value: i32x8) -> i32x8 {
    (value << 16) >> 16
}

/// `saturate16` lane by lane.
#[inline(always)]
fn saturate16_lanes(value: i32x8) -> i32x8 {
    value
        .max(splat(i32::from(i16::MIN)))
        .min(splat(i32::from(i16::MAX)))
}

/// `descale` lane by lane.
#[inline(always)]
fn descale_lanes(value: i32x8, bits: u32) -> i32x8 {
    (value + splat(1 << (bits - 1))) >> bits
}

/// Row `r` of a block dequantised as `pmullw` does, one column per lane.
#[inline(always)]
fn dequantised_row(block: &FullBlock, multipliers: &Multipliers, r: usize) -> i32x8 {
    let mut values = [0i16; 8];
    values.copy_from_slice(&block.values[8 * r..8 * r + 8]);
    let mut steps = [0i32; 8];
    steps.copy_from_slice(&multipliers[8 * r..8 * r + 8]);
    wrap16_lanes(i32x8::from_i16x8(i16x8::new(values)) * i32x8::new(steps))
}

/// Zigzag bits (as in `FullBlock::nonzero`) of the coefficients in the rows `rows` (bit r
/// set: row r).
const fn rows_mask(rows: u8) -> u64 {
    let mut mask = 0;
    let mut z = 1;
    while z < 64 {
        if rows & (1 << (NATURAL_ORDER[z] / 8)) != 0 {
            mask |= 1 << z;
        }
        z += 1;
    }
    mask
}

/// The rows the SIMD transforms test for zeros before their first pass: 1-3 and 5-7
/// (4x4), 1-7 (8x8).
const ROWS_READ_4: u64 = rows_mask(0b1110_1110);
const ROWS_1_TO_7: u64 = rows_mask(0b1111_1110);

/// Output rows of samples from eight lanes of a second pass's results (lane c of row r
/// is sample c), saturated as the SIMD code stores them.
#[inline(always)]
fn write_rows<const N: usize>(rows: &[i32x8; N], out: &mut [u8], stride: usize) {
    for (r, row) in rows.iter().enumerate() {
        let levels =
            (saturate16_lanes(*row).max(splat(-128)).min(splat(127)) + splat(128)).to_array();
        for (sample, level) in out[r * stride..r * stride + N].iter_mut().zip(levels) {
            *sample = level as u8;
        }
    }
}

/// Writes the `n` x `n` samples of `block` (DC at 0, natural order) through libjpeg's
/// inverse DCT of that size to `out`, rows `stride` apart.
#[inline(always)]
pub(super) fn block(
    n: usize,
    block: &FullBlock,
    multipliers: &Multipliers,
    out: &mut [u8],
    stride: usize,
) -> Result<(), CoreError> {
    let needed = (n - 1) * stride + n;
    let out = out
        .get_mut(..needed)
        .ok_or_else(|| malformed("block outside the image"))?;
    if block.nonzero == 0 {
        // The DC term alone (most chroma blocks): one sample, the one each transform's
        // arithmetic comes to for such a block.
        out_flat(
            flat_sample(n, block.values[0], multipliers[0]),
            n,
            out,
            stride,
        );
        return Ok(());
    }
    match n {
        1 => out[0] = flat_sample(1, block.values[0], multipliers[0]),
        2 => {
            let rows = full_2x2(block, multipliers);
            out[..2].copy_from_slice(&rows[0]);
            out[stride..stride + 2].copy_from_slice(&rows[1]);
        }
        4 => idct_4x4(block, multipliers, out, stride),
        _ => idct_8x8(block, multipliers, out, stride),
    }
    Ok(())
}

/// The sample of every point of an `n` x `n` block with a DC term and no AC terms, as
/// each transform computes it: jpeg_idct_1x1 in full precision, the SIMD ones through
/// their 16-bit dequantisation, shifts and saturation.
#[inline(always)]
fn flat_sample(n: usize, dc: i16, multiplier: i32) -> u8 {
    let dequantised = wrap16(i32::from(dc).wrapping_mul(multiplier));
    match n {
        1 => range_limit(descale(i32::from(dc).wrapping_mul(multiplier), 3)),
        2 => {
            let column = descale(dequantised << (CONST_BITS + 2), CONST_BITS - PASS1_BITS + 2);
            sample(descale(
                column.wrapping_shl(CONST_BITS + 2),
                CONST_BITS + PASS1_BITS + 5,
            ))
        }
        4 => {
            let column = wrap16(dequantised << PASS1_BITS);
            sample(descale(
                column << (CONST_BITS + 1),
                CONST_BITS + PASS1_BITS + 4,
            ))
        }
        _ => {
            let column = wrap16(dequantised << PASS1_BITS);
            sample(descale(column << CONST_BITS, CONST_BITS + PASS1_BITS + 3))
        }
    }
}

/// `sse2_2x2` of a whole block, its first pass on every column at once (columns 2, 4 and 6
/// are computed and not read).
#[inline(always)]
fn full_2x2(block: &FullBlock, multipliers: &Multipliers) -> [[u8; 2]; 2] {
    let row = |r| dequantised_row(block, multipliers, r);
    let odd = row(1) * splat(ODD_2[0])
        + row(3) * splat(ODD_2[1])
        + row(5) * splat(ODD_2[2])
        + row(7) * splat(ODD_2[3]);
    let even = row(0) << (CONST_BITS + 2);
    let bits = CONST_BITS - PASS1_BITS + 2;
    let upper = descale_lanes(even + odd, bits).to_array();
    let lower = descale_lanes(even - odd, bits).to_array();
    let bits = CONST_BITS + PASS1_BITS + 3 + 2;
    [upper, lower].map(|w| {
        let odd = odd_2([1, 3, 5, 7].map(|c| saturate16(w[c])));
        let even = w[0].wrapping_shl(CONST_BITS + 2);
        [
            sample(descale(even.wrapping_add(odd), bits)),
            sample(descale(even.wrapping_sub(odd), bits)),
        ]
    })
}

/// jsimd_idct_4x4_sse2: the 4-point reduction of every column at once (rows 0-3 and 5-7;
/// row 4 does not reach the four output points, and column 4's result is not read), then
/// of the four rows, also at once.
fn idct_4x4(block: &FullBlock, multipliers: &Multipliers, out: &mut [u8], stride: usize) {
    let row = |r| dequantised_row(block, multipliers, r);
    let workspace = if block.nonzero & ROWS_READ_4 == 0 {
        // Row 0 alone: each column is its row-0 term, shifted in 16 bits.
        [wrap16_lanes(row(0) << PASS1_BITS); 4]
    } else {
        let rows = [row(1), row(2), row(3), row(5), row(6), row(7)];
        reduce_4(row(0), &rows, CONST_BITS - PASS1_BITS + 1).map(saturate16_lanes)
    };
    // Pass 2: lane r is row r of the workspace (lanes 4-7 zero).
    let w = workspace.map(|lanes| lanes.to_array());
    let column = |c: usize| i32x8::new([w[0][c], w[1][c], w[2][c], w[3][c], 0, 0, 0, 0]);
    let columns = [
        column(1),
        column(2),
        column(3),
        column(5),
        column(6),
        column(7),
    ];
    let points = reduce_4(column(0), &columns, CONST_BITS + PASS1_BITS + 3 + 1);
    // points[c] holds column c of every row: back to rows.
    let p = points.map(|lanes| lanes.to_array());
    let rows_out: [i32x8; 4] =
        std::array::from_fn(|r| i32x8::new([p[0][r], p[1][r], p[2][r], p[3][r], 0, 0, 0, 0]));
    write_rows(&rows_out, out, stride);
}

/// The 4-point reduction of eight lines at once: their terms 0, then 1, 2, 3, 5, 6, 7,
/// to their four points, descaled by `bits` (32-bit sums of 32-bit products, as
/// `pmaddwd` and `paddd` give them).
#[inline(always)]
fn reduce_4(first: i32x8, [x1, x2, x3, x5, x6, x7]: &[i32x8; 6], bits: u32) -> [i32x8; 4] {
    let even0 = first << (CONST_BITS + 1);
    let even2 = *x2 * splat(fix(1.847759065)) + *x6 * splat(-fix(0.765366865));
    let odd0 = *x1 * splat(fix(1.061594337))
        + *x3 * splat(-fix(2.172734803))
        + *x5 * splat(fix(1.451774981))
        + *x7 * splat(-fix(0.211164243));
    let odd2 = *x1 * splat(fix(2.562915447))
        + *x3 * splat(fix(0.899976223))
        + *x5 * splat(-fix(0.601344887))
        + *x7 * splat(-fix(0.509795579));
    let (tmp10, tmp12) = (even0 + even2, even0 - even2);
    [
        descale_lanes(tmp10 + odd2, bits),
        descale_lanes(tmp12 + odd0, bits),
        descale_lanes(tmp12 - odd0, bits),
        descale_lanes(tmp10 - odd2, bits),
    ]
}

/// The 8 x 8 lanes transposed (lane j of vector i becomes lane i of vector j).
#[inline(always)]
fn transpose(rows: [i32x8; 8]) -> [i32x8; 8] {
    let unsigned = rows.map(|row| u32x8::new(row.to_array().map(|v| v as u32)));
    u32x8::transpose(unsigned).map(|row| i32x8::new(row.to_array().map(|v| v as i32)))
}

/// jsimd_idct_islow_avx2: the 8-point transform of the columns, then of the rows, each
/// pass on eight lanes at once, the first pass's results saturated to 16 bits.
fn idct_8x8(block: &FullBlock, multipliers: &Multipliers, out: &mut [u8], stride: usize) {
    let lines: [i32x8; 8] = std::array::from_fn(|r| dequantised_row(block, multipliers, r));
    // Pass 1: lines[k] holds term k of every column; workspace[k] is point k of each.
    let workspace = if block.nonzero & ROWS_1_TO_7 == 0 {
        // Row 0 alone: each column is its row-0 term, shifted in 16 bits.
        [wrap16_lanes(lines[0] << PASS1_BITS); 8]
    } else {
        transform_8(&lines, CONST_BITS - PASS1_BITS)
    };
    // Pass 2: term k of every row is column k of the workspace.
    let samples = transform_8(&transpose(workspace), CONST_BITS + PASS1_BITS + 3);
    // samples[k] holds output column k of every row: back to rows.
    write_rows(&transpose(samples), out, stride);
}

/// The 8-point inverse DCT of jidctint-avx2.asm on eight lines at once: `t[k]` holds term
/// k of each line (16-bit values); returns their points, descaled by `bits` and
/// saturated to 16 bits. The sums in0 + in4, in0 - in4, in7 + in3 and in5 + in1 are taken
/// in 16 bits, the products and the rest in 32.
#[inline(always)]
fn transform_8(t: &[i32x8; 8], bits: u32) -> [i32x8; 8] {
    const F_0_298: i32 = fix(0.298631336);
    const F_0_390: i32 = fix(0.390180644);
    const F_0_541: i32 = fix(0.541196100);
    const F_0_765: i32 = fix(0.765366865);
    const F_0_899: i32 = fix(0.899976223);
    const F_1_175: i32 = fix(1.175875602);
    const F_1_501: i32 = fix(1.501321110);
    const F_1_847: i32 = fix(1.847759065);
    const F_1_961: i32 = fix(1.961570560);
    const F_2_053: i32 = fix(2.053119869);
    const F_2_562: i32 = fix(2.562915447);
    const F_3_072: i32 = fix(3.072711026);
    // Even part.
    let tmp3 = t[2] * splat(F_0_541 + F_0_765) + t[6] * splat(F_0_541);
    let tmp2 = t[2] * splat(F_0_541) + t[6] * splat(F_0_541 - F_1_847);
    let tmp0 = wrap16_lanes(t[0] + t[4]) << CONST_BITS;
    let tmp1 = wrap16_lanes(t[0] - t[4]) << CONST_BITS;
    let (tmp10, tmp13) = (tmp0 + tmp3, tmp0 - tmp3);
    let (tmp11, tmp12) = (tmp1 + tmp2, tmp1 - tmp2);
    // Odd part: terms 7, 5, 3, 1.
    let (in7, in5, in3, in1) = (t[7], t[5], t[3], t[1]);
    let (z3, z4) = (wrap16_lanes(in7 + in3), wrap16_lanes(in5 + in1));
    let z3 = z3 * splat(F_1_175 - F_1_961) + z4 * splat(F_1_175);
    let z4 = (wrap16_lanes(in7 + in3)) * splat(F_1_175)
        + wrap16_lanes(in5 + in1) * splat(F_1_175 - F_0_390);
    let odd0 = in7 * splat(F_0_298 - F_0_899) + in1 * splat(-F_0_899) + z3;
    let odd1 = in5 * splat(F_2_053 - F_2_562) + in3 * splat(-F_2_562) + z4;
    let odd2 = in5 * splat(-F_2_562) + in3 * splat(F_3_072 - F_2_562) + z3;
    let odd3 = in7 * splat(-F_0_899) + in1 * splat(F_1_501 - F_0_899) + z4;
    let point = |sum: i32x8| saturate16_lanes(descale_lanes(sum, bits));
    [
        point(tmp10 + odd3),
        point(tmp11 + odd2),
        point(tmp12 + odd1),
        point(tmp13 + odd0),
        point(tmp13 - odd0),
        point(tmp12 - odd1),
        point(tmp11 - odd2),
        point(tmp10 - odd3),
    ]
}

/// An `n` x `n` block of one sample value.
#[inline(always)]
fn out_flat(sample: u8, n: usize, out: &mut [u8], stride: usize) {
    for r in 0..n {
        out[r * stride..r * stride + n].fill(sample);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jpeg::blocks::Coefficients;

    #[test]
    fn the_constants_are_libjpegs() {
        // jidctint.c and jidctred.c spell them out for CONST_BITS 13.
        let cases = [
            (0.298631336, 2446),
            (0.390180644, 3196),
            (0.541196100, 4433),
            (0.765366865, 6270),
            (0.899976223, 7373),
            (1.175875602, 9633),
            (1.501321110, 12299),
            (1.847759065, 15137),
            (1.961570560, 16069),
            (2.053119869, 16819),
            (2.562915447, 20995),
            (3.072711026, 25172),
            (0.211164243, 1730),
            (0.509795579, 4176),
            (0.601344887, 4926),
            (0.720959822, 5906),
            (0.850430095, 6967),
            (1.061594337, 8697),
            (1.272758580, 10426),
            (1.451774981, 11893),
            (2.172734803, 17799),
            (3.624509785, 29692),
        ];
        for (value, expected) in cases {
            assert_eq!(fix(value), expected, "{value}");
        }
    }

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
            let mut samples = vec![0; dcs.len()];
            dc_samples(&dcs, step, &mut samples);
            assert_eq!(samples, one_by_one, "step {step}");
        }
    }

    /// The textbook 2-D inverse DCT of T.81 A.3.3, averaged over (8 / n) x (8 / n)
    /// groups of its 64 points (what jidctred.c's reductions compute), level-shifted and
    /// clamped.
    fn reference(coefficients: &[f64; 64], n: usize) -> Vec<f64> {
        let c = |u: usize| {
            if u == 0 {
                std::f64::consts::FRAC_1_SQRT_2
            } else {
                1.0
            }
        };
        let point = |x: usize, y: usize| {
            let mut sum = 0.0;
            for v in 0..8 {
                for u in 0..8 {
                    let angle = |p: usize, k: usize| {
                        ((2 * p + 1) as f64 * k as f64 * std::f64::consts::PI / 16.0).cos()
                    };
                    sum += c(u) * c(v) * coefficients[v * 8 + u] * angle(x, u) * angle(y, v);
                }
            }
            sum / 4.0
        };
        let group = 8 / n;
        let mut out = vec![0.0; n * n];
        for y in 0..n {
            for x in 0..n {
                let mut sum = 0.0;
                for dy in 0..group {
                    for dx in 0..group {
                        sum += point(x * group + dx, y * group + dy);
                    }
                }
                let mean = sum / (group * group) as f64;
                out[y * n + x] = (mean + 128.0).clamp(0.0, 255.0);
            }
        }
        out
    }

    /// xorshift64.
    fn random(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn every_size_is_within_rounding_of_the_textbook_transform() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let table: [u16; 64] = std::array::from_fn(|i| 1 + (i as u16 * 5) % 24);
        for case in 0..2000 {
            let mut block = FullBlock::default();
            let mut exact = [0.0f64; 64];
            let terms = 1 + random(&mut seed) % 12;
            for _ in 0..terms {
                let z = (random(&mut seed) % 20) as usize;
                let value = (random(&mut seed) % 41) as i16 - 20;
                if z == 0 {
                    block.values[0] = value;
                } else {
                    block.store_value(z, value);
                }
            }
            for (p, e) in exact.iter_mut().enumerate() {
                *e = f64::from(block.values[p]) * f64::from(table[p]);
            }
            for n in [1, 2, 4, 8] {
                let mut out = vec![0u8; n * n];
                super::block(n, &block, &multipliers(&table), &mut out, n).unwrap();
                let expected = reference(&exact, n);
                for (i, (&got, &want)) in out.iter().zip(&expected).enumerate() {
                    // Fixed point rounds to within a level or so of the exact values.
                    assert!(
                        (f64::from(got) - want).abs() <= 1.5,
                        "case {case} n {n} sample {i}: {got} against {want:.2}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_reduced_and_the_full_2x2_agree() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let table: [u16; 64] = std::array::from_fn(|i| 1 + (i as u16 * 7) % 60);
        for case in 0..20_000 {
            // Small terms mostly, and now and then ones that take the range limit's wrap.
            let range = if case % 10 == 0 { 30_000 } else { 200 };
            let mut next = || (random(&mut seed) % (2 * range + 1)) as i64 - range as i64;
            let (mut reduced, mut full) = (ReducedBlock::default(), FullBlock::default());
            let positions: &[usize] = if case % 2 == 0 {
                &[1, 2, 4]
            } else {
                &[1, 2, 3, 4, 5, 8, 12, 17, 40, 63]
            };
            for &z in positions {
                if next() % 2 != 0 {
                    let value = next() as i16;
                    reduced.store_value(z, value);
                    full.store_value(z, value);
                }
            }
            let dc = next() as i16;
            full.values[0] = dc;
            let mut out = [0u8; 4];
            super::block(2, &full, &multipliers(&table), &mut out, 2).unwrap();
            let expected = reduced_2x2(dc, &reduced, &table);
            assert_eq!(
                [[out[0], out[1]], [out[2], out[3]]],
                expected,
                "case {case}"
            );
        }
    }
}
