//! Entropy-coded scans (T.81 F.2.2, G.1.2).
//!
//! What is decoded of a component depends on how many samples each of its blocks becomes
//! (`Plane::block_samples`). One sample is the block's DC term alone: its AC symbols are
//! read past without decoding them (sequential) or its AC scans skipped whole, by looking
//! for the marker that ends them (progressive). Otherwise its AC terms are decoded too, and
//! in a sequential file turned into samples as soon as the block is read.

use super::bits::{next_marker, BitReader};
use super::blocks::{Coefficients, FullBlock, ReducedBlock};
use super::headers::{Frame, Scan};
use super::huffman::HuffmanTable;
use super::idct;
use super::malformed;
use crate::deadline::Deadline;
use crate::error::CoreError;

/// One component's coefficients and samples, in rows of `across` blocks that cover
/// whole MCUs, 16 bits wide as libjpeg keeps them.
pub(super) struct Plane {
    pub across: usize,
    /// Samples per block side out of the inverse DCT (1, 2, 4 or 8).
    pub block_samples: usize,
    /// Every block's DC term: in progressive files, and for one-sample blocks.
    pub dc: Vec<i16>,
    /// The AC terms of progressive files, as the inverse DCT needs them kept.
    pub ac: AcTerms,
    /// The samples of a sequential file's component with blocks of more than one sample,
    /// `across * block_samples` wide, written as each block is decoded.
    pub samples: Vec<u8>,
    /// The quantisation table (natural order), latched at the component's first scan.
    pub quantisation: Option<[u16; 64]>,
}

