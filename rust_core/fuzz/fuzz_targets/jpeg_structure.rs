//! The JPEG reader on files built from a structure the fuzzer chooses, rather than on
//! bytes: a frame header of 1 to 4 components with sampling factors 1-4 each in any
//! relation, sizes from 1 px, quantisation and Huffman tables (the standard ones or any
//! counts and symbols), a restart interval, and a script of sequential or progressive
//! scans (any component sets, bands and bit positions, legal or not) whose entropy-coded
//! data is a stream of codes of the scan's own tables, so that decoding goes deep into
//! every scan instead of stopping at the first bad code. Every file is decoded at every
//! scale: the reader must return, an image of the size the scale gives or an error,
//! never panic.

#![no_main]

use _core::deadline::Deadline;
use _core::jpeg::{decode, Scale};
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

/// Keeps each run's allocation small, as the service's own limit keeps a request's.
const MAX_PIXELS: u64 = 4_000_000;
const SCALES: [Scale; 4] = [Scale::Eighth, Scale::Quarter, Scale::Half, Scale::Full];

#[derive(Arbitrary, Debug)]
struct Component {
    id: u8,
    factors: u8,
    table: u8,
}

#[derive(Arbitrary, Debug)]
enum Table {
    /// T.81 Table K.3 (DC) or K.5 (AC).
    Standard,
    /// Any code-length counts and symbols (often not a valid code).
    Raw { counts: [u8; 16], symbols: Vec<u8> },
}

#[derive(Arbitrary, Debug)]
struct ScanSpec {
    /// Bit i: component i is in the scan.
    components: u8,
    selectors: u8,
    start: u8,
    end: u8,
    bits: u8,
    /// How many codes the entropy-coded data holds, and how it is drawn from them.
    codes: u16,
    seed: u32,
    /// Table definitions, a restart interval or noise placed before this scan.
    before: Vec<Extra>,
}

#[derive(Arbitrary, Debug)]
enum Extra {
    Huffman { class_and_slot: u8, table: Table },
    Quantisation { slot: u8, step: u8 },
    Restart(u16),
    App(u8, Vec<u8>),
    Fill,
}

#[derive(Arbitrary, Debug)]
struct Spec {
    sof: u8,
    precision: u8,
    width: u8,
    height: u8,
    wide: bool,
    components: Vec<Component>,
    jfif: bool,
    adobe: Option<u8>,
    steps: [u8; 4],
    scans: Vec<ScanSpec>,
    eoi: bool,
}

const DC_COUNTS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_SYMBOLS: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_COUNTS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D];
const AC_SYMBOLS: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61,
    0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52,
    0xD1, 0xF0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25,
    0x26, 0x27, 0x28, 0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45,
    0x46, 0x47, 0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64,
    0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83,
    0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
    0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6,
    0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3,
    0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8,
    0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA,
];

/// Canonical codes (T.81 C.2) of a table: (symbol, code, length), or none when the counts
/// overflow their lengths.
fn codes(counts: &[u8; 16], symbols: &[u8]) -> Vec<(u8, u32, u32)> {
    let (mut code, mut index, mut out) = (0u32, 0usize, Vec::new());
    for length in 1..=16u32 {
        for _ in 0..counts[length as usize - 1] {
            let Some(&symbol) = symbols.get(index) else {
                return out;
            };
            if code >= 1 << length {
                return Vec::new();
            }
            out.push((symbol, code, length));
            code += 1;
            index += 1;
        }
        code <<= 1;
    }
    out
}

#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    acc: u32,
    count: u32,
}

impl Bits {
    fn put(&mut self, value: u32, length: u32) {
        for i in (0..length).rev() {
            self.acc = self.acc << 1 | (value >> i & 1);
            self.count += 1;
            if self.count == 8 {
                self.bytes.push(self.acc as u8);
                if self.acc == 0xFF {
                    self.bytes.push(0);
                }
                (self.acc, self.count) = (0, 0);
            }
        }
    }
    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.put(0x7F, 8 - self.count);
        }
        self.bytes
    }
}

fn segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((payload.len().min(65533) + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload[..payload.len().min(65533)]);
}

fn table_payload(class_and_slot: u8, table: &Table) -> (Vec<u8>, [u8; 16], Vec<u8>) {
    let dc = class_and_slot >> 4 == 0;
    let (counts, symbols) = match table {
        Table::Standard if dc => (DC_COUNTS, DC_SYMBOLS.to_vec()),
        Table::Standard => (AC_COUNTS, AC_SYMBOLS.to_vec()),
        Table::Raw { counts, symbols } => (*counts, symbols.clone()),
    };
    let mut payload = vec![class_and_slot];
    payload.extend_from_slice(&counts);
    payload.extend_from_slice(&symbols);
    (payload, counts, symbols)
}

/// xorshift32: the entropy-coded data's choices, from the spec's seed.
fn next(state: &mut u32) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    *state
}

