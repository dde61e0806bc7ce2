//! Huffman tables (T.81 Annex C) and decoding (F.2.2.3), with a lookup table on the first
//! `LOOKUP_BITS` bits. For AC tables the lookup also says how many bits a whole
//! coefficient (code plus its magnitude bits) takes, so a block can be skipped without
//! reading any coefficient value, and a second table says how far all the whole
//! coefficients in those bits go, so most lookups skip two or three of them. A third gives
//! a whole coefficient with its value, for the blocks whose AC terms are kept.

use super::bits::BitReader;
use super::malformed;
use crate::error::CoreError;

/// Bits looked up at once; codes (or code plus magnitude) longer than this take the slow path.
const LOOKUP_BITS: u32 = 12;

/// One lookup entry, packed in 16 bits so that the two tables of a scan fit the L1 cache
/// together: bits 0-7 the symbol, 8-11 the code length (0: code longer than
/// LOOKUP_BITS), 12-15 the code and magnitude length together (0: longer than
/// LOOKUP_BITS).
#[derive(Clone, Copy, Default)]
struct Entry(u16);

impl Entry {
    #[inline(always)]
    fn symbol(self) -> u8 {
        self.0 as u8
    }
    #[inline(always)]
    fn code_length(self) -> u32 {
        u32::from((self.0 >> 8) & 15)
    }
    #[inline(always)]
    fn skip_length(self) -> u32 {
        u32::from(self.0 >> 12)
    }
    /// How far an AC symbol moves the coefficient index: its zero run and itself, 16 for
    /// ZRL, 0 for an end of block (EOB, or EOBn in progressive scans).
    #[inline(always)]
    fn advance(self) -> u32 {
        let symbol = self.symbol();
        match (u32::from(symbol >> 4), symbol & 15) {
            (15, 0) => 16,
            (_, 0) => 0,
            (run, _) => run + 1,
        }
    }
}

/// How far the whole coefficients at the start of LOOKUP_BITS bits go, packed: bits 0-3
/// the bits they take (0: not even one fits), 4-11 how far the coefficient index
/// advances, bit 12 set when the last of them is an end of block.
#[derive(Clone, Copy, Default)]
struct Run(u16);

impl Run {
    #[inline(always)]
    fn length(self) -> u32 {
        u32::from(self.0 & 15)
    }
    #[inline(always)]
    fn advance(self) -> usize {
        usize::from((self.0 >> 4) & 0xFF)
    }
    #[inline(always)]
    fn ends_block(self) -> bool {
        self.0 & (1 << 12) != 0
    }
}

/// One whole AC coefficient (code and magnitude) as a lookup gives it, packed: bits 0-3
/// the bits it takes (0: more than LOOKUP_BITS, or not looked up), 4-8 how far it moves
/// the coefficient index (`Entry::advance`), bit 9 set for ZRL, 16-31 its value, or for
/// an end of block the run length category of its end-of-band run.
#[derive(Clone, Copy, Default)]
pub(super) struct Coefficient(u32);

impl Coefficient {
    /// The coefficient of `symbol` with `value`, taking `length` bits.
    pub(super) fn new(symbol: u8, length: u32, value: i32) -> Self {
        let entry = Entry(u16::from(symbol));
        let advance = entry.advance();
        let zero_run = u32::from(symbol == 0xF0);
        let value = if advance == 0 {
            i32::from(symbol >> 4)
        } else {
            value
        };
        Coefficient(length | advance << 4 | zero_run << 9 | (value as u32) << 16)
    }
    #[inline(always)]
    fn length(self) -> u32 {
        self.0 & 15
    }
    /// How far the coefficient index moves: the zero run and the coefficient, 16 for ZRL,
    /// 0 for an end of block.
    #[inline(always)]
    pub(super) fn advance(self) -> usize {
        ((self.0 >> 4) & 31) as usize
    }
    /// True for ZRL, sixteen zeros and no coefficient.
    #[inline(always)]
    pub(super) fn zero_run(self) -> bool {
        self.0 & (1 << 9) != 0
    }
    /// The coefficient's value (0 for ZRL); for an end of block, how many bits its
    /// end-of-band run has.
    #[inline(always)]
    pub(super) fn value(self) -> i32 {
        (self.0 as i32) >> 16
    }
}

