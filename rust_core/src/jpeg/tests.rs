//! Tests of the whole reader on JPEGs written here by a minimal encoder: DC values chosen
//! by the test, AC coefficients that must be read past (sequential) or skipped
//! (progressive), restart intervals, every sampling layout, and damaged files.

use super::*;

/// T.81 Table K.3 (luminance DC) and a small AC table: EOB, (4,1), ZRL, (1,2). The AC
/// coefficients written land where libjpeg's 2x2 reduction of 4:2:0 chroma ignores them
/// (even rows and columns), so the expected pixels depend on DC terms only.
const DC_COUNTS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_COUNTS: [u8; 16] = [0, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_VALUES: [u8; 4] = [0x00, 0x41, 0xF0, 0x12];
const STEP: u16 = 4;

/// Canonical codes (T.81 C.2) of a table: symbol -> (code, length).
fn codes(counts: &[u8; 16], values: &[u8]) -> Vec<(u8, u32, u32)> {
    let (mut code, mut index, mut out) = (0u32, 0, Vec::new());
    for length in 1..=16 {
        for _ in 0..counts[length as usize - 1] {
            out.push((values[index], code, length));
            code += 1;
            index += 1;
        }
        code <<= 1;
    }
    out
}

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    acc: u32,
    count: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, length: u32) {
        for i in (0..length).rev() {
            self.acc = self.acc << 1 | (value >> i & 1);
            self.count += 1;
            if self.count == 8 {
                self.bytes.push(self.acc as u8);
                if self.acc == 0xFF {
                    self.bytes.push(0);
                }
                self.acc = 0;
                self.count = 0;
            }
        }
    }
    fn symbol(&mut self, table: &[(u8, u32, u32)], symbol: u8) {
        let &(_, code, length) = table.iter().find(|e| e.0 == symbol).unwrap();
        self.put(code, length);
    }
    fn value(&mut self, table: &[(u8, u32, u32)], prefix: u8, value: i32) {
        let size = 32 - value.unsigned_abs().leading_zeros();
        self.symbol(table, prefix | size as u8);
        let bits = if value < 0 { value - 1 } else { value } as u32 & ((1 << size) - 1);
        self.put(bits, size);
    }
    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.put(0x7F, 8 - self.count);
        }
        self.bytes
    }
}

/// What to write: a size, the sampling factors of each component (one for grey), and
/// how to code it.
struct Spec {
    width: usize,
    height: usize,
    factors: Vec<(usize, usize)>,
    progressive: bool,
    restart: usize,
}

/// The test's DC value (quantised) of block (x, y) of component c.
fn dc_value(c: usize, x: usize, y: usize) -> i32 {
    ((x * 7 + y * 13 + c * 29) % 61) as i32 - 30 + if c == 0 { 0 } else { -(c as i32) * 3 }
}

fn segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
}

