//! Entropy-coded scans (T.81 F.2.2, G.1.2).
//!
//! Sequential scans decode each block's DC difference and read past its AC symbols.
//! Progressive DC scans are decoded (first scans and refinements); progressive AC scans
//! are skipped whole by looking for the marker that ends them, except for the components
//! whose AC terms the output needs (`Plane::ac`).

use super::bits::{next_marker, BitReader};
use super::headers::{Frame, Scan};
use super::huffman::{Coefficient, HuffmanTable};
use super::malformed;
use crate::error::CoreError;

/// Zigzag position -> natural (row-major) position in a block (T.81 Figure A.6), with 16
/// extra entries so a corrupt run past the end lands on the last coefficient, as in libjpeg.
pub(super) const NATURAL_ORDER: [usize; 80] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 63, 63, 63, 63, 63,
];

/// The AC coefficients (natural order) that libjpeg's 2x2 reduced inverse DCT reads: rows
/// and columns 0, 1, 3, 5, 7. They are all an `AcBlock` keeps the values of.
pub(super) const USED_AC: [usize; 24] = [
    1, 3, 5, 7, 8, 9, 11, 13, 15, 24, 25, 27, 29, 31, 40, 41, 43, 45, 47, 56, 57, 59, 61, 63,
];

/// Marks a zigzag position whose value an `AcBlock` does not keep.
const UNUSED: u8 = u8::MAX;

/// Zigzag position -> index into `AcBlock::values`, or `UNUSED`.
const SLOT: [u8; 64] = {
    let mut slots = [UNUSED; 64];
    let mut zigzag = 1;
    while zigzag < 64 {
        let mut slot = 0;
        while slot < USED_AC.len() {
            if USED_AC[slot] == NATURAL_ORDER[zigzag] {
                slots[zigzag] = slot as u8;
            }
            slot += 1;
        }
        zigzag += 1;
    }
    slots
};

/// Bits of `AcBlock::nonzero` for the positions whose values are kept.
pub(super) const USED_MASK: u64 = {
    let mut mask = 0;
    let mut zigzag = 0;
    while zigzag < 64 {
        if SLOT[zigzag] != UNUSED {
            mask |= 1 << zigzag;
        }
        zigzag += 1;
    }
    mask
};

/// Where `AcBlock::store` puts the coefficient at zigzag position `z` (< 80): its slot in
/// `AcBlock::values` (past 63, as libjpeg does, that of 63), or `SINK` when it is not
/// kept; from 80 on, `SINK` for every position, which is where ZRL's zero goes.
const STORE: [u8; 160] = {
    let mut store = [SINK; 160];
    let mut z = 1;
    while z < 80 {
        let slot = SLOT[if z < 63 { z } else { 63 }];
        if slot != UNUSED {
            store[z] = slot;
        }
        z += 1;
    }
    store
};

/// The slot of `AcBlock::values` that takes what is not kept.
const SINK: u8 = 24;

/// The AC terms kept of one block: the values the 2x2 reduction reads (64 bytes instead
/// of 128 for a whole block), and which of all 63 are non-zero, which is what a
/// progressive refinement scan needs to know of the others.
///
/// Every coefficient decoded is stored, the ones not kept in a slot of their own (`SINK`),
/// so that storing one takes no branch: whether a position is kept would be mispredicted
/// often.
#[derive(Clone, Copy, Default)]
pub(super) struct AcBlock {
    /// Values at the natural positions of `USED_AC`, in that order, then the sink.
    pub values: [i16; SINK as usize + 1],
    /// Bit k set when the coefficient at zigzag position k is non-zero.
    pub nonzero: u64,
}

impl AcBlock {
    /// The value at natural position `natural` (0 when it is not kept).
    #[cfg(test)]
    pub(super) fn at(&self, natural: usize) -> i16 {
        USED_AC
            .iter()
            .position(|&n| n == natural)
            .map_or(0, |slot| self.values[slot])
    }