/// A progressive file's AC terms of one component.
pub(super) enum AcTerms {
    /// Not kept: one-sample blocks (or a sequential file).
    None,
    /// What the 2x2 reduction reads, for two-sample blocks.
    Reduced(Vec<ReducedBlock>),
    /// All of them, for the 4x4 and 8x8 inverse DCTs.
    Full(Vec<FullBlock>),
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
/// as `row * down + col * across + offset`, at block row `row * v + dy`, column
/// `col * across + dx`.
#[derive(Clone, Copy)]
struct McuBlock {
    slot: usize,
    down: usize,
    across: usize,
    offset: usize,
    v: usize,
    dy: usize,
    dx: usize,
}

/// Decodes the scan whose entropy-coded data starts at `data[pos]` and returns the
/// position of the marker that follows it.
#[allow(clippy::too_many_arguments)]
pub(super) fn decode_scan(
    data: &[u8],
    pos: usize,
    frame: &Frame,
    scan: &Scan,
    planes: &mut [Plane],
    tables: &Tables<'_>,
    restart_interval: usize,
    deadline: &Deadline,
) -> Result<usize, CoreError> {
    let kind = match (frame.progressive, scan.start, scan.high) {
        (false, _, _) => Kind::Sequential,
        (true, 0, 0) => Kind::DcFirst,
        (true, 0, _) => Kind::DcRefine,
        (true, _, 0) => Kind::AcFirst,
        (true, _, _) => Kind::AcRefine,
    };
    let low = u32::from(scan.low);
    let band = (usize::from(scan.start), usize::from(scan.end));
    let mut reader = BitReader::new(data, pos);
    let walk = Walk::new(frame, scan, restart_interval, deadline);
    if matches!(kind, Kind::AcFirst | Kind::AcRefine) {
        let sc = scan.components[0];
        let table = table(tables.ac, sc.ac_table, true)?
            .ok_or_else(|| malformed("undefined Huffman table"))?;
        match &mut planes[sc.index].ac {
            // Only the DC term of this component is wanted: skip the scan undecoded.
            AcTerms::None => {
                return next_marker(data, pos, true).ok_or_else(|| malformed("scan never ends"))
            }
            AcTerms::Reduced(blocks) => {
                ac_scan(&walk, &mut reader, data, table, blocks, kind, band, low)?
            }
            AcTerms::Full(blocks) => {
                ac_scan(&walk, &mut reader, data, table, blocks, kind, band, low)?
            }
        }
    } else {
        let mut dc = [None; 4];
        let mut ac = [None; 4];
        for (slot, sc) in scan.components.iter().enumerate() {
            dc[slot] = table(tables.dc, sc.dc_table, kind != Kind::DcRefine)?;
            ac[slot] = table(tables.ac, sc.ac_table, kind == Kind::Sequential)?;
        }
        let mut targets = targets(planes, scan, kind)?;
        match kind {
            Kind::DcFirst => {
                walk.run(
                    &mut reader,
                    data,
                    #[inline(always)]
                    |reader, run, block| {
                        let dc = decode_dc(reader, run, block, dc[block.slot])?;
                        let Target::Dc(dcs) = &mut targets[block.slot] else {
                            return Err(outside());
                        };
                        *dcs.get_mut(block.at).ok_or_else(outside)? = dc.wrapping_shl(low) as i16;
                        Ok(())
                    },
                )?;
            }
            Kind::DcRefine => {
                walk.run(
                    &mut reader,
                    data,
                    #[inline(always)]
                    |reader, _, block| {
                        let Target::Dc(dcs) = &mut targets[block.slot] else {
                            return Err(outside());
                        };
                        let coefficient = dcs.get_mut(block.at).ok_or_else(outside)?;
                        // Without a branch: the bit is a coin toss.
                        *coefficient |= reader.bits(1).wrapping_shl(low) as i16;
                        Ok(())
                    },
                )?;
            }
            _ => {
                let mut local = FullBlock::default();
                walk.run(
                    &mut reader,
                    data,
                    #[inline(always)]
                    |reader, run, block| {
                        let dc = decode_dc(reader, run, block, dc[block.slot])?;
                        let ac_table =
                            ac[block.slot].ok_or_else(|| malformed("undefined Huffman table"))?;
                        match &mut targets[block.slot] {
                            Target::Dc(dcs) => {
                                *dcs.get_mut(block.at).ok_or_else(outside)? = dc as i16;
                                ac_table.skip_ac(reader)
                            }
                            Target::Samples {
                                samples,
                                stride,
                                n,
                                multipliers,
                            } => {
                                local.values[0] = dc as i16;
                                decode_ac_sequential(reader, ac_table, &mut local)?;
                                let at = block.row * *n * *stride + block.col * *n;
                                write_samples(&mut local, *n, multipliers, samples, at, *stride)
                            }
                        }
                    },
                )?;
            }
        }
    }
    if reader.overran() {
        return Err(malformed("entropy-coded data ends early"));
    }
    next_marker(data, reader.position(), true).ok_or_else(|| malformed("scan never ends"))
}

/// Turns a sequential block into its samples at `samples[at..]`, and clears it for the
/// next. Not inlined: with the inverse DCTs in the block loop, the bit reader's state
/// would no longer fit in registers for the Huffman decoding around it.
#[inline(never)]
fn write_samples(
    block: &mut FullBlock,
    n: usize,
    multipliers: &idct::Multipliers,
    samples: &mut [u8],
    at: usize,
    stride: usize,
) -> Result<(), CoreError> {
    let out = samples.get_mut(at..).ok_or_else(outside)?;
    idct::block(n, block, multipliers, out, stride)?;
    *block = FullBlock::default();
    Ok(())
}

/// The blocks of an AC scan of a progressive file (one component), kept in `blocks`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn ac_scan<B: Coefficients>(
    walk: &Walk<'_>,
    reader: &mut BitReader<'_>,
    data: &[u8],
    table: &HuffmanTable,
    blocks: &mut [B],
    kind: Kind,
    band: (usize, usize),
    low: u32,
) -> Result<(), CoreError> {
    walk.run(
        reader,
        data,
        #[inline(always)]
        |reader, run, block| {
            let coefficients = blocks.get_mut(block.at).ok_or_else(outside)?;
            let eob = &mut run.end_of_band;
            if kind == Kind::AcFirst {
                decode_ac_first(reader, table, coefficients, band, low, eob)
            } else {
                decode_ac_refine(reader, table, coefficients, band, low, eob)
            }
        },
    )
}

/// A block's DC term (F.2.2.1): the last one of its component plus the difference read
/// now (before a progressive first scan's shift).
#[inline(always)]
fn decode_dc(
    reader: &mut BitReader<'_>,
    run: &mut Run,
    block: At,
    table: Option<&HuffmanTable>,
) -> Result<i32, CoreError> {
    let table = table.ok_or_else(|| malformed("undefined Huffman table"))?;
    let difference = table.decode_difference(reader)?;
    let prediction = &mut run.predictions[block.slot];
    *prediction = prediction.wrapping_add(difference);
    Ok(*prediction)
}

