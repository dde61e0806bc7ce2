//! Entropy-coded data: the bit reader (byte stuffing, markers) and the marker search that
//! skips a scan without decoding it (T.81 B.1.1.5, F.1.2.3).

/// Reads bits most-significant first from entropy-coded data. `0xFF 0x00` is one `0xFF`
/// byte; any other `0xFF xx` is a marker, where reading stops: from there on the reader
/// supplies zero bits and counts them, so a scan that needed them can be refused.
///
/// The hot loops keep a reader in registers, which the compiler does only while no
/// function it calls takes the reader's address: so what is not inlined here (the slow
/// refill) takes and returns the reader by value.
#[derive(Clone, Copy)]
pub(super) struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte to load.
    pos: usize,
    /// Valid bits, left-aligned.
    buf: u64,
    /// How many bits of `buf` are valid.
    count: u32,
    /// A marker (or the end of the data) was reached at `pos`.
    stopped: bool,
    /// Zero bits supplied after `stopped`, not all of them necessarily consumed yet.
    padding: u32,
}

/// True when some byte of `word` is 0xFF.
#[inline(always)]
fn has_ff_byte(word: u64) -> bool {
    let inverted = !word;
    (inverted.wrapping_sub(0x0101_0101_0101_0101) & word & 0x8080_8080_8080_8080) != 0
}

impl<'a> BitReader<'a> {
    /// A reader of the entropy-coded data starting at `data[pos]`.
    pub(super) fn new(data: &'a [u8], pos: usize) -> Self {
        BitReader {
            data,
            pos: pos.min(data.len()),
            buf: 0,
            count: 0,
            stopped: false,
            padding: 0,
        }
    }

    /// Where the next unread byte is (a marker's 0xFF once the reader has stopped there).
    pub(super) fn position(&self) -> usize {
        self.pos
    }

    /// How many bits were consumed, in data without stuffed bytes or markers.
    #[cfg(test)]
    pub(super) fn consumed(&self) -> usize {
        self.pos * 8 - self.count as usize
    }

    /// True when bits past the end of the segment were consumed: the data is truncated
    /// or corrupt.
    #[inline(always)]
    pub(super) fn overran(&self) -> bool {
        self.padding > self.count
    }

    /// Makes at least 16 bits available (zeros past a marker), which is the most any read
    /// takes at once; refilling less often than that would leave fewer branches to
    /// mispredict.
    #[inline(always)]
    pub(super) fn fill(&mut self) {
        if self.count >= 16 {
            return;
        }
        // Fast path: the next eight bytes hold no 0xFF, so whole bytes can be taken at once.
        if !self.stopped {
            if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
                let word = u64::from_be_bytes(chunk.try_into().unwrap_or([0xFF; 8]));
                if !has_ff_byte(word) {
                    let bytes = (63 - self.count) / 8; // 6 or 7, since count < 16
                    self.buf |= (word >> (64 - 8 * bytes)) << (64 - self.count - 8 * bytes);
                    self.count += 8 * bytes;
                    self.pos += bytes as usize;
                    return;
                }
            }
        }
        *self = self.filled_slowly();
    }

    /// The reader refilled byte by byte, past stuffed bytes and up to a marker.
    #[cold]
    #[inline(never)]
    fn filled_slowly(mut self) -> Self {
        while self.count <= 56 {
            let byte = if self.stopped {
                self.padding += 8;
                0
            } else {
                match self.data.get(self.pos..) {
                    Some([0xFF, 0x00, ..]) => {
                        self.pos += 2;
                        0xFF
                    }
                    Some([0xFF, ..]) | Some([]) | None => {
                        self.stopped = true;
                        self.padding += 8;
                        0
                    }
                    Some([byte, ..]) => {
                        self.pos += 1;
                        *byte
                    }
                }
            };
            self.buf |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
        self
    }

    /// The next `n` bits (n <= 32) without consuming them; `fill` must have run.
    #[inline(always)]
    pub(super) fn peek(&self, n: u32) -> u32 {
        debug_assert!((1..=32).contains(&n));
        (self.buf >> (64 - n)) as u32
    }

    /// Drops `n` bits (n <= the available count).
    #[inline(always)]
    pub(super) fn consume(&mut self, n: u32) {
        debug_assert!(n <= self.count && n < 64);
        self.buf <<= n & 63;
        self.count = self.count.saturating_sub(n);
    }

    /// Reads `n` bits, 0 <= n <= 16.
    #[inline(always)]
    pub(super) fn bits(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        self.fill();
        let value = self.peek(n);
        self.consume(n);
        value
    }

    /// Reads an `n`-bit magnitude and sign-extends it as T.81 F.2.2.1 EXTEND does.
    #[inline(always)]
    pub(super) fn receive_extend(&mut self, n: u32) -> i32 {
        if n == 0 {
            return 0;
        }
        super::huffman::extend(self.bits(n), n)
    }

    /// Drops the buffered bits (the rest of the byte before a restart marker).
    pub(super) fn reset_at(&mut self, pos: usize) {
        *self = BitReader::new(self.data, pos);
    }
}