    /// Stores the coefficient `coefficient` read ending at zigzag position `z`, shifted
    /// left by `low`: its value at `z` (at 63 past 63), or nothing for ZRL. Returns its
    /// `nonzero` bit, for the caller to merge once the block is done: merged at once, the
    /// mask would go through memory for every coefficient.
    #[inline(always)]
    fn store(&mut self, z: usize, coefficient: Coefficient, low: u32) -> u64 {
        let value = coefficient.value().wrapping_shl(low) as i16;
        let index = z + 80 * usize::from(coefficient.zero_run());
        if let Some(&slot) = STORE.get(index) {
            if let Some(kept) = self.values.get_mut(usize::from(slot)) {
                *kept = value;
            }
        }
        u64::from(value != 0) << z.min(63)
    }

    /// Stores a value at zigzag position `z` (<= 63).
    #[inline(always)]
    pub(super) fn store_value(&mut self, z: usize, value: i16) {
        if let Some(&slot) = STORE.get(z) {
            if let Some(kept) = self.values.get_mut(usize::from(slot)) {
                *kept = value;
            }
        }
        self.nonzero |= u64::from(value != 0) << (z & 63);
    }

    /// Reads the correction bits of the non-zero coefficients at the zigzag positions of
    /// `positions`, in order, and applies them to the kept ones: a set bit adds `plus`
    /// to the magnitude unless that bit is set already (G.1.2.3).
    #[inline(always)]
    fn refine(&mut self, reader: &mut BitReader<'_>, mut positions: u64, plus: i16) {
        while positions != 0 {
            let n = positions.count_ones().min(16);
            // The n bits, first one at the top.
            let mut bits = reader.bits(n) << (32 - n);
            for _ in 0..n {
                let z = positions.trailing_zeros() as usize;
                positions &= positions - 1;
                let corrected = bits >> 31 != 0;
                bits <<= 1;
                if let Some(&slot) = STORE.get(z) {
                    if let Some(value) = self.values.get_mut(usize::from(slot)) {
                        let step = if *value >= 0 {
                            plus
                        } else {
                            plus.wrapping_neg()
                        };
                        if corrected && *value & plus == 0 {
                            *value = value.wrapping_add(step);
                        }
                    }
                }
            }
        }
    }
}

/// The coefficients kept of one component, in rows of `across` blocks that cover whole
/// MCUs, 16 bits wide as libjpeg keeps them.
pub(super) struct Plane {
    pub across: usize,
    /// Every block's DC coefficient.
    pub dc: Vec<i16>,
    /// The AC terms of every block, for the chroma of 4:2:0, which libjpeg reduces with
    /// a 2x2 inverse DCT at this scale; empty for the other components.
    pub ac: Vec<AcBlock>,
    /// The quantisation table (natural order), latched at the component's first scan.
    pub quantisation: Option<[u16; 64]>,
}

/// The Huffman tables defined so far, by slot.
pub(super) struct Tables<'t> {
    pub dc: &'t [Option<HuffmanTable>; 4],
    pub ac: &'t [Option<HuffmanTable>; 4],
}

/// What a scan codes, and so how each block of it is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Baseline or extended sequential: DC difference, then the AC symbols.
    Sequential,
    /// Progressive first DC scan: the difference, shifted left by the scan's low bit.
    DcFirst,
    /// Progressive DC refinement: one more bit of every DC coefficient.
    DcRefine,
    /// Progressive AC scans of a component whose AC coefficients are kept (G.1.2.2, G.1.2.3).
    AcFirst,
    AcRefine,
}

/// State that a restart interval resets: DC predictions and the end-of-band run.
#[derive(Default)]
struct Run {
    predictions: [i32; 4],
    end_of_band: u32,
}

/// One block of an MCU: the scan component it belongs to and where it sits in its plane,
/// as `row * down + col * across + offset`.
#[derive(Clone, Copy)]
struct McuBlock {
    slot: usize,
    down: usize,
    across: usize,
    offset: usize,
}