/// Where a DC scan or a sequential scan puts what it decodes of a component.
enum Target<'p> {
    /// The DC plane.
    Dc(&'p mut [i16]),
    /// The sample plane, `stride` wide, of blocks of `n` x `n` samples.
    Samples {
        samples: &'p mut [u8],
        stride: usize,
        n: usize,
        multipliers: Box<idct::Multipliers>,
    },
}

impl Default for Target<'_> {
    fn default() -> Self {
        Target::Dc(&mut [])
    }
}

/// The target of each scan component, by its place in the scan, as slices of their own:
/// the compiler then knows that a coefficient stored in one cannot move another, and
/// keeps their addresses in registers instead of reloading them after every store.
fn targets<'p>(
    planes: &'p mut [Plane],
    scan: &Scan,
    kind: Kind,
) -> Result<[Target<'p>; 4], CoreError> {
    let mut targets: [Target<'p>; 4] = Default::default();
    for (index, plane) in planes.iter_mut().enumerate() {
        if let Some(slot) = scan.components.iter().position(|sc| sc.index == index) {
            targets[slot] = if kind == Kind::Sequential && plane.block_samples > 1 {
                Target::Samples {
                    stride: plane.across * plane.block_samples,
                    n: plane.block_samples,
                    samples: &mut plane.samples,
                    multipliers: Box::new(idct::multipliers(
                        plane
                            .quantisation
                            .as_ref()
                            .ok_or_else(|| malformed("undefined quantisation table"))?,
                    )),
                }
            } else {
                Target::Dc(&mut plane.dc)
            };
        }
    }
    Ok(targets)
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
    /// Its block row and column in the plane.
    row: usize,
    col: usize,
}

/// The order in which a scan codes its blocks (T.81 A.2): MCU by MCU, each MCU's blocks
/// component by component, with a restart marker every `restart_interval` MCUs.
struct Walk<'d> {
    blocks: Vec<McuBlock>,
    shape: Shape,
    across: usize,
    down: usize,
    restart_interval: usize,
    deadline: &'d Deadline,
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

impl<'d> Walk<'d> {
    fn new(frame: &Frame, scan: &Scan, restart_interval: usize, deadline: &'d Deadline) -> Self {
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
                        v,
                        dy,
                        dx,
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
            deadline,
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
                        block(
                            reader,
                            run,
                            At {
                                slot: 0,
                                at,
                                row,
                                col,
                            },
                        )
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
                                let (row, col) = (row * v + dy, col * h + dx);
                                block(
                                    reader,
                                    run,
                                    At {
                                        slot: 0,
                                        at,
                                        row,
                                        col,
                                    },
                                )?;
                            }
                        }
                        for b in others {
                            let at = row * b.down + col;
                            block(
                                reader,
                                run,
                                At {
                                    slot: b.slot,
                                    at,
                                    row,
                                    col,
                                },
                            )?;
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
                        let (row, col) = (row * b.v + b.dy, col * b.across + b.dx);
                        block(
                            reader,
                            run,
                            At {
                                slot: b.slot,
                                at,
                                row,
                                col,
                            },
                        )?;
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
            self.deadline.check()?;
        }
        Ok(())
    }
}

/// The AC coefficients of a sequential block (F.2.2.2), kept.
#[inline(always)]
fn decode_ac_sequential<B: Coefficients>(
    reader: &mut BitReader<'_>,
    table: &HuffmanTable,
    block: &mut B,
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
    *block.nonzero_mut() |= nonzero;
    Ok(())
}

/// A first AC scan of a band (G.1.2.2): values shifted left by `low`, and end-of-band runs.
#[inline(always)]
fn decode_ac_first<B: Coefficients>(
    reader: &mut BitReader<'_>,
    table: &HuffmanTable,
    block: &mut B,
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
    *block.nonzero_mut() |= nonzero;
    Ok(())
}