/// Blocks of an MCU, as (component, x offset, y offset) in block units.
fn encode(spec: &Spec) -> Vec<u8> {
    let dc_codes = codes(&DC_COUNTS, &DC_VALUES);
    let ac_codes = codes(&AC_COUNTS, &AC_VALUES);
    let (h_max, v_max) = spec
        .factors
        .iter()
        .fold((1, 1), |m, f| (m.0.max(f.0), m.1.max(f.1)));
    let (mcus_across, mcus_down) = (
        spec.width.div_ceil(8 * h_max),
        spec.height.div_ceil(8 * v_max),
    );
    let mut out = vec![0xFF, 0xD8];
    segment(&mut out, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let mut dqt = vec![0u8];
    dqt.extend(std::iter::once(STEP as u8).chain(std::iter::repeat_n(1, 63)));
    segment(&mut out, 0xDB, &dqt);
    let mut sof = vec![8];
    sof.extend_from_slice(&(spec.height as u16).to_be_bytes());
    sof.extend_from_slice(&(spec.width as u16).to_be_bytes());
    sof.push(spec.factors.len() as u8);
    for (i, &(h, v)) in spec.factors.iter().enumerate() {
        sof.extend_from_slice(&[i as u8 + 1, (h << 4 | v) as u8, 0]);
    }
    segment(&mut out, if spec.progressive { 0xC2 } else { 0xC0 }, &sof);
    let mut dht = vec![0x00];
    dht.extend_from_slice(&DC_COUNTS);
    dht.extend_from_slice(&DC_VALUES);
    dht.push(0x10);
    dht.extend_from_slice(&AC_COUNTS);
    dht.extend_from_slice(&AC_VALUES);
    segment(&mut out, 0xC4, &dht);
    if spec.restart > 0 {
        segment(&mut out, 0xDD, &(spec.restart as u16).to_be_bytes());
    }
    let grey = spec.factors.len() == 1;
    let factors = if grey {
        vec![(1, 1)]
    } else {
        spec.factors.clone()
    };
    let (across, down) = if grey {
        (spec.width.div_ceil(8), spec.height.div_ceil(8))
    } else {
        (mcus_across, mcus_down)
    };
    // (successive approximation low bit, refinement?) of the DC scans.
    let passes: &[(u32, bool)] = if spec.progressive {
        &[(1, false), (0, true)]
    } else {
        &[(0, false)]
    };
    for (pass, &(low, refine)) in passes.iter().enumerate() {
        let mut sos = vec![factors.len() as u8];
        for i in 0..factors.len() {
            sos.extend_from_slice(&[i as u8 + 1, 0x00]);
        }
        let (end, approximation) = if spec.progressive {
            (0, if refine { 0x10 } else { 0x01 })
        } else {
            (63, 0)
        };
        sos.extend_from_slice(&[0, end, approximation]);
        segment(&mut out, 0xDA, &sos);
        let mut writer = BitWriter::default();
        let mut predictions = vec![0i32; factors.len()];
        let mut mcu = 0;
        for row in 0..down {
            for col in 0..across {
                if spec.restart > 0 && mcu > 0 && mcu % spec.restart == 0 {
                    out.extend(std::mem::take(&mut writer).finish());
                    out.extend_from_slice(&[0xFF, 0xD0 + ((mcu / spec.restart - 1) % 8) as u8]);
                    predictions.iter_mut().for_each(|p| *p = 0);
                }
                mcu += 1;
                for (c, &(h, v)) in factors.iter().enumerate() {
                    for y in 0..v {
                        for x in 0..h {
                            let value = dc_value(c, col * h + x, row * v + y);
                            if refine {
                                writer.put((value & 1) as u32, 1);
                                continue;
                            }
                            let shifted = value >> low;
                            writer.value(&dc_codes, 0, shifted - predictions[c]);
                            predictions[c] = shifted;
                            if !spec.progressive {
                                // AC coefficients to read past: +1 at zigzag 5, then -3 at 23.
                                writer.value(&ac_codes, 0x40, 1);
                                if (col + row) % 2 == 0 {
                                    writer.symbol(&ac_codes, 0xF0);
                                    writer.value(&ac_codes, 0x10, -3);
                                }
                                writer.symbol(&ac_codes, 0x00);
                            }
                        }
                    }
                }
            }
        }
        out.extend(writer.finish());
        if spec.progressive && pass == 0 {
            // An AC scan of bytes that are not decoded, with stuffing and restart markers.
            segment(&mut out, 0xDA, &[1, 1, 0x00, 1, 63, 0x00]);
            out.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0x00]);
            // The other components' AC scans code every block as empty (an end of band),
            // so that all their coefficients are known, as libjpeg needs to leave the
            // blocks unsmoothed.
            for (c, &(h, v)) in factors.iter().enumerate().skip(1) {
                segment(&mut out, 0xDA, &[1, c as u8 + 1, 0x00, 1, 63, 0x00]);
                let blocks_across = (spec.width * h).div_ceil(h_max).div_ceil(8);
                let blocks_down = (spec.height * v).div_ceil(v_max).div_ceil(8);
                let mut writer = BitWriter::default();
                for block in 0..blocks_across * blocks_down {
                    if spec.restart > 0 && block > 0 && block % spec.restart == 0 {
                        out.extend(std::mem::take(&mut writer).finish());
                        let n = ((block / spec.restart - 1) % 8) as u8;
                        out.extend_from_slice(&[0xFF, 0xD0 + n]);
                    }
                    writer.symbol(&ac_codes, 0x00);
                }
                out.extend(writer.finish());
            }
        }
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// The expected pixels, straight from the definitions: mean = DC x step / 8 + 128.
fn expected(spec: &Spec) -> Vec<u8> {
    let (w, h) = (spec.width.div_ceil(8), spec.height.div_ceil(8));
    let (h_max, v_max) = spec
        .factors
        .iter()
        .fold((1, 1), |m, f| (m.0.max(f.0), m.1.max(f.1)));
    let sample = |c: usize, x: usize, y: usize| {
        let (hc, vc) = spec.factors[c];
        let value = dc_value(c, x * hc / h_max, y * vc / v_max) * i32::from(STEP);
        (128.0 + (value as f64 / 8.0 + 0.5).floor()).clamp(0.0, 255.0) as u8
    };
    let mut out = Vec::new();
    for y in 0..h {
        for x in 0..w {
            if spec.factors.len() == 1 {
                out.push(sample(0, x, y));
            } else {
                let ycc = [sample(0, x, y), sample(1, x, y), sample(2, x, y)];
                out.extend_from_slice(&output::ycbcr_to_rgb(ycc[0], ycc[1], ycc[2]));
            }
        }
    }
    out
}

const LAYOUTS: [&[(usize, usize)]; 5] = [
    &[(1, 1)],
    &[(1, 1), (1, 1), (1, 1)],
    &[(2, 1), (1, 1), (1, 1)],
    &[(2, 2), (1, 1), (1, 1)],
    &[(1, 2), (1, 1), (1, 1)],
];

#[test]
fn decodes_every_layout_size_mode_and_restart_interval() {
    for factors in LAYOUTS {
        for (width, height) in [(1, 1), (7, 9), (8, 8), (17, 33), (130, 67)] {
            for progressive in [false, true] {
                for restart in [0, 1, 3] {
                    let spec = Spec {
                        width,
                        height,
                        factors: factors.to_vec(),
                        progressive,
                        restart,
                    };
                    let data = encode(&spec);
                    let what = format!(
                        "{factors:?} {width}x{height} progressive={progressive} restart={restart}"
                    );
                    let image =
                        decode_dc(&data, u64::MAX).unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert_eq!(
                        (image.pixels.width, image.pixels.height),
                        (width.div_ceil(8), height.div_ceil(8)),
                        "{what}"
                    );
                    assert_eq!((image.source_width, image.source_height), (width, height));
                    assert_eq!(image.pixels.layout.channels(), factors.len(), "{what}");
                    assert_eq!(image.pixels.data, expected(&spec), "{what}");
                }
            }
        }
    }
}

#[test]
fn every_truncation_and_every_damaged_byte_is_an_error_or_an_image() {
    let spec = Spec {
        width: 40,
        height: 24,
        factors: LAYOUTS[3].to_vec(),
        progressive: true,
        restart: 2,
    };
    let data = encode(&spec);
    for end in 0..data.len() - 2 {
        assert!(
            decode_dc(&data[..end], u64::MAX).is_err(),
            "truncated at {end}"
        );
    }
    for at in 0..data.len() {
        for byte in [0x00, 0xFF, 0x80, data[at] ^ 0x01] {
            let mut damaged = data.clone();
            damaged[at] = byte;
            let _ = decode_dc(&damaged, u64::MAX); // must return, whatever it returns
        }
    }
}

#[test]
fn refuses_before_allocating_an_image_over_the_limit() {
    let spec = Spec {
        width: 130,
        height: 67,
        factors: LAYOUTS[1].to_vec(),
        progressive: false,
        restart: 0,
    };
    let data = encode(&spec);
    assert!(matches!(
        decode_dc(&data, 130 * 67 - 1),
        Err(CoreError::JpegTooLarge { .. })
    ));
    assert!(decode_dc(&data, 130 * 67).is_ok());
}

#[test]
fn says_unsupported_for_other_kinds_of_jpeg() {
    let spec = Spec {
        width: 16,
        height: 16,
        factors: LAYOUTS[1].to_vec(),
        progressive: false,
        restart: 0,
    };
    let data = encode(&spec);
    let sof = data.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    for marker in [0xC3, 0xC9, 0xCA, 0xC5] {
        let mut other = data.clone();
        other[sof + 1] = marker;
        assert!(
            matches!(
                decode_dc(&other, u64::MAX),
                Err(CoreError::JpegUnsupported(_))
            ),
            "{marker:x}"
        );
    }
    // No JFIF marker, and an Adobe marker saying the components are untransformed RGB:
    // the samples are the pixels.
    let mut adobe = vec![0xFF, 0xD8];
    segment(&mut adobe, 0xEE, b"Adobe\0\x64\0\0\0\0\0");
    let jfif_end = 2 + 4 + 14;
    adobe.extend_from_slice(&data[jfif_end..]);
    let rgb = decode_dc(&adobe, u64::MAX).unwrap();
    let ycc = decode_dc(&data, u64::MAX).unwrap();
    assert_ne!(rgb.pixels.data, ycc.pixels.data);
    let sample = |c: usize| {
        let value = dc_value(c, 0, 0) * i32::from(STEP);
        (128.0 + (value as f64 / 8.0 + 0.5).floor()).clamp(0.0, 255.0) as u8
    };
    assert_eq!(rgb.pixels.data[..3], [sample(0), sample(1), sample(2)]);
}

#[test]
fn malformed_inputs_are_errors() {
    for data in [
        &b""[..],
        b"\xFF\xD8",
        b"\xFF\xD8\xFF\xD9",
        b"\x89PNG\r\n",
        b"\xFF\xD8\xFF\xDA\x00\x02",
    ] {
        assert!(
            matches!(decode_dc(data, u64::MAX), Err(CoreError::JpegMalformed(_))),
            "{data:?}"
        );
    }
}