pub(super) struct HuffmanTable {
    /// Codes of each length 1..=16, as the DHT segment gave them.
    counts: [u8; 16],
    /// By the next LOOKUP_BITS bits: the symbol and lengths (`prepare_symbols`).
    lookup: Vec<Entry>,
    /// By the same LOOKUP_BITS bits: the coefficients a block skip can take in one step.
    /// Built by `prepare_skipping`; empty until then.
    runs: Vec<Run>,
    /// By the same bits: the whole coefficient they start with, value and all (for a DC
    /// table, the whole difference). Built by `prepare_coefficients` (`prepare_dc`); empty
    /// until then.
    coefficients: Vec<Coefficient>,
    /// By the same bits: the whole symbol of a progressive refinement they start with,
    /// with its sign bit. Built by `prepare_refinement`; empty until then.
    refinements: Vec<Coefficient>,
    /// Largest code of each length 1..=16, -1 when there is none (index 0 unused).
    max_code: [i32; 17],
    /// Index into `values` of the first code of each length, minus that code.
    offset: [i32; 17],
    values: Vec<u8>,
}

impl HuffmanTable {
    /// Builds a table from the 16 code-length counts and the symbol values of a DHT segment.
    pub(super) fn new(counts: &[u8; 16], values: &[u8]) -> Result<Self, CoreError> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total == 0 || total > 256 || total != values.len() {
            return Err(malformed("Huffman table has a bad symbol count"));
        }
        let mut max_code = [-1i32; 17];
        let mut offset = [0i32; 17];
        let mut code: u32 = 0;
        let mut index = 0usize;
        for length in 1..=16u32 {
            let count = u32::from(counts[length as usize - 1]);
            offset[length as usize] = index as i32 - code as i32;
            code += count;
            index += count as usize;
            // As in libjpeg: the codes of each length must fit it, and none may be all ones.
            if code >= (1 << length) {
                return Err(malformed("Huffman table codes overflow"));
            }
            if count > 0 {
                max_code[length as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        Ok(HuffmanTable {
            counts: *counts,
            lookup: Vec::new(),
            runs: Vec::new(),
            coefficients: Vec::new(),
            refinements: Vec::new(),
            max_code,
            offset,
            values: values.to_vec(),
        })
    }

    /// Builds the symbol lookup every decode reads first. Done when a scan first reads
    /// with the table, not when it is defined: a file may define tables by the hundred
    /// thousand and use few of them.
    pub(super) fn prepare_symbols(&mut self) {
        if !self.lookup.is_empty() {
            return;
        }
        let mut lookup = vec![Entry::default(); 1 << LOOKUP_BITS];
        let (mut code, mut index) = (0u32, 0usize);
        for length in 1..=LOOKUP_BITS {
            for _ in 0..self.counts[length as usize - 1] {
                let free = LOOKUP_BITS - length;
                let first = (code << free) as usize;
                lookup[first..first + (1 << free)].fill(Self::entry(self.values[index], length));
                code += 1;
                index += 1;
            }
            code <<= 1;
        }
        self.lookup = lookup;
    }

    /// Builds the lookup `decode_difference` reads a whole DC difference with.
    /// Refuses, as libjpeg does, a table whose symbols are not all DC categories (0-15).
    pub(super) fn prepare_dc(&mut self) -> Result<(), CoreError> {
        if self.values.iter().any(|&category| category > 15) {
            return Err(malformed("DC Huffman table with a symbol over 15"));
        }
        self.prepare_symbols();
        if self.coefficients.is_empty() {
            self.coefficients = (0..self.lookup.len() as u32)
                .map(|bits| {
                    let entry = self.lookup[bits as usize];
                    let (length, category) = (entry.skip_length(), u32::from(entry.symbol()));
                    // Categories past 11 are refused by the slow path.
                    if length == 0 || category > 11 {
                        return Coefficient::default();
                    }
                    let raw = (bits >> (LOOKUP_BITS - length)) & ((1 << category) - 1);
                    Coefficient(length | (extend(raw, category) as u32) << 16)
                })
                .collect();
        }
        Ok(())
    }

    /// Builds the lookup `decode_refinement` reads with.
    pub(super) fn prepare_refinement(&mut self) {
        self.prepare_symbols();
        if self.refinements.is_empty() {
            self.refinements = (0..self.lookup.len() as u32)
                .map(|bits| {
                    let entry = self.lookup[bits as usize];
                    let length = entry.code_length();
                    // A new coefficient's symbol is followed by its sign bit.
                    let signed = u32::from(entry.symbol() & 15 != 0);
                    if length == 0 || length + signed > LOOKUP_BITS {
                        return Coefficient::default();
                    }
                    let sign = (bits >> (LOOKUP_BITS - length - signed)) & signed;
                    Coefficient::new(entry.symbol(), length + signed, 2 * sign as i32 - 1)
                })
                .collect();
        }
    }

    /// Builds the lookup `skip_ac` takes several coefficients at a time with.
    pub(super) fn prepare_skipping(&mut self) {
        self.prepare_symbols();
        if self.runs.is_empty() {
            self.runs = Self::runs(&self.lookup);
        }
    }

    /// Builds the lookup `decode_coefficient` reads a whole coefficient with.
    pub(super) fn prepare_coefficients(&mut self) {
        self.prepare_symbols();
        if self.coefficients.is_empty() {
            self.coefficients = (0..self.lookup.len() as u32)
                .map(|bits| {
                    let entry = self.lookup[bits as usize];
                    let (length, size) = (entry.skip_length(), u32::from(entry.symbol() & 15));
                    if length == 0 {
                        return Coefficient::default();
                    }
                    let raw = (bits >> (LOOKUP_BITS - length)) & ((1 << size) - 1);
                    Coefficient::new(entry.symbol(), length, extend(raw, size))
                })
                .collect();
        }
    }

    /// For every LOOKUP_BITS-bit pattern, the whole coefficients (code and magnitude) it
    /// starts with, up to and including an end of block.
    fn runs(lookup: &[Entry]) -> Vec<Run> {
        let mask = (1usize << LOOKUP_BITS) - 1;
        (0..lookup.len())
            .map(|bits| {
                let (mut used, mut advance, mut ends) = (0, 0, false);
                while used < LOOKUP_BITS {
                    let entry = lookup[(bits << used) & mask];
                    let length = entry.skip_length();
                    // The shifted pattern ends in zeros that are not data: only entries
                    // within the real bits count.
                    if length == 0 || used + length > LOOKUP_BITS {
                        break;
                    }
                    used += length;
                    if entry.advance() == 0 {
                        ends = true;
                        break;
                    }
                    advance += entry.advance();
                }
                // At most 12 one-bit ZRLs: the advance fits 8 bits.
                Run((used | advance << 4 | u32::from(ends) << 12) as u16)
            })
            .collect()
    }

    /// The packed entry of `symbol` with a code of `length` bits.
    fn entry(symbol: u8, length: u32) -> Entry {
        let size = u32::from(symbol & 15);
        let skip = if length + size <= LOOKUP_BITS {
            length + size
        } else {
            0
        };
        Entry(u16::from(symbol) | (length as u16) << 8 | (skip as u16) << 12)
    }

    /// Decodes one symbol.
    #[inline(always)]
    pub(super) fn decode(&self, reader: &mut BitReader<'_>) -> Result<u8, CoreError> {
        reader.fill();
        let entry = self
            .lookup
            .get(reader.peek(LOOKUP_BITS) as usize)
            .copied()
            .unwrap_or_default();
        let length = entry.code_length();
        if length != 0 {
            reader.consume(length);
            return Ok(entry.symbol());
        }
        let (symbol, length) = self.decode_long(reader.peek(16))?;
        reader.consume(length);
        Ok(symbol)
    }

    /// Decodes a symbol whose low four bits are a magnitude category, then that many
    /// magnitude bits, and returns (symbol, value) (T.81 F.2.2.1). One lookup does both
    /// when they fit in LOOKUP_BITS.
    #[inline(always)]
    pub(super) fn decode_value(&self, reader: &mut BitReader<'_>) -> Result<(u8, i32), CoreError> {
        reader.fill();
        let peek = reader.peek(LOOKUP_BITS);
        let entry = self.lookup[peek as usize];
        let total = entry.skip_length();
        let symbol = entry.symbol();
        let size = u32::from(symbol & 15);
        if total != 0 {
            let raw = (peek >> (LOOKUP_BITS - total)) & ((1 << size) - 1);
            reader.consume(total);
            return Ok((symbol, extend(raw, size)));
        }
        let symbol = self.decode(reader)?;
        Ok((symbol, reader.receive_extend(u32::from(symbol & 15))))
    }

    /// Decodes one whole AC coefficient (T.81 F.2.2.2): one lookup when it fits in
    /// LOOKUP_BITS and `prepare_coefficients` has run.
    #[inline(always)]
    pub(super) fn decode_coefficient(
        &self,
        reader: &mut BitReader<'_>,
    ) -> Result<Coefficient, CoreError> {
        if let Some(coefficient) = looked_up(reader, &self.coefficients) {
            return Ok(coefficient);
        }
        let symbol = self.decode(reader)?;
        let value = reader.receive_extend(u32::from(symbol & 15));
        Ok(Coefficient::new(symbol, 0, value))
    }

    /// Decodes one symbol of an AC refinement scan (G.1.2.3) with the sign bit of the new
    /// coefficient it places, if it does, as the value (+1 or -1): one lookup when they
    /// fit in LOOKUP_BITS and `prepare_refinement` has run. A symbol whose magnitude
    /// category is not 1 (corrupt) counts as 1, as in libjpeg.
    #[inline(always)]
    pub(super) fn decode_refinement(
        &self,
        reader: &mut BitReader<'_>,
    ) -> Result<Coefficient, CoreError> {
        if let Some(refinement) = looked_up(reader, &self.refinements) {
            return Ok(refinement);
        }
        let symbol = self.decode(reader)?;
        let sign = if symbol & 15 != 0 { reader.bits(1) } else { 0 };
        Ok(Coefficient::new(symbol, 0, 2 * sign as i32 - 1))
    }

    /// Decodes a DC difference (T.81 F.2.2.1): one lookup when code and magnitude fit in
    /// LOOKUP_BITS and `prepare_dc` has run.
    #[inline(always)]
    pub(super) fn decode_difference(&self, reader: &mut BitReader<'_>) -> Result<i32, CoreError> {
        if let Some(difference) = looked_up(reader, &self.coefficients) {
            return Ok(difference.value());
        }
        let (category, difference) = self.decode_value(reader)?;
        if category > 11 {
            return Err(malformed("DC difference out of range"));
        }
        Ok(difference)
    }

    /// The symbol whose code, longer than LOOKUP_BITS, starts the 16 bits `next`, and the
    /// code's length (T.81 F.16). It takes the bits, not the reader, so that a hot loop's
    /// reader can stay in registers (see `BitReader`).
    #[cold]
    fn decode_long(&self, next: u32) -> Result<(u8, u32), CoreError> {
        // The lookup holds every code up to LOOKUP_BITS long, once it is built.
        let shortest = if self.lookup.is_empty() {
            1
        } else {
            LOOKUP_BITS + 1
        };
        for length in shortest..=16 {
            let code = (next >> (16 - length)) as i32;
            if code <= self.max_code[length as usize] {
                let index = self.offset[length as usize] + code;
                return self
                    .values
                    .get(index as usize)
                    .map(|&symbol| (symbol, length))
                    .ok_or_else(|| malformed("bad Huffman code"));
            }
        }
        Err(malformed("bad Huffman code"))
    }

    /// Reads past the AC coefficients 1..=63 of one block without keeping them.
    #[inline(always)]
    pub(super) fn skip_ac(&self, reader: &mut BitReader<'_>) -> Result<(), CoreError> {
        let mut k = 1;
        while k < 64 {
            reader.fill();
            let peek = reader.peek(LOOKUP_BITS) as usize;
            // Several coefficients at once, unless they would reach past the block's end:
            // the bits after coefficient 63 belong to the next block, so an end of block
            // read there would be the next block's DC code.
            let run = self.runs.get(peek).copied().unwrap_or_default();
            if run.length() != 0 && k + run.advance() + usize::from(run.ends_block()) <= 64 {
                reader.consume(run.length());
                if run.ends_block() {
                    return Ok(());
                }
                k += run.advance();
                continue;
            }
            let entry = self.lookup[peek];
            let skip = entry.skip_length();
            if skip != 0 {
                reader.consume(skip);
                match entry.advance() {
                    0 => return Ok(()),
                    advance => k += advance as usize,
                }
                continue;
            }
            let symbol = self.decode(reader)?;
            let (run, size) = (usize::from(symbol >> 4), u32::from(symbol & 15));
            if size == 0 {
                if run != 15 {
                    return Ok(());
                }
                k += 16;
            } else {
                reader.bits(size);
                k += run + 1;
            }
        }
        Ok(())
    }
}

/// The whole coefficient (or difference, or refinement symbol) of `lookup` that the next
/// LOOKUP_BITS bits start with, consumed; None when it is longer, or the lookup is not built.
#[inline(always)]
fn looked_up(reader: &mut BitReader<'_>, lookup: &[Coefficient]) -> Option<Coefficient> {
    reader.fill();
    let found = lookup
        .get(reader.peek(LOOKUP_BITS) as usize)
        .copied()
        .unwrap_or_default();
    if found.length() == 0 {
        return None;
    }
    reader.consume(found.length());
    Some(found)
}

/// T.81 F.2.2.1 EXTEND: an `size`-bit magnitude code to its signed value (0 for size 0).
/// Branch-free: the sign of a coefficient is a coin toss, which a branch would mispredict
/// half the time, and so is whether a DC difference is zero.
#[inline(always)]
pub(super) fn extend(raw: u32, size: u32) -> i32 {
    let value = raw as i32;
    // The top magnitude bit (0 for size 0); -1 when it is clear (a negative value), else 0.
    let half = (1i32 << size) >> 1;
    let negative = (value - half) >> 31;
    value + (negative & ((-1i32).wrapping_shl(size) + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// T.81 Table K.3: the luminance DC table of the spec's examples.
    pub(crate) const DC_COUNTS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    pub(crate) const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

    #[test]
    fn decodes_the_spec_dc_table() {
        let table = HuffmanTable::new(&DC_COUNTS, &DC_VALUES).unwrap();
        // Codes of K.3: category 0 = 00, 1 = 010, 5 = 110, 11 = 111111110.
        let cases: [(&[u8], u8); 4] = [
            (&[0b0000_0000], 0),
            (&[0b0100_0000], 1),
            (&[0b1100_0000], 5),
            (&[0b1111_1111, 0x00, 0b0000_0000], 11),
        ];
        for (bytes, expected) in cases {
            let mut data = bytes.to_vec();
            data.extend_from_slice(&[0; 8]);
            let mut reader = BitReader::new(&data, 0);
            assert_eq!(table.decode(&mut reader).unwrap(), expected);
        }
    }

    #[test]
    fn a_dc_difference_from_one_lookup_equals_one_from_code_then_magnitude() {
        // A complete code: categories 0..=9 with codes of 2 to 9 bits, then 64 codes of
        // 15 bits (past the lookup) for 10 and 11, and the last one for 12 (refused).
        let mut counts = [0u8; 16];
        counts[1..9].copy_from_slice(&[3, 1, 1, 1, 1, 1, 1, 1]);
        // Not a complete code: libjpeg refuses tables whose codes include all ones.
        counts[14] = 63;
        let mut values: Vec<u8> = (0..10).chain((0..62).map(|i| 10 + i % 2)).collect();
        values.push(12);
        let mut table = HuffmanTable::new(&counts, &values).unwrap();
        let plain = HuffmanTable::new(&counts, &values).unwrap();
        table.prepare_dc().unwrap();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let data: Vec<u8> = (0..20_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .filter(|&b| b != 0xFF)
            .collect();
        let (mut reader, mut expected) = (BitReader::new(&data, 0), BitReader::new(&data, 0));
        let (mut differences, mut refused) = (0, 0);
        // Up to the data's end, where `consumed` stops meaning anything.
        while expected.consumed() + 64 < data.len() * 8 {
            let difference = table.decode_difference(&mut reader);
            let reference = plain.decode(&mut expected).and_then(|category| {
                if category > 11 {
                    Err(malformed("DC difference out of range"))
                } else {
                    Ok(expected.receive_extend(u32::from(category)))
                }
            });
            match (difference, reference) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b);
                    differences += 1;
                }
                (Err(_), Err(_)) => {
                    refused += 1;
                    break;
                }
                (a, b) => panic!("{a:?} against {b:?}"),
            }
            assert_eq!(reader.consumed(), expected.consumed());
        }
        assert!(
            differences > 1000 && refused <= 1,
            "{differences} {refused}"
        );
    }

    #[test]
    fn decodes_codes_longer_than_the_lookup() {
        // One symbol per length 1..=15 (the all-ones code of length 16 is left out).
        let mut counts = [1u8; 16];
        counts[15] = 0;
        let values: Vec<u8> = (1..=15).collect();
        let table = HuffmanTable::new(&counts, &values).unwrap();
        // The code of length 13 is twelve ones then a zero.
        let data = [0xFF, 0x00, 0b1111_0000, 0, 0, 0, 0, 0, 0, 0];
        let mut reader = BitReader::new(&data, 0);
        assert_eq!(table.decode(&mut reader).unwrap(), 13);
    }

    /// Packs a string of '0' and '1' into bytes, zero-padded, with slack for the reader.
    fn pack(bits: &str) -> Vec<u8> {
        let mut bytes = vec![0u8; bits.len().div_ceil(8) + 8];
        for (i, bit) in bits.bytes().enumerate() {
            bytes[i / 8] |= u8::from(bit == b'1') << (7 - i % 8);
        }
        bytes
    }

    #[test]
    fn skipping_stops_at_coefficient_63_even_when_an_end_of_block_could_follow() {
        // Codes: 00 = one coefficient of size 1, 01 = EOB, 10 = ZRL.
        let mut counts = [0u8; 16];
        counts[1] = 3;
        let mut table = HuffmanTable::new(&counts, &[0x01, 0x00, 0xF0]).unwrap();
        table.prepare_skipping();
        // 63 coefficients of three bits, no EOB (the block is full), then the next
        // block's bits, which begin like an EOB.
        for tail in ["01", "0101", "10"] {
            let bits = format!("{}{tail}", "001".repeat(63));
            let data = pack(&bits);
            let mut reader = BitReader::new(&data, 0);
            table.skip_ac(&mut reader).unwrap();
            let next = reader.bits(tail.len() as u32);
            assert_eq!(next, u32::from_str_radix(tail, 2).unwrap(), "tail {tail}");
        }
        // A ZRL and a run of coefficients, ended by an EOB inside one lookup.
        let data = pack(&format!("10{}01{}", "001".repeat(3), "10"));
        let mut reader = BitReader::new(&data, 0);
        table.skip_ac(&mut reader).unwrap();
        assert_eq!(reader.bits(2), 0b10);
    }

    #[test]
    fn extend_matches_the_spec_for_every_size_and_value() {
        assert_eq!(extend(0, 0), 0);
        for size in 1..=15u32 {
            for raw in 0..(1u32 << size) {
                // T.81 F.2.2.1: values below 2^(size-1) are negative.
                let expected = if raw < 1 << (size - 1) {
                    raw as i32 - (1 << size) + 1
                } else {
                    raw as i32
                };
                assert_eq!(extend(raw, size), expected, "{raw} of {size} bits");
            }
        }
    }

    #[test]
    fn refuses_bad_tables() {
        let mut counts = [0u8; 16];
        counts[0] = 3; // three codes of one bit cannot exist
        assert!(HuffmanTable::new(&counts, &[1, 2, 3]).is_err());
        assert!(HuffmanTable::new(&[0; 16], &[]).is_err());
        assert!(HuffmanTable::new(&DC_COUNTS, &DC_VALUES[..5]).is_err());
    }

    #[test]
    fn an_undefined_code_is_an_error() {
        let mut counts = [0u8; 16];
        counts[0] = 1; // only "0"
        let table = HuffmanTable::new(&counts, &[7]).unwrap();
        let data = [0xFE, 0x00, 0xFF, 0x00, 0, 0, 0, 0, 0, 0];
        let mut reader = BitReader::new(&data, 0);
        assert!(table.decode(&mut reader).is_err());
    }
}
