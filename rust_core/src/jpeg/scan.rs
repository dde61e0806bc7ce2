//! Entropy-coded scans, DC coefficients only (T.81 F.2.2, G.1.2.1).
//!
//! Sequential scans decode each block's DC difference and read past its AC symbols.
//! Progressive DC scans are decoded (first scans and refinements); progressive AC scans
//! are skipped whole by looking for the marker that ends them.

use super::bits::{next_marker, BitReader};
use super::headers::{Frame, Scan};
use super::huffman::HuffmanTable;
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

/// The coefficients kept of one component, `stride` per block (1: DC only; 64: all of
/// them, for the chroma of 4:2:0, which libjpeg reduces with a 2x2 inverse DCT at this
/// scale), in rows of `across` blocks, natural order, 16 bits wide as libjpeg keeps them.
pub(super) struct Plane {
    pub across: usize,
    pub stride: usize,
    pub coefficients: Vec<i16>,
    /// The quantisation table (natural order), latched at the component's first scan.
    pub quantisation: Option<[u16; 64]>,
}

/// The Huffman tables defined so far, by slot.
pub(super) struct Tables<'t> {
    pub dc: &'t [Option<HuffmanTable>; 4],
    pub ac: &'t [Option<HuffmanTable>; 4],
}

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
        && planes[scan.components[0].index].stride == 1
    {
        // Only the DC term of this component is wanted: skip the scan without decoding it.
        return next_marker(data, pos, true).ok_or_else(|| malformed("scan never ends"));
    }
    let mut blocks = Vec::with_capacity(scan.components.len());
    for sc in &scan.components {
        let dc = match kind {
            Kind::Sequential | Kind::DcFirst => Some(
                tables.dc[sc.dc_table]
                    .as_ref()
                    .ok_or_else(|| malformed("undefined DC table"))?,
            ),
            _ => None,
        };
        let ac = match kind {
            Kind::Sequential | Kind::AcFirst | Kind::AcRefine => Some(
                tables.ac[sc.ac_table]
                    .as_ref()
                    .ok_or_else(|| malformed("undefined AC table"))?,
            ),
            _ => None,
        };
        blocks.push((sc.index, dc, ac));
    }
    let interleaved = scan.components.len() > 1;
    let (across, down) = if interleaved {
        (frame.mcus_across, frame.mcus_down)
    } else {
        frame.component_blocks(scan.components[0].index)
    };
    let band = (usize::from(scan.start), usize::from(scan.end));
    let low = u32::from(scan.low);
    let mut reader = BitReader::new(data, pos);
    let mut predictions = [0i32; 4];
    let mut end_of_band_run = 0u32;
    let mut left_in_interval = restart_interval;
    let mut next_restart = 0u8;
    for row in 0..down {
        for col in 0..across {
            if restart_interval > 0 {
                if left_in_interval == 0 {
                    restart(&mut reader, data, &mut next_restart)?;
                    predictions = [0; 4];
                    end_of_band_run = 0;
                    left_in_interval = restart_interval;
                }
                left_in_interval -= 1;
            }
            for (slot, &(index, dc, ac)) in blocks.iter().enumerate() {
                let component = &frame.components[index];
                let (h, v) = if interleaved {
                    (component.h, component.v)
                } else {
                    (1, 1)
                };
                let plane = &mut planes[index];
                let stride = plane.stride;
                for y in 0..v {
                    for x in 0..h {
                        let block = (row * v + y) * plane.across + col * h + x;
                        let coefficients = plane
                            .coefficients
                            .get_mut(block * stride..(block + 1) * stride)
                            .ok_or_else(|| malformed("block outside the image"))?;
                        match (kind, dc, ac) {
                            (Kind::DcRefine, _, _) => {
                                if reader.bits(1) != 0 {
                                    coefficients[0] |= 1 << low;
                                }
                            }
                            (Kind::Sequential | Kind::DcFirst, Some(dc), _) => {
                                let (category, difference) = dc.decode_value(&mut reader)?;
                                if category > 11 {
                                    return Err(malformed("DC difference out of range"));
                                }
                                predictions[slot] = predictions[slot].wrapping_add(difference);
                                coefficients[0] = predictions[slot].wrapping_shl(low) as i16;
                                if let (Kind::Sequential, Some(ac)) = (kind, ac) {
                                    if stride == 1 {
                                        ac.skip_ac(&mut reader)?;
                                    } else {
                                        decode_ac_sequential(&mut reader, ac, coefficients)?;
                                    }
                                }
                            }
                            (Kind::AcFirst, _, Some(ac)) => decode_ac_first(
                                &mut reader,
                                ac,
                                coefficients,
                                band,
                                low,
                                &mut end_of_band_run,
                            )?,
                            (Kind::AcRefine, _, Some(ac)) => decode_ac_refine(
                                &mut reader,
                                ac,
                                coefficients,
                                band,
                                low,
                                &mut end_of_band_run,
                            )?,
                            _ => return Err(malformed("undefined Huffman table")),
                        }
                    }
                }
            }
        }
        if reader.overran() {
            return Err(malformed("entropy-coded data ends early"));
        }
    }
    if reader.overran() {
        return Err(malformed("entropy-coded data ends early"));
    }
    next_marker(data, reader.position(), true).ok_or_else(|| malformed("scan never ends"))
}