fn build(spec: &Spec) -> Vec<u8> {
    let sof = [0xC0, 0xC1, 0xC2, 0xC3, 0xC9][usize::from(spec.sof % 5)];
    let progressive = sof == 0xC2;
    let (width, height) = if spec.wide {
        (u16::from(spec.width) * 24 + 1, u16::from(spec.height) + 1)
    } else {
        (u16::from(spec.width) + 1, u16::from(spec.height) + 1)
    };
    let components: Vec<&Component> = spec.components.iter().take(4).collect();
    let mut out = vec![0xFF, 0xD8];
    if spec.jfif {
        segment(&mut out, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    }
    if let Some(transform) = spec.adobe {
        segment(&mut out, 0xEE, &[b'A', b'd', b'o', b'b', b'e', 0, 100, 0, 0, 0, 0, transform]);
    }
    for (slot, &step) in spec.steps.iter().enumerate() {
        let mut dqt = vec![slot as u8];
        dqt.extend(std::iter::repeat_n(step.max(1), 64));
        segment(&mut out, 0xDB, &dqt);
    }
    let mut frame = vec![if spec.precision % 8 == 0 { 8 } else { 12 }];
    frame.extend_from_slice(&height.to_be_bytes());
    frame.extend_from_slice(&width.to_be_bytes());
    frame.push(components.len() as u8);
    for c in &components {
        // Factors 1-4 each most of the time, anything now and then.
        let factors = if c.factors & 0x88 == 0x88 {
            c.factors
        } else {
            ((c.factors >> 4) % 4 + 1) << 4 | (c.factors % 4 + 1)
        };
        frame.extend_from_slice(&[c.id, factors, c.table % 4]);
    }
    segment(&mut out, sof, &frame);
    // The symbols each slot's table codes, to draw the entropy-coded data from.
    let mut alphabets: [[Vec<(u8, u32, u32)>; 4]; 2] = Default::default();
    for class in 0..2u8 {
        for slot in 0..2u8 {
            let (payload, counts, symbols) = table_payload(class << 4 | slot, &Table::Standard);
            segment(&mut out, 0xC4, &payload);
            alphabets[usize::from(class)][usize::from(slot)] = codes(&counts, &symbols);
        }
    }
    for scan in spec.scans.iter().take(24) {
        for extra in scan.before.iter().take(4) {
            match extra {
                Extra::Huffman {
                    class_and_slot,
                    table,
                } => {
                    let (payload, counts, symbols) = table_payload(*class_and_slot, table);
                    segment(&mut out, 0xC4, &payload);
                    let (class, slot) = (usize::from(class_and_slot >> 4), usize::from(class_and_slot & 15));
                    if class < 2 && slot < 4 {
                        alphabets[class][slot] = codes(&counts, &symbols);
                    }
                }
                Extra::Quantisation { slot, step } => {
                    let mut dqt = vec![*slot];
                    dqt.extend(std::iter::repeat_n(*step, 64));
                    segment(&mut out, 0xDB, &dqt);
                }
                Extra::Restart(interval) => segment(&mut out, 0xDD, &interval.to_be_bytes()),
                Extra::App(marker, payload) => segment(&mut out, 0xE0 | (marker & 15), payload),
                Extra::Fill => out.extend_from_slice(&[0xFF, 0xFF]),
            }
        }
        let members: Vec<&&Component> = components
            .iter()
            .enumerate()
            .filter(|(i, _)| scan.components & (1 << i) != 0)
            .map(|(_, c)| c)
            .collect();
        let mut sos = vec![members.len() as u8];
        for c in &members {
            sos.extend_from_slice(&[c.id, scan.selectors]);
        }
        let (start, end, bits) = if progressive {
            (scan.start % 64, scan.end % 64, scan.bits)
        } else {
            (0, 63, 0)
        };
        sos.extend_from_slice(&[start, end, bits]);
        segment(&mut out, 0xDA, &sos);
        // The data: codes of the scan's DC table (symbols 0-11 only, the DC categories)
        // and AC table in turns, each with its magnitude bits.
        let dc = &alphabets[0][usize::from(scan.selectors >> 4) % 4];
        let ac = &alphabets[1][usize::from(scan.selectors & 15) % 4];
        let dc: Vec<_> = dc.iter().filter(|(s, _, _)| *s <= 11).copied().collect();
        let mut writer = Bits::default();
        let mut state = scan.seed | 1;
        for i in 0..usize::from(scan.codes) {
            let table = if i % 8 == 0 && !dc.is_empty() { &dc } else { ac };
            if table.is_empty() {
                break;
            }
            let (symbol, code, length) = table[next(&mut state) as usize % table.len()];
            writer.put(code, length);
            let size = u32::from(symbol & 15);
            writer.put(next(&mut state) & ((1 << size) - 1), size);
        }
        out.extend(writer.finish());
    }
    if spec.eoi {
        out.extend_from_slice(&[0xFF, 0xD9]);
    }
    out
}

fuzz_target!(|input: &[u8]| {
    let Ok(spec) = Spec::arbitrary(&mut Unstructured::new(input)) else {
        return;
    };
    let data = build(&spec);
    for scale in SCALES {
        if let Ok(image) = decode(&data, scale, MAX_PIXELS, &Deadline::none()) {
            let expected = scale.output_size(image.source_width, image.source_height);
            assert_eq!((image.pixels.width, image.pixels.height), expected);
            let channels = image.pixels.layout.channels();
            assert_eq!(image.pixels.data.len(), expected.0 * expected.1 * channels);
        }
    }
});