/// The position of the next marker at or after `pos` (its 0xFF), skipping stuffed bytes,
/// fill bytes and, when `skip_restarts`, RSTn markers; `None` at the end of the data.
pub(super) fn next_marker(data: &[u8], mut pos: usize, skip_restarts: bool) -> Option<usize> {
    loop {
        pos = find_ff(data, pos)?;
        match data.get(pos + 1) {
            None => return None,
            Some(0x00) => pos += 2,
            Some(0xFF) => pos += 1,
            Some(0xD0..=0xD7) if skip_restarts => pos += 2,
            Some(_) => return Some(pos),
        }
    }
}

/// The index of the next 0xFF byte at or after `pos`.
fn find_ff(data: &[u8], pos: usize) -> Option<usize> {
    memchr::memchr(0xFF, data.get(pos..)?).map(|i| pos + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bits_across_stuffed_bytes_and_stops_at_a_marker() {
        let data = [0b1010_0000, 0xFF, 0x00, 0x0F, 0xFF, 0xD9];
        let mut reader = BitReader::new(&data, 0);
        assert_eq!(reader.bits(3), 0b101);
        assert_eq!(reader.bits(5), 0);
        assert_eq!(reader.bits(8), 0xFF);
        assert_eq!(reader.bits(8), 0x0F);
        assert!(!reader.overran());
        assert_eq!(reader.position(), 4);
        assert_eq!(reader.bits(1), 0);
        assert!(reader.overran());
    }

    #[test]
    fn fast_fill_matches_byte_by_byte_reading() {
        let data: Vec<u8> = (0u8..40)
            .map(|i| i.wrapping_mul(37))
            .filter(|&b| b != 0xFF)
            .collect();
        let mut reader = BitReader::new(&data, 0);
        for (i, &byte) in data.iter().enumerate() {
            assert_eq!(reader.bits(8), u32::from(byte), "byte {i}");
        }
    }

    #[test]
    fn extends_signs_as_the_spec_does() {
        // T.81 Table F.1: category 3 holds -7..-4 and 4..7.
        let cases: [(u8, u32, i32); 4] = [
            (0b000_00000, 3, -7),
            (0b011_00000, 3, -4),
            (0b100_00000, 3, 4),
            (0b1_0000000, 1, 1),
        ];
        for (byte, n, expected) in cases {
            let data = [byte, 0, 0, 0];
            assert_eq!(BitReader::new(&data, 0).receive_extend(n), expected);
        }
    }

    #[test]
    fn finds_the_next_marker_past_stuffing_fill_and_restarts() {
        let data = [
            1, 2, 0xFF, 0x00, 3, 0xFF, 0xD3, 4, 0xFF, 0xFF, 0xC4, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(next_marker(&data, 0, true), Some(9));
        assert_eq!(next_marker(&data, 0, false), Some(5));
        assert_eq!(next_marker(&data, 10, true), None);
        assert_eq!(next_marker(&[0xFF], 0, true), None);
    }
}