/// Decodes the scan whose entropy-coded data starts at `data[pos]` and returns the
/// position of the marker that follows it.
pub(super) fn decode_scan(
    data: &[u8],
    pos: usize,
    frame: &Frame,
    scan: &Scan,
    planes: &mut [Plane],
    tables: &Tables<'_>,
    restart_interval: usize,
) -> Result<usize, CoreError> {
    let kind = match (frame.progressive, scan.start, scan.high) {
        (false, _, _) => Kind::Sequential,
        (true, 0, 0) => Kind::DcFirst,
        (true, 0, _) => Kind::DcRefine,
        (true, _, 0) => Kind::AcFirst,
        (true, _, _) => Kind::AcRefine,
    };
    if matches!(kind, Kind::AcFirst | Kind::AcRefine)
        && planes[scan.components[0].index].ac.is_empty()
    {
        // Only the DC term of this component is wanted: skip the scan without decoding it.
        return next_marker(data, pos, true).ok_or_else(|| malformed("scan never ends"));
    }
    let mut dc = [None; 4];
    let mut ac = [None; 4];
    for (slot, sc) in scan.components.iter().enumerate() {
        dc[slot] = table(
            tables.dc,
            sc.dc_table,
            matches!(kind, Kind::Sequential | Kind::DcFirst),
        )?;
        ac[slot] = table(
            tables.ac,
            sc.ac_table,
            !matches!(kind, Kind::DcFirst | Kind::DcRefine),
        )?;
    }
    let low = u32::from(scan.low);
    let band = (usize::from(scan.start), usize::from(scan.end));
    let mut reader = BitReader::new(data, pos);
    let walk = Walk::new(frame, scan, restart_interval);
    let (mut dcs, mut acs) = split(planes, scan);
    match kind {
        Kind::DcFirst => {
            walk.run(
                &mut reader,
                data,
                #[inline(always)]
                |reader, run, block| {
                    decode_dc(reader, run, block, dc[block.slot], dcs[block.slot], low)
                },
            )?;
        }
        Kind::Sequential => {
            walk.run(
                &mut reader,
                data,
                #[inline(always)]
                |reader, run, block| {
                    decode_dc(reader, run, block, dc[block.slot], dcs[block.slot], 0)?;
                    let ac_table =
                        ac[block.slot].ok_or_else(|| malformed("undefined Huffman table"))?;
                    let blocks = &mut *acs[block.slot];
                    if blocks.is_empty() {
                        ac_table.skip_ac(reader)
                    } else {
                        let coefficients = blocks.get_mut(block.at).ok_or_else(outside)?;
                        decode_ac_sequential(reader, ac_table, coefficients)
                    }
                },
            )?;
        }
        Kind::DcRefine => {
            walk.run(
                &mut reader,
                data,
                #[inline(always)]
                |reader, _, block| {
                    let coefficient = dcs[block.slot].get_mut(block.at).ok_or_else(outside)?;
                    // Without a branch: the bit is a coin toss.
                    *coefficient |= reader.bits(1).wrapping_shl(low) as i16;
                    Ok(())
                },
            )?;
        }
        Kind::AcFirst | Kind::AcRefine => {
            let ac_table = ac[0].ok_or_else(|| malformed("undefined Huffman table"))?;
            let blocks = &mut *acs[0];
            walk.run(
                &mut reader,
                data,
                #[inline(always)]
                |reader, run, block| {
                    let coefficients = blocks.get_mut(block.at).ok_or_else(outside)?;
                    let eob = &mut run.end_of_band;
                    if kind == Kind::AcFirst {
                        decode_ac_first(reader, ac_table, coefficients, band, low, eob)
                    } else {
                        decode_ac_refine(reader, ac_table, coefficients, band, low, eob)
                    }
                },
            )?;
        }
    }
    if reader.overran() {
        return Err(malformed("entropy-coded data ends early"));
    }
    next_marker(data, reader.position(), true).ok_or_else(|| malformed("scan never ends"))
}

/// A block's DC term (F.2.2.1): a difference from the last one of its component, shifted
/// left by `low` in a progressive first scan.
#[inline(always)]
fn decode_dc(
    reader: &mut BitReader<'_>,
    run: &mut Run,
    block: At,
    table: Option<&HuffmanTable>,
    dcs: &mut [i16],
    low: u32,
) -> Result<(), CoreError> {
    let table = table.ok_or_else(|| malformed("undefined Huffman table"))?;
    let difference = table.decode_difference(reader)?;
    let prediction = &mut run.predictions[block.slot];
    *prediction = prediction.wrapping_add(difference);
    *dcs.get_mut(block.at).ok_or_else(outside)? = prediction.wrapping_shl(low) as i16;
    Ok(())
}

