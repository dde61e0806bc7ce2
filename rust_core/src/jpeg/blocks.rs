//! Where a block's decoded AC coefficients are kept: all 63 of them (`FullBlock`, for the
//! 4x4 and 8x8 inverse DCTs), or only the 24 that libjpeg's 2x2 reduction reads
//! (`ReducedBlock`, half the memory, for chroma scaled 2x2 in progressive files). Both
//! know which of the 63 are non-zero, which is what progressive refinement scans need.
//!
//! Every coefficient decoded is stored, the ones not kept in a slot of their own (the
//! sink), so that storing one takes no branch: whether a position is kept would be
//! mispredicted often.

use super::bits::BitReader;
use super::huffman::Coefficient;

/// Zigzag position -> natural (row-major) position in a block (T.81 Figure A.6), with 16
/// extra entries so a corrupt run past the end lands on the last coefficient, as in libjpeg.
pub(super) const NATURAL_ORDER: [usize; 80] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 63, 63, 63, 63, 63,
];

/// The AC coefficients (natural order) that libjpeg's 2x2 reduced inverse DCT reads: rows
/// and columns 0, 1, 3, 5, 7. They are all a `ReducedBlock` keeps the values of.
pub(super) const REDUCED_AC: [usize; 24] = [
    1, 3, 5, 7, 8, 9, 11, 13, 15, 24, 25, 27, 29, 31, 40, 41, 43, 45, 47, 56, 57, 59, 61, 63,
];

/// Slots of a `ReducedBlock`: the kept values, then the sink.
const REDUCED_SINK: u8 = REDUCED_AC.len() as u8;
/// Slots of a `FullBlock`: the 64 natural positions (DC's unused by AC scans), then the sink.
const FULL_SINK: u8 = 64;

/// Where a coefficient read ending at zigzag position `z` is stored, for `z` < 160:
/// `slot_of(natural position)` (past 63, as libjpeg does, that of 63); from 80 on, the
/// sink for every position, which is where ZRL's zero goes.
const fn store_table(slot_of: &[u8; 64], sink: u8) -> [u8; 160] {
    let mut store = [sink; 160];
    let mut z = 1;
    while z < 80 {
        let natural = NATURAL_ORDER[if z < 63 { z } else { 63 }];
        store[z] = slot_of[natural];
        z += 1;
    }
    store
}

/// Natural position -> slot in a `ReducedBlock` (the sink when not kept).
const REDUCED_SLOT: [u8; 64] = {
    let mut slots = [REDUCED_SINK; 64];
    let mut i = 0;
    while i < REDUCED_AC.len() {
        slots[REDUCED_AC[i]] = i as u8;
        i += 1;
    }
    slots
};

/// Natural position -> slot in a `FullBlock`: itself.
const FULL_SLOT: [u8; 64] = {
    let mut slots = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        slots[i] = i as u8;
        i += 1;
    }
    slots
};

/// Zigzag bits of the positions a `ReducedBlock` keeps.
pub(super) const REDUCED_MASK: u64 = {
    let mut mask = 0;
    let mut z = 0;
    while z < 64 {
        if REDUCED_SLOT[NATURAL_ORDER[z]] != REDUCED_SINK {
            mask |= 1 << z;
        }
        z += 1;
    }
    mask
};

/// A block's AC coefficients as some IDCT needs them kept.
pub(super) trait Coefficients: Copy + Default {
    /// `store_table` of this kind of block.
    const STORE: [u8; 160];
    /// The value slots, the sink last.
    fn slots(&mut self) -> &mut [i16];
    /// Bit k set when the coefficient at zigzag position k is non-zero.
    fn nonzero(&self) -> u64;
    fn nonzero_mut(&mut self) -> &mut u64;

    /// Stores `coefficient`, read ending at zigzag position `z`, shifted left by `low`:
    /// its value at `z` (at 63 past 63), or nothing for ZRL. Returns its `nonzero` bit,
    /// for the caller to merge once the block is done: merged at once, the mask would go
    /// through memory for every coefficient.
    #[inline(always)]
    fn store(&mut self, z: usize, coefficient: Coefficient, low: u32) -> u64 {
        let value = coefficient.value().wrapping_shl(low) as i16;
        let index = z + 80 * usize::from(coefficient.zero_run());
        if let Some(&slot) = Self::STORE.get(index) {
            if let Some(kept) = self.slots().get_mut(usize::from(slot)) {
                *kept = value;
            }
        }
        u64::from(value != 0) << z.min(63)
    }