/// An AC refinement scan (G.1.2.3): one correction bit for each coefficient already
/// non-zero, and new coefficients of magnitude 1 << low placed among the zero ones. The
/// positions are handled as bit masks over the non-zero positions of the block, so the work goes with the
/// non-zero coefficients, not with the band's length.
#[inline(always)]
fn decode_ac_refine<B: Coefficients>(
    reader: &mut BitReader<'_>,
    table: &HuffmanTable,
    block: &mut B,
    (start, end): (usize, usize),
    low: u32,
    end_of_band_run: &mut u32,
) -> Result<(), CoreError> {
    let plus = 1i16.wrapping_shl(low);
    let band = from(start) & !from(end + 1);
    if *end_of_band_run > 0 && block.nonzero() & band == 0 {
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
            let mut zeros = ahead & !block.nonzero();
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
                // libjpeg still places the new coefficient, at the position after the
                // band's end (63 past the block's), over whatever is there.
                block.refine(reader, ahead & block.nonzero(), plus);
                if value != 0 {
                    block.store_value((end + 1).min(63), value);
                }
                k = end + 1;
                break;
            }
            let landing = zeros.trailing_zeros() as usize;
            block.refine(reader, ahead & block.nonzero() & !from(landing), plus);
            if value != 0 {
                block.store_value(landing, value);
            }
            k = landing + 1;
        }
    }
    if *end_of_band_run > 0 {
        block.refine(reader, band & from(k) & block.nonzero(), plus);
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
    use crate::jpeg::blocks::{NATURAL_ORDER, REDUCED_AC};

    /// What a kind of block keeps, for comparing it with the whole block.
    trait Kept: Coefficients {
        /// The value at natural position `natural`, None when not kept.
        fn kept(&self, natural: usize) -> Option<i16>;
    }

    impl Kept for ReducedBlock {
        fn kept(&self, natural: usize) -> Option<i16> {
            REDUCED_AC.contains(&natural).then(|| self.at(natural))
        }
    }

    impl Kept for FullBlock {
        fn kept(&self, natural: usize) -> Option<i16> {
            Some(self.values[natural])
        }
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
    /// and cover every bit pattern but all ones (which libjpeg refuses as a code): one
    /// symbol of each length 1..=12, seven of 15.
    fn ac_table() -> HuffmanTable {
        let mut counts = [1u8; 16];
        counts[12..].copy_from_slice(&[0, 0, 7, 0]);
        let values = [
            0x01, 0x00, 0x11, 0x10, 0xF0, 0x21, 0x20, 0x02, 0x31, 0x05, 0x41, 0xE1, 0x0A, 0x1B,
            0x30, 0xD1, 0x09, 0xF3, 0x6C,
        ];
        let mut table = HuffmanTable::new(&counts, &values).unwrap();
        table.prepare_coefficients();
        table.prepare_refinement();
        table
    }

    /// A block with random non-zero coefficients at random positions, in zigzag order,
    /// with their kept block: how the decoders' results are compared.
    fn random_block<B: Kept>(random: &mut Random, low: u32) -> ([i16; 64], B) {
        let mut all = [0i16; 64];
        let mut block = B::default();
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
                    // Past the band's end (corrupt data) libjpeg places it after the end.
                    if value != 0 {
                        all[k.min(63)] = value;
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
    fn assert_same<B: Kept>(all: &[i16; 64], block: &B, case: &str) {
        let mut nonzero = 0u64;
        for (z, &coefficient) in all.iter().enumerate().skip(1) {
            nonzero |= u64::from(coefficient != 0) << z;
            if let Some(kept) = block.kept(NATURAL_ORDER[z]) {
                assert_eq!(kept, coefficient, "{case} z {z}");
            }
        }
        assert_eq!(block.nonzero(), nonzero, "{case}");
    }

    /// Runs the decoder of `kind` and its reference over the same random bits, block after
    /// block, and checks that they read the same bits and reach the same coefficients.
    fn compare_with_reference<B: Kept>(kind: Kind, seed: u64) {
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
            let (mut all, mut block) = random_block::<B>(&mut random, low + above);
            if kind != Kind::AcRefine {
                // A first scan finds its band's positions still zero.
                for (z, coefficient) in all.iter_mut().enumerate() {
                    if (band.0..=band.1).contains(&z) || kind == Kind::Sequential {
                        *coefficient = 0;
                    }
                }
                block = B::default();
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
            if result.is_err() {
                break;
            }
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
            compare_with_reference::<ReducedBlock>(Kind::Sequential, seed);
            compare_with_reference::<FullBlock>(Kind::Sequential, seed);
        }
    }

    #[test]
    fn first_ac_scans_decode_as_the_spec_reads_them() {
        for seed in 1..=50 {
            compare_with_reference::<ReducedBlock>(Kind::AcFirst, seed);
            compare_with_reference::<FullBlock>(Kind::AcFirst, seed);
        }
    }

    #[test]
    fn ac_refinements_decode_as_the_spec_reads_them() {
        for seed in 1..=50 {
            compare_with_reference::<ReducedBlock>(Kind::AcRefine, seed);
            compare_with_reference::<FullBlock>(Kind::AcRefine, seed);
        }
    }
}