/// The DC and AC planes of each scan component, by its place in the scan, as slices of
/// their own: the compiler then knows that a coefficient stored in one cannot move another,
/// and keeps their addresses in registers instead of reloading them after every store.
#[allow(clippy::type_complexity)]
fn split<'p>(planes: &'p mut [Plane], scan: &Scan) -> ([&'p mut [i16]; 4], [&'p mut [AcBlock]; 4]) {
    let mut dcs: [&mut [i16]; 4] = Default::default();
    let mut acs: [&mut [AcBlock]; 4] = Default::default();
    for (index, plane) in planes.iter_mut().enumerate() {
        if let Some(slot) = scan.components.iter().position(|sc| sc.index == index) {
            dcs[slot] = &mut plane.dc;
            acs[slot] = &mut plane.ac;
        }
    }
    (dcs, acs)
}

/// The table in `slot` when the scan needs one, else `None`.
fn table(
    tables: &[Option<HuffmanTable>; 4],
    slot: usize,
    wanted: bool,
) -> Result<Option<&HuffmanTable>, CoreError> {
    if !wanted {
        return Ok(None);
    }
    tables[slot]
        .as_ref()
        .map(Some)
        .ok_or_else(|| malformed("undefined Huffman table"))
}

fn outside() -> CoreError {
    malformed("block outside the image")
}

/// A block as the walk hands it over: its scan component and its index in the plane.
#[derive(Clone, Copy)]
struct At {
    slot: usize,
    at: usize,
}

/// The order in which a scan codes its blocks (T.81 A.2): MCU by MCU, each MCU's blocks
/// component by component, with a restart marker every `restart_interval` MCUs.
struct Walk {
    blocks: Vec<McuBlock>,
    shape: Shape,
    across: usize,
    down: usize,
    restart_interval: usize,
}

/// The MCU shapes that have a loop of their own: in them a block's scan component is known
/// without reading it from a table, and for most blocks it is a constant.
#[derive(Clone, Copy)]
enum Shape {
    /// One component: each MCU is one block.
    Single,
    /// The first component's h x v blocks, then one block of each other component: every
    /// YCbCr layout whose chroma is subsampled, or not, in the usual way.
    LumaFirst {
        h: usize,
        v: usize,
        luma_across: usize,
    },
    /// Anything else.
    General,
}

impl Walk {
    fn new(frame: &Frame, scan: &Scan, restart_interval: usize) -> Self {
        let interleaved = scan.components.len() > 1;
        let mut blocks = Vec::new();
        for (slot, sc) in scan.components.iter().enumerate() {
            let component = &frame.components[sc.index];
            let plane_across = frame.mcus_across * component.h;
            let (h, v) = if interleaved {
                (component.h, component.v)
            } else {
                (1, 1)
            };
            for dy in 0..v {
                for dx in 0..h {
                    blocks.push(McuBlock {
                        slot,
                        down: v * plane_across,
                        across: h,
                        offset: dy * plane_across + dx,
                    });
                }
            }
        }
        let (across, down) = if interleaved {
            (frame.mcus_across, frame.mcus_down)
        } else {
            frame.component_blocks(scan.components[0].index)
        };
        let first = &frame.components[scan.components[0].index];
        let shape = if !interleaved {
            Shape::Single
        } else if scan.components[1..]
            .iter()
            .all(|sc| frame.components[sc.index].h == 1 && frame.components[sc.index].v == 1)
        {
            Shape::LumaFirst {
                h: first.h,
                v: first.v,
                luma_across: frame.mcus_across * first.h,
            }
        } else {
            Shape::General
        };
        Walk {
            blocks,
            shape,
            across,
            down,
            restart_interval,
        }
    }