    /// Stores a value at zigzag position `z` (1..=63).
    #[inline(always)]
    fn store_value(&mut self, z: usize, value: i16) {
        if let Some(&slot) = Self::STORE.get(z) {
            if let Some(kept) = self.slots().get_mut(usize::from(slot)) {
                *kept = value;
            }
        }
        *self.nonzero_mut() |= u64::from(value != 0) << (z & 63);
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
                if let Some(&slot) = Self::STORE.get(z) {
                    if let Some(value) = self.slots().get_mut(usize::from(slot)) {
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

/// The AC terms libjpeg's 2x2 reduction reads (natural positions `REDUCED_AC`), and
/// which of all 63 are non-zero: 64 bytes instead of 136.
#[derive(Clone, Copy, Default)]
pub(super) struct ReducedBlock {
    /// Values at the natural positions of `REDUCED_AC`, in that order, then the sink.
    pub values: [i16; REDUCED_SINK as usize + 1],
    pub nonzero: u64,
}

impl ReducedBlock {
    /// The value at natural position `natural` (0 when it is not kept).
    #[cfg(test)]
    pub(super) fn at(&self, natural: usize) -> i16 {
        match REDUCED_SLOT[natural] {
            REDUCED_SINK => 0,
            slot => self.values[usize::from(slot)],
        }
    }
}

impl Coefficients for ReducedBlock {
    const STORE: [u8; 160] = store_table(&REDUCED_SLOT, REDUCED_SINK);
    #[inline(always)]
    fn slots(&mut self) -> &mut [i16] {
        &mut self.values
    }
    #[inline(always)]
    fn nonzero(&self) -> u64 {
        self.nonzero
    }
    #[inline(always)]
    fn nonzero_mut(&mut self) -> &mut u64 {
        &mut self.nonzero
    }
}

/// Every coefficient of a block in natural order (the DC term at 0, set before an IDCT;
/// AC scans never store there), the sink, and which are non-zero.
#[derive(Clone, Copy)]
pub(super) struct FullBlock {
    pub values: [i16; FULL_SINK as usize + 1],
    pub nonzero: u64,
}

impl Default for FullBlock {
    fn default() -> Self {
        FullBlock {
            values: [0; FULL_SINK as usize + 1],
            nonzero: 0,
        }
    }
}

impl Coefficients for FullBlock {
    const STORE: [u8; 160] = store_table(&FULL_SLOT, FULL_SINK);
    #[inline(always)]
    fn slots(&mut self) -> &mut [i16] {
        &mut self.values
    }
    #[inline(always)]
    fn nonzero(&self) -> u64 {
        self.nonzero
    }
    #[inline(always)]
    fn nonzero_mut(&mut self) -> &mut u64 {
        &mut self.nonzero
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduced_slots_cover_exactly_the_coefficients_the_reduction_reads() {
        for (natural, &slot) in REDUCED_SLOT.iter().enumerate() {
            let kept = slot != REDUCED_SINK;
            assert_eq!(kept, REDUCED_AC.contains(&natural), "natural {natural}");
            if kept {
                assert_eq!(REDUCED_AC[usize::from(slot)], natural);
            }
        }
        assert_eq!(REDUCED_MASK.count_ones(), 24);
    }

    #[test]
    fn stores_land_where_libjpeg_puts_them() {
        // Past 63 (corrupt data) a coefficient lands on 63; ZRL's zero lands on the sink.
        let reduced = <ReducedBlock as Coefficients>::STORE;
        assert!(reduced[63..80].iter().all(|&slot| slot == REDUCED_SLOT[63]));
        assert!(reduced[80..].iter().all(|&slot| slot == REDUCED_SINK));
        let full = <FullBlock as Coefficients>::STORE;
        assert!(full[63..80].iter().all(|&slot| slot == 63));
        assert!((1..63).all(|z| usize::from(full[z]) == NATURAL_ORDER[z]));

        let mut block = ReducedBlock::default();
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

        let mut full = FullBlock::default();
        full.store_value(3, 7);
        full.nonzero |= full.store(62, Coefficient::new(0xF0, 0, 0), 0);
        assert_eq!((full.values[16], full.values[63]), (7, 0));
    }
}