/// The AC coefficients of a sequential block (F.2.2.2), kept.
fn decode_ac_sequential(
    reader: &mut BitReader<'_>,
    table: &HuffmanTable,
    block: &mut [i16],
) -> Result<(), CoreError> {
    let mut k = 1;
    while k < 64 {
        let (symbol, value) = table.decode_value(reader)?;
        let (run, size) = (usize::from(symbol >> 4), symbol & 15);
        if size == 0 {
            if run != 15 {
                break;
            }
            k += 16;
            continue;
        }
        k += run;
        block[NATURAL_ORDER[k]] = value as i16;
        k += 1;
    }
    Ok(())
}

/// A first AC scan of a band (G.1.2.2): values shifted left by `low`, and end-of-band runs.
fn decode_ac_first(
    reader: &mut BitReader<'_>,
    table: &HuffmanTable,
    block: &mut [i16],
    (start, end): (usize, usize),
    low: u32,
    end_of_band_run: &mut u32,
) -> Result<(), CoreError> {
    if *end_of_band_run > 0 {
        *end_of_band_run -= 1;
        return Ok(());
    }
    let mut k = start;
    while k <= end {
        let (symbol, value) = table.decode_value(reader)?;
        let (run, size) = (u32::from(symbol >> 4), symbol & 15);
        if size == 0 {
            if run == 15 {
                k += 16;
                continue;
            }
            *end_of_band_run = (1 << run) - 1 + reader.bits(run);
            break;
        }
        k += run as usize;
        block[NATURAL_ORDER[k.min(79)]] = value.wrapping_shl(low) as i16;
        k += 1;
    }
    Ok(())
}

/// An AC refinement scan (G.1.2.3): one correction bit for each coefficient already
/// non-zero, and new coefficients of magnitude 1 << low placed among the zero ones.
fn decode_ac_refine(
    reader: &mut BitReader<'_>,
    table: &HuffmanTable,
    block: &mut [i16],
    (start, end): (usize, usize),
    low: u32,
    end_of_band_run: &mut u32,
) -> Result<(), CoreError> {
    let plus = 1i16.wrapping_shl(low);
    let minus = (-1i16).wrapping_shl(low);
    let refine = |reader: &mut BitReader<'_>, coefficient: &mut i16| {
        if reader.bits(1) != 0 && (*coefficient & plus) == 0 {
            *coefficient = coefficient.wrapping_add(if *coefficient >= 0 { plus } else { minus });
        }
    };
    let mut k = start;
    if *end_of_band_run == 0 {
        while k <= end {
            let symbol = table.decode(reader)?;
            let (mut run, size) = (u32::from(symbol >> 4), u32::from(symbol & 15));
            let mut value = 0;
            if size != 0 {
                value = if reader.bits(1) != 0 { plus } else { minus };
            } else if run != 15 {
                *end_of_band_run = (1 << run) + reader.bits(run);
                break;
            }
            while k <= end {
                let coefficient = &mut block[NATURAL_ORDER[k]];
                if *coefficient != 0 {
                    refine(reader, coefficient);
                } else {
                    if run == 0 {
                        break;
                    }
                    run -= 1;
                }
                k += 1;
            }
            if value != 0 && k <= end {
                block[NATURAL_ORDER[k]] = value;
            }
            k += 1;
        }
    }
    if *end_of_band_run > 0 {
        while k <= end {
            let coefficient = &mut block[NATURAL_ORDER[k]];
            if *coefficient != 0 {
                refine(reader, coefficient);
            }
            k += 1;
        }
        *end_of_band_run -= 1;
    }
    Ok(())
}

/// Moves past the RSTn marker that must come next, dropping the bits of the last byte.
fn restart(reader: &mut BitReader<'_>, data: &[u8], next: &mut u8) -> Result<(), CoreError> {
    if reader.overran() {
        return Err(malformed("entropy-coded data ends early"));
    }
    let at = next_marker(data, reader.position(), false)
        .ok_or_else(|| malformed("missing restart marker"))?;
    if data.get(at + 1) != Some(&(0xD0 + *next)) {
        return Err(malformed("missing restart marker"));
    }
    reader.reset_at(at + 2);
    *next = (*next + 1) & 7;
    Ok(())
}