    /// Calls `block` for every block of the scan, in coding order.
    #[inline(always)]
    fn run<F>(&self, reader: &mut BitReader<'_>, data: &[u8], mut block: F) -> Result<(), CoreError>
    where
        F: FnMut(&mut BitReader<'_>, &mut Run, At) -> Result<(), CoreError>,
    {
        let blocks = &self.blocks[..];
        match self.shape {
            Shape::Single => {
                let down = blocks[0].down;
                self.mcus(
                    reader,
                    data,
                    #[inline(always)]
                    |reader, run, row, col| {
                        let at = row * down + col;
                        block(reader, run, At { slot: 0, at })
                    },
                )
            }
            Shape::LumaFirst { h, v, luma_across } => {
                let luma = blocks[0];
                let others = &blocks[h * v..];
                self.mcus(
                    reader,
                    data,
                    #[inline(always)]
                    |reader, run, row, col| {
                        let first = row * luma.down + col * h;
                        for dy in 0..v {
                            for dx in 0..h {
                                let at = first + dy * luma_across + dx;
                                block(reader, run, At { slot: 0, at })?;
                            }
                        }
                        for b in others {
                            let at = row * b.down + col;
                            block(reader, run, At { slot: b.slot, at })?;
                        }
                        Ok(())
                    },
                )
            }
            Shape::General => self.mcus(
                reader,
                data,
                #[inline(always)]
                |reader, run, row, col| {
                    for b in blocks {
                        let at = row * b.down + col * b.across + b.offset;
                        block(reader, run, At { slot: b.slot, at })?;
                    }
                    Ok(())
                },
            ),
        }
    }

    /// Calls `mcu` with the row and column of every MCU, in coding order, and handles the
    /// restart markers between them.
    #[inline(always)]
    fn mcus<F>(&self, reader: &mut BitReader<'_>, data: &[u8], mut mcu: F) -> Result<(), CoreError>
    where
        F: FnMut(&mut BitReader<'_>, &mut Run, usize, usize) -> Result<(), CoreError>,
    {
        let mut run = Run::default();
        let mut left_in_interval = self.restart_interval;
        let mut next_restart = 0u8;
        for row in 0..self.down {
            for col in 0..self.across {
                if self.restart_interval > 0 {
                    if left_in_interval == 0 {
                        restart(reader, data, &mut next_restart)?;
                        run = Run::default();
                        left_in_interval = self.restart_interval;
                    }
                    left_in_interval -= 1;
                }
                mcu(reader, &mut run, row, col)?;
            }
            if reader.overran() {
                return Err(malformed("entropy-coded data ends early"));
            }
        }
        Ok(())
    }
}

/// The AC coefficients of a sequential block (F.2.2.2), kept.
#[inline(always)]
fn decode_ac_sequential(
    reader: &mut BitReader<'_>,
    table: &HuffmanTable,
    block: &mut AcBlock,
) -> Result<(), CoreError> {
    // The position after the last coefficient read, and the non-zero bits stored.
    let (mut k, mut nonzero) = (1, 0);
    while k < 64 {
        let coefficient = table.decode_coefficient(reader)?;
        if coefficient.advance() == 0 {
            break;
        }
        k += coefficient.advance();
        nonzero |= block.store(k - 1, coefficient, 0);
    }
    block.nonzero |= nonzero;
    Ok(())
}

/// A first AC scan of a band (G.1.2.2): values shifted left by `low`, and end-of-band runs.
#[inline(always)]
fn decode_ac_first(
    reader: &mut BitReader<'_>,
    table: &HuffmanTable,
    block: &mut AcBlock,
    (start, end): (usize, usize),
    low: u32,
    end_of_band_run: &mut u32,
) -> Result<(), CoreError> {
    if *end_of_band_run > 0 {
        *end_of_band_run -= 1;
        return Ok(());
    }
    // The position after the last coefficient read, and the non-zero bits stored.
    let (mut k, mut nonzero) = (start, 0);
    while k <= end {
        let coefficient = table.decode_coefficient(reader)?;
        if coefficient.advance() == 0 {
            let run = coefficient.value() as u32;
            *end_of_band_run = (1 << run) - 1 + reader.bits(run);
            break;
        }
        k += coefficient.advance();
        nonzero |= block.store(k - 1, coefficient, low);
    }
    block.nonzero |= nonzero;
    Ok(())
}

/// An AC refinement scan (G.1.2.3): one correction bit for each coefficient already
/// non-zero, and new coefficients of magnitude 1 << low placed among the zero ones. The
/// positions are handled as bit masks over `AcBlock::nonzero`, so the work goes with the
/// non-zero coefficients, not with the band's length.
#[inline(always)]
fn decode_ac_refine(
    reader: &mut BitReader<'_>,
    table: &HuffmanTable,
    block: &mut AcBlock,
    (start, end): (usize, usize),
    low: u32,
    end_of_band_run: &mut u32,
) -> Result<(), CoreError> {
    let plus = 1i16.wrapping_shl(low);
    let band = from(start) & !from(end + 1);
    if *end_of_band_run > 0 && block.nonzero & band == 0 {
        // Inside an end-of-band run, a block with nothing to correct reads no bits.
        *end_of_band_run -= 1;
        return Ok(());
    }
    // The position after the last one dealt with.
    let mut k = start;
    if *end_of_band_run == 0 {
        while k <= end {
            let symbol = table.decode_refinement(reader)?;
            if symbol.advance() == 0 {
                let run = symbol.value() as u32;
                *end_of_band_run = (1 << run) + reader.bits(run);
                break;
            }
            // ZRL passes 15 zero positions as a run would, and places nothing.
            let run = symbol.advance() - 1;
            let value = if symbol.zero_run() {
                0
            } else if symbol.value() > 0 {
                plus
            } else {
                plus.wrapping_neg()
            };
            // The symbol passes `run` positions still zero, correcting the non-zero ones
            // on the way, and lands on the next zero one (ZRL: on the sixteenth).
            let ahead = band & from(k);
            let mut zeros = ahead & !block.nonzero;
            if zeros == ahead {
                // Nothing non-zero ahead (the usual case): the zeros run on from k.
                zeros &= from(k + run);
            } else {
                for _ in 0..run {
                    zeros &= zeros.wrapping_sub(1);
                }
            }
            if zeros == 0 {
                // Past the band's end (corrupt data): correct the rest and end the block.
                block.refine(reader, ahead & block.nonzero, plus);
                k = end + 1;
                break;
            }
            let landing = zeros.trailing_zeros() as usize;
            block.refine(reader, ahead & block.nonzero & !from(landing), plus);
            if value != 0 {
                block.store_value(landing, value);
            }
            k = landing + 1;
        }
    }
    if *end_of_band_run > 0 {
        block.refine(reader, band & from(k) & block.nonzero, plus);
        *end_of_band_run -= 1;
    }
    Ok(())
}

/// The positions from `k` on, as a mask (none from 64 on).
#[inline(always)]
fn from(k: usize) -> u64 {
    u64::MAX.checked_shl(k as u32).unwrap_or(0)
}

/// Moves past the RSTn marker that must come next, dropping the bits of the last byte.
/// Inlined, with the search in a function that takes the reader's position rather than
/// the reader: a reader whose address is passed anywhere is kept in memory, not registers.
#[inline(always)]
fn restart(reader: &mut BitReader<'_>, data: &[u8], next: &mut u8) -> Result<(), CoreError> {
    if reader.overran() {
        return Err(malformed("entropy-coded data ends early"));
    }
    reader.reset_at(restart_marker(data, reader.position(), *next)?);
    *next = (*next + 1) & 7;
    Ok(())
}

/// Where the data after the restart marker RSTn, `n` = `next`, that must come next from
/// `pos` on begins.
fn restart_marker(data: &[u8], pos: usize, next: u8) -> Result<usize, CoreError> {
    let at = next_marker(data, pos, false).ok_or_else(|| malformed("missing restart marker"))?;
    if data.get(at + 1) != Some(&(0xD0 + next)) {
        return Err(malformed("missing restart marker"));
    }
    Ok(at + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_cover_exactly_the_coefficients_the_reduction_reads() {
        for (zigzag, &natural) in NATURAL_ORDER[..64].iter().enumerate() {
            let kept = SLOT[zigzag] != UNUSED;
            assert_eq!(kept, USED_AC.contains(&natural), "zigzag {zigzag}");
            if kept {
                assert_eq!(USED_AC[usize::from(SLOT[zigzag])], natural);
            }
        }
        assert_eq!(USED_MASK.count_ones(), 24);
    }

    #[test]
    fn stores_land_where_libjpeg_puts_them() {
        // Past 63 (corrupt data) a coefficient lands on 63; ZRL's zero lands on no kept slot.
        assert!(STORE[63..80].iter().all(|&slot| slot == SLOT[63]));
        assert!(STORE[80..].iter().all(|&slot| slot == SINK));
        let mut block = AcBlock::default();
        block.store_value(1, 5); // natural 1: kept
        block.store_value(4, -2); // natural 9: kept
        block.store_value(3, 7); // natural 16: not kept
        assert_eq!(block.at(1), 5);
        assert_eq!(block.at(9), -2);
        assert_eq!(block.at(16), 0);
        assert_eq!(block.nonzero, 1 << 1 | 1 << 3 | 1 << 4);
        block.nonzero |= block.store(70, Coefficient::new(0x51, 0, 9), 0);
        block.nonzero |= block.store(62, Coefficient::new(0xF0, 0, 0), 0);
        assert_eq!(block.at(63), 9);
        assert_eq!(block.nonzero, 1 << 1 | 1 << 3 | 1 << 4 | 1 << 63);
    }

    /// xorshift64: deterministic pseudo-random numbers for the tests below.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// An AC table whose codes run from 1 to 15 bits (so that some take the slow path)
    /// and cover every bit pattern: one symbol of each length 1..=12, eight of 15.
    fn ac_table() -> HuffmanTable {
        let mut counts = [1u8; 16];
        counts[12..].copy_from_slice(&[0, 0, 8, 0]);
        let values = [
            0x01, 0x00, 0x11, 0x10, 0xF0, 0x21, 0x20, 0x02, 0x31, 0x05, 0x41, 0xE1, 0x0A, 0x1B,
            0x30, 0xD1, 0x09, 0xF3, 0x6C, 0x13,
        ];
        let mut table = HuffmanTable::new(&counts, &values).unwrap();
        table.prepare_coefficients();
        table.prepare_refinement();
        table
    }

    /// A block with random non-zero coefficients at random positions, in zigzag order,
    /// with their `AcBlock`: how the decoders' results are compared.
    fn random_block(random: &mut Random, low: u32) -> ([i16; 64], AcBlock) {
        let mut all = [0i16; 64];
        let mut block = AcBlock::default();
        let density = random.next() % 64;
        for (z, coefficient) in all.iter_mut().enumerate().skip(1) {
            if random.next() % 64 < density {
                let magnitude = (random.next() % 7 + 1) as i16;
                let sign = if random.next() % 2 == 0 { 1 } else { -1 };
                *coefficient = sign * (magnitude << low);
                block.store_value(z, *coefficient);
            }
        }
        (all, block)
    }

    /// The straightforward decoding of one block of a scan of `kind`, position by position,
    /// over the whole block: G.1.2.3 for refinements, else G.1.2.2 (F.2.2.2 when
    /// sequential: no end-of-band runs).
    fn reference(
        kind: Kind,
        reader: &mut BitReader<'_>,
        table: &HuffmanTable,
        all: &mut [i16; 64],
        (start, end): (usize, usize),
        low: u32,
        end_of_band_run: &mut u32,
    ) -> Result<(), CoreError> {
        if kind == Kind::AcRefine {
            let (plus, minus) = (1i16 << low, -1i16 << low);
            let refine = |reader: &mut BitReader<'_>, coefficient: &mut i16| {
                let bit = reader.bits(1);
                if bit != 0 && *coefficient & plus == 0 {
                    *coefficient += if *coefficient >= 0 { plus } else { minus };
                }
            };
            let mut k = start;
            if *end_of_band_run == 0 {
                while k <= end {
                    let symbol = table.decode(reader)?;
                    let (mut run, size) = (u32::from(symbol >> 4), symbol & 15);
                    let mut value = 0;
                    if size != 0 {
                        value = if reader.bits(1) != 0 { plus } else { minus };
                    } else if run != 15 {
                        *end_of_band_run = (1 << run) + reader.bits(run);
                        break;
                    }
                    while k <= end {
                        if all[k] != 0 {
                            refine(reader, &mut all[k]);
                        } else {
                            if run == 0 {
                                break;
                            }
                            run -= 1;
                        }
                        k += 1;
                    }
                    if value != 0 && k <= end {
                        all[k] = value;
                    }
                    k += 1;
                }
            }
            if *end_of_band_run > 0 {
                for coefficient in all.iter_mut().take(end + 1).skip(k) {
                    if *coefficient != 0 {
                        refine(reader, coefficient);
                    }
                }
                *end_of_band_run -= 1;
            }
            return Ok(());
        }
        let sequential = kind == Kind::Sequential;
        if *end_of_band_run > 0 {
            *end_of_band_run -= 1;
            return Ok(());
        }
        let mut k = start;
        while k <= end {
            let symbol = table.decode(reader)?;
            let (run, size) = (usize::from(symbol >> 4), u32::from(symbol & 15));
            if size == 0 {
                if run == 15 {
                    k += 16;
                    continue;
                }
                if !sequential {
                    *end_of_band_run = (1 << run) - 1 + reader.bits(run as u32);
                }
                break;
            }
            k += run;
            all[k.min(63)] = (reader.receive_extend(size) << low) as i16;
            k += 1;
        }
        Ok(())
    }

    /// Checks that the kept values and the non-zero positions agree with the whole block.
    fn assert_same(all: &[i16; 64], block: &AcBlock, case: &str) {
        let mut nonzero = 0u64;
        for (z, &coefficient) in all.iter().enumerate() {
            nonzero |= u64::from(coefficient != 0) << z;
            assert_eq!(
                block.at(NATURAL_ORDER[z]),
                if SLOT[z] != UNUSED { coefficient } else { 0 },
                "{case} z {z}"
            );
        }
        assert_eq!(block.nonzero, nonzero, "{case}");
    }

    /// Runs the decoder of `kind` and its reference over the same random bits, block after
    /// block, and checks that they read the same bits and reach the same coefficients.
    fn compare_with_reference(kind: Kind, seed: u64) {
        let table = ac_table();
        let mut random = Random(seed);
        let data: Vec<u8> = (0..4096)
            .map(|_| random.next() as u8)
            .filter(|&b| b != 0xFF)
            .collect();
        let (mut reader, mut expected_reader) =
            (BitReader::new(&data, 0), BitReader::new(&data, 0));
        let (mut run, mut expected_run) = (0, 0);
        for block_index in 0..200 {
            let start = 1 + (random.next() % 20) as usize;
            let band = match kind {
                Kind::Sequential => (1, 63),
                _ => (start, (start + (random.next() % 50) as usize).min(63)),
            };
            let low = if kind == Kind::Sequential {
                0
            } else {
                (random.next() % 3) as u32
            };
            // Refinements find the bits above `low` set, and in corrupt data (one block in
            // four here) the bit `low` too.
            let above = u32::from(random.next() % 4 != 0);
            let (mut all, mut block) = random_block(&mut random, low + above);
            if kind != Kind::AcRefine {
                // A first scan finds its band's positions still zero.
                for (z, coefficient) in all.iter_mut().enumerate() {
                    if (band.0..=band.1).contains(&z) || kind == Kind::Sequential {
                        *coefficient = 0;
                    }
                }
                block = AcBlock::default();
                for (z, &coefficient) in all.iter().enumerate() {
                    block.store_value(z, coefficient);
                }
            }
            let case = format!("seed {seed} block {block_index}");
            let expected = reference(
                kind,
                &mut expected_reader,
                &table,
                &mut all,
                band,
                low,
                &mut expected_run,
            );
            let result = match kind {
                Kind::Sequential => decode_ac_sequential(&mut reader, &table, &mut block),
                Kind::AcFirst => {
                    decode_ac_first(&mut reader, &table, &mut block, band, low, &mut run)
                }
                _ => decode_ac_refine(&mut reader, &table, &mut block, band, low, &mut run),
            };
            assert_eq!(result.is_ok(), expected.is_ok(), "{case}");
            assert_eq!(run, expected_run, "{case}");
            assert_eq!(reader.consumed(), expected_reader.consumed(), "{case}");
            assert_same(&all, &block, &case);
            if reader.overran() {
                break;
            }
        }
    }

    #[test]
    fn sequential_blocks_decode_as_the_spec_reads_them() {
        for seed in 1..=50 {
            compare_with_reference(Kind::Sequential, seed);
        }
    }

    #[test]
    fn first_ac_scans_decode_as_the_spec_reads_them() {
        for seed in 1..=50 {
            compare_with_reference(Kind::AcFirst, seed);
        }
    }

    #[test]
    fn ac_refinements_decode_as_the_spec_reads_them() {
        for seed in 1..=50 {
            compare_with_reference(Kind::AcRefine, seed);
        }
    }
}
