//! PNG bytes to 8-bit pixels, with image-rs's `png` decoder, by the service's conversion rules.
//!
//! - **Checks first, allocation after.** One pass over the chunks verifies every complete
//!   chunk's CRC (IDAT included; "bad CRC in IDAT chunk"), up to IEND, and finds IHDR, eXIf
//!   and iCCP; then width x height from IHDR is held against `max_pixels`. Only then is
//!   anything allocated.
//! - **Rows stream.** The decoder inflates and unfilters one row at a time into the output
//!   (8-bit rows straight into it; 16-bit rows through one row of scratch, narrowed as they
//!   come, so a 16-bit image is never held at 16 bits whole). Memory is the output image, the
//!   input, and the decoder's few rows of inflate window (the `png` limits are set to the
//!   input's length plus two raw rows plus 1 MiB). Text chunks are skipped without inflating;
//!   an iCCP profile is inflated with a bound of `MAX_ICC_BYTES` and dropped when larger.
//! - **Conversion.** Layout L, LA, RGB or RGBA: grey stays one channel; 1/2/4-bit grey is
//!   scaled by 255, 85 or 17 as Pillow does; a palette expands to RGB, or RGBA when it has
//!   tRNS; a colour-key tRNS becomes an alpha channel (LA or RGBA); 16-bit samples v become
//!   floor(v / 257 + 1/2), never clipped.
//! - **Failures.** Bad deflate data, a bad filter byte, truncated or missing image data: a
//!   `PngMalformed` with a short reason, never a panic nor a partly filled image. An animated
//!   PNG decodes to its default image (the IDAT one). The deadline is checked every
//!   `ROWS_PER_DEADLINE_CHECK` rows.

use std::io::Cursor;

use ::png::{BitDepth, ColorType, DecodeOptions, Decoder, DecodingError, Limits, Transformations};

use crate::deadline::Deadline;
use crate::error::CoreError;
use crate::luminance::Layout;
use crate::pixels::Pixels;

/// The eight bytes every PNG starts with.
pub const SIGNATURE: [u8; 8] = *b"\x89PNG\r\n\x1a\n";

/// The largest inflated iCCP profile kept; a larger one is dropped (`icc: None`).
pub const MAX_ICC_BYTES: usize = 1 << 20;

/// Rows decoded between two looks at the deadline.
const ROWS_PER_DEADLINE_CHECK: usize = 16;

/// Bytes of a chunk beyond its payload: length, type, CRC.
const CHUNK_OVERHEAD: usize = 12;

/// Headroom of the `png` crate's allocation limit beyond the input and two raw rows.
const DECODER_SLACK_BYTES: usize = 1 << 20;

/// A decoded PNG: its pixels and the metadata the pipeline needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedPng {
    pub pixels: Pixels,
    /// The payload of the first eXIf chunk, as stored (TIFF header first, or, as some
    /// writers do, an "Exif\0\0" prefix before it).
    pub exif: Option<Vec<u8>>,
    /// The inflated iCCP profile, when present, readable and at most `MAX_ICC_BYTES`.
    pub icc: Option<Vec<u8>>,
}

/// Decodes a PNG to 8-bit pixels (see the module documentation for the rules).
///
/// Errors: `PngTooLarge` when IHDR declares more than `max_pixels` pixels, `PngMalformed`
/// for anything that does not decode, `DeadlineExceeded` when `deadline` passes.
pub fn decode(data: &[u8], max_pixels: u64, deadline: &Deadline) -> Result<DecodedPng, CoreError> {
    let chunks = scan_chunks(data)?;
    let (width, height) = (chunks.header.width as usize, chunks.header.height as usize);
    if width == 0 || height == 0 {
        return Err(malformed(format!(
            "image declares a size of {width}x{height}"
        )));
    }
    if chunks.header.width as u64 * chunks.header.height as u64 > max_pixels {
        return Err(CoreError::PngTooLarge {
            width,
            height,
            max_pixels,
        });
    }
    match chunks.image_data {
        ImageData::Missing if chunks.reached_iend => return Err(malformed("no IDAT chunk")),
        ImageData::Missing => return Err(malformed("truncated image data")),
        // Data that ends after complete IDAT chunks holds the whole image or not: the
        // decode says which (a stream cut short is an error there, never missing rows).
        ImageData::Started | ImageData::Ended => {}
    }
    let pixels = decode_pixels(data, &chunks.header, deadline)?;
    Ok(DecodedPng {
        pixels,
        exif: chunks.exif.map(<[u8]>::to_vec),
        icc: chunks.iccp.and_then(inflate_icc),
    })
}

/// What the chunk pass learns: the header, whether the image data is all there, and where
/// the metadata is.
struct Chunks<'a> {
    header: Header,
    image_data: ImageData,
    reached_iend: bool,
    exif: Option<&'a [u8]>,
    iccp: Option<&'a [u8]>,
}

/// How far the IDAT sequence got within the data.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ImageData {
    /// No complete IDAT chunk.
    Missing,
    /// Complete IDAT chunks, but the data ends before a complete chunk that follows them
    /// (a PNG cut inside its IEND has all its pixels; one cut between IDATs does not).
    Started,
    /// A complete chunk follows the IDAT sequence.
    Ended,
}

/// The IHDR fields this module needs before decoding.
struct Header {
    width: u32,
    height: u32,
    bit_depth: u8,
    colour_type: u8,
}

/// Walks the chunks up to IEND: checks each complete chunk's CRC, reads IHDR (which must come
/// first), sees whether the IDAT sequence ends within the data, and finds the first eXIf and
/// iCCP. A chunk cut short by the end of the data ends the walk.
fn scan_chunks(data: &[u8]) -> Result<Chunks<'_>, CoreError> {
    if !data.starts_with(&SIGNATURE) {
        return Err(malformed("not a PNG signature"));
    }
    let mut header = None;
    let (mut exif, mut iccp) = (None, None);
    let mut image_data = ImageData::Missing;
    let mut reached_iend = false;
    let mut offset = SIGNATURE.len();
    while let Some(head) = data.get(offset..offset + 8) {
        let length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind: [u8; 4] = [head[4], head[5], head[6], head[7]];
        let Some(end) = (offset + CHUNK_OVERHEAD)
            .checked_add(length)
            .filter(|&end| end <= data.len())
        else {
            break;
        };
        let payload = &data[offset + 8..end - 4];
        let stored =
            u32::from_be_bytes([data[end - 4], data[end - 3], data[end - 2], data[end - 1]]);
        let mut crc = crc32fast::Hasher::new();
        crc.update(&kind);
        crc.update(payload);
        if crc.finalize() != stored {
            return Err(malformed(format!("bad CRC in {} chunk", chunk_name(&kind))));
        }
        if header.is_none() {
            header = Some(parse_header(&kind, payload)?);
        }
        match (&kind, image_data) {
            (b"IDAT", ImageData::Missing) => image_data = ImageData::Started,
            (b"IDAT", _) => {}
            (_, ImageData::Started) => image_data = ImageData::Ended,
            _ => {}
        }
        match &kind {
            // `png` 0.18.1 indexes a palette by whole entries and panics on a partial one.
            b"PLTE" if payload.len() % 3 != 0 => {
                return Err(malformed("PLTE chunk length is not a multiple of 3"));
            }
            b"eXIf" if exif.is_none() => exif = Some(payload),
            b"iCCP" if iccp.is_none() => iccp = Some(payload),
            b"IEND" => {
                reached_iend = true;
                break;
            }
            _ => {}
        }
        offset = end;
    }
    let header = header.ok_or_else(|| malformed("truncated before the end of IHDR"))?;
    Ok(Chunks {
        header,
        image_data,
        reached_iend,
        exif,
        iccp,
    })
}

/// The chunk type as text, as `check_png_crcs` names it: letters only, else "a".
fn chunk_name(kind: &[u8; 4]) -> String {
    if kind.iter().all(u8::is_ascii_alphabetic) {
        String::from_utf8_lossy(kind).into_owned()
    } else {
        "a".to_owned()
    }
}

fn parse_header(kind: &[u8; 4], payload: &[u8]) -> Result<Header, CoreError> {
    if kind != b"IHDR" {
        return Err(malformed("the first chunk is not IHDR"));
    }
    if payload.len() != 13 {
        return Err(malformed("IHDR chunk of the wrong length"));
    }
    Ok(Header {
        width: u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]),
        height: u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]),
        bit_depth: payload[8],
        colour_type: payload[9],
    })
}

/// The profile of an iCCP payload (keyword, NUL, method 0, zlib data), inflated to at most
/// `MAX_ICC_BYTES`; None when it is malformed or larger.
fn inflate_icc(payload: &[u8]) -> Option<Vec<u8>> {
    let keyword_end = payload.iter().take(80).position(|&b| b == 0)?;
    let (&method, compressed) = payload.get(keyword_end + 1..)?.split_first()?;
    if keyword_end == 0 || method != 0 {
        return None;
    }
    fdeflate::decompress_to_vec_bounded(compressed, MAX_ICC_BYTES).ok()
}

/// Bytes of one raw (filtered) row of the image, filter byte included; an upper bound for the
/// `png` crate's row buffers.
fn raw_row_bytes(header: &Header) -> usize {
    let samples: u64 = match header.colour_type {
        0 | 3 => 1,
        4 => 2,
        2 => 3,
        _ => 4,
    };
    let bits = header.width as u64 * samples * header.bit_depth.max(8) as u64;
    usize::try_from(bits.div_ceil(8) + 1).unwrap_or(usize::MAX)
}

/// `read_pixels`, with a panic inside the `png` crate (a bug there, on hostile input) turned
/// into an error for this file instead of unwinding into the caller. (Fuzzing still sees such
/// panics: libFuzzer's hook aborts before any unwinding.)
fn decode_pixels(data: &[u8], header: &Header, deadline: &Deadline) -> Result<Pixels, CoreError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_pixels(data, header, deadline)
    }))
    .unwrap_or_else(|_| Err(malformed("the PNG decoder failed on this file")))
}

fn read_pixels(data: &[u8], header: &Header, deadline: &Deadline) -> Result<Pixels, CoreError> {
    let mut options = DecodeOptions::default();
    options.set_ignore_adler32(false);
    options.set_ignore_crc(false);
    options.set_skip_ancillary_crc_failures(false);
    // Text is never used; iCCP is inflated here with its own bound (`inflate_icc`).
    options.set_ignore_text_chunk(true);
    options.set_ignore_iccp_chunk(true);
    let mut decoder = Decoder::new_with_options(Cursor::new(data), options);
    let row_budget = raw_row_bytes(header).saturating_mul(2);
    decoder.set_limits(Limits {
        bytes: data
            .len()
            .saturating_add(row_budget)
            .saturating_add(DECODER_SLACK_BYTES),
    });
    decoder.set_transformations(Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(decode_error)?;

    // An APNG's default image is the IDAT one; `png` refuses an fcTL before IDAT that does
    // not cover the whole canvas, as the APNG specification requires.
    let info = reader.info();
    let (png_width, png_height, interlaced) = (info.width, info.height, info.interlaced);
    let (width, height) = (png_width as usize, png_height as usize);
    let (colour, depth) = reader.output_color_type();
    let layout = match colour {
        ColorType::Grayscale => Layout::L,
        ColorType::GrayscaleAlpha => Layout::La,
        ColorType::Rgb => Layout::Rgb,
        ColorType::Rgba => Layout::Rgba,
        ColorType::Indexed => return Err(malformed("palette left unexpanded")),
    };
    let wide = match depth {
        BitDepth::Eight => false,
        BitDepth::Sixteen => true,
        _ => return Err(malformed("sub-byte samples left unexpanded")),
    };
    let stride = width
        .checked_mul(layout.channels())
        .ok_or(CoreError::TooLarge { width, height })?;
    let size = stride
        .checked_mul(height)
        .ok_or(CoreError::TooLarge { width, height })?;
    let mut out = vec![0u8; size];
    // One decoded row as the crate hands it (16-bit: twice the output's bytes), unless 8-bit
    // rows go straight into the output.
    let line_bytes = if wide { stride * 2 } else { stride };
    let mut line = if wide || interlaced {
        vec![0u8; line_bytes]
    } else {
        Vec::new()
    };
    let mut narrow_line = if wide && interlaced {
        vec![0u8; stride]
    } else {
        Vec::new()
    };

    let mut rows = 0usize;
    if interlaced {
        let bits_per_pixel = (layout.channels() * 8) as u8;
        for (pass, pass_line, samples) in adam7_rows(png_width, png_height) {
            next_row(&mut reader, &mut line)?;
            let pass_bytes = samples as usize * layout.channels();
            let row = if wide {
                narrow_row(&line[..pass_bytes * 2], &mut narrow_line[..pass_bytes]);
                &narrow_line[..pass_bytes]
            } else {
                &line[..pass_bytes]
            };
            let position = ::png::Adam7Info::new(pass, pass_line, png_width);
            ::png::expand_interlaced_row(&mut out, stride, row, &position, bits_per_pixel);
            rows += 1;
            if rows % ROWS_PER_DEADLINE_CHECK == 0 {
                deadline.check()?;
            }
        }
    } else {
        for out_row in out.chunks_exact_mut(stride) {
            if wide {
                next_row(&mut reader, &mut line)?;
                narrow_row(&line, out_row);
            } else {
                next_row(&mut reader, out_row)?;
            }
            rows += 1;
            if rows % ROWS_PER_DEADLINE_CHECK == 0 {
                deadline.check()?;
            }
        }
    }
    deadline.check()?;
    Ok(Pixels {
        width,
        height,
        layout,
        data: out,
    })
}

/// Reads the next row of the image into `buffer`; the image ending first is an error.
fn next_row(reader: &mut ::png::Reader<Cursor<&[u8]>>, buffer: &mut [u8]) -> Result<(), CoreError> {
    match reader.read_row(buffer).map_err(decode_error)? {
        Some(_) => Ok(()),
        None => Err(malformed("fewer rows than the header declares")),
    }
}

/// Adam7's pixel columns: (first, step) for passes 1 to 7.
const ADAM7_COLUMNS: [(u32, u32); 7] = [(0, 8), (4, 8), (0, 4), (2, 4), (0, 2), (1, 2), (0, 1)];
/// Adam7's pixel rows: (first, step) for passes 1 to 7.
const ADAM7_ROWS: [(u32, u32); 7] = [(0, 8), (0, 8), (4, 8), (0, 4), (2, 4), (0, 2), (1, 2)];

/// The rows of an Adam7 image in file order, as (pass 1-7, line within the pass, pixels in
/// the line); passes without pixels are absent, as in the file.
fn adam7_rows(width: u32, height: u32) -> impl Iterator<Item = (u8, u32, u32)> {
    let count = |size: u32, (first, step): (u32, u32)| size.saturating_sub(first).div_ceil(step);
    (0..7).flat_map(move |pass| {
        let samples = count(width, ADAM7_COLUMNS[pass]);
        let lines = if samples == 0 {
            0
        } else {
            count(height, ADAM7_ROWS[pass])
        };
        (0..lines).map(move |line| (pass as u8 + 1, line, samples))
    })
}

/// A big-endian 16-bit sample to 8 bits: floor(v / 257 + 1/2), i.e. round(v x 255 / 65535)
/// with halves up (v + 128 never lands on a multiple of 257 plus one half, so this is exact).
#[inline(always)]
fn narrow(high: u8, low: u8) -> u8 {
    ((u16::from_be_bytes([high, low]) as u32 + 128) / 257) as u8
}

/// Narrows a row of big-endian 16-bit samples into `out` (half as many bytes).
fn narrow_row(wide: &[u8], out: &mut [u8]) {
    for (sample, narrowed) in wide.chunks_exact(2).zip(out.iter_mut()) {
        *narrowed = narrow(sample[0], sample[1]);
    }
}

fn malformed(reason: impl Into<String>) -> CoreError {
    CoreError::PngMalformed(reason.into())
}

/// The decoder's error as a short reason.
fn decode_error(err: DecodingError) -> CoreError {
    match err {
        DecodingError::IoError(_) => malformed("truncated image data"),
        DecodingError::Format(format) => {
            let text = format.to_string();
            malformed(text.chars().take(120).collect::<String>())
        }
        DecodingError::LimitsExceeded => malformed("needs more memory than an image of its size"),
        DecodingError::Parameter(parameter) => malformed(format!("decoder misuse: {parameter}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One chunk: length, type, payload, CRC.
    fn chunk(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(payload);
        let mut out = (payload.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
        out
    }

    fn ihdr(width: u32, height: u32, bit_depth: u8, colour_type: u8, interlace: u8) -> Vec<u8> {
        let mut payload = width.to_be_bytes().to_vec();
        payload.extend_from_slice(&height.to_be_bytes());
        payload.extend_from_slice(&[bit_depth, colour_type, 0, 0, interlace]);
        chunk(b"IHDR", &payload)
    }

    /// A zlib stream of stored (uncompressed) deflate blocks, with its Adler-32.
    fn zlib_stored(raw: &[u8]) -> Vec<u8> {
        let mut out = vec![0x78, 0x01];
        let blocks: Vec<&[u8]> = if raw.is_empty() {
            vec![&[]]
        } else {
            raw.chunks(65535).collect()
        };
        for (i, block) in blocks.iter().enumerate() {
            out.push(u8::from(i + 1 == blocks.len()));
            out.extend_from_slice(&(block.len() as u16).to_le_bytes());
            out.extend_from_slice(&(!(block.len() as u16)).to_le_bytes());
            out.extend_from_slice(block);
        }
        let (mut a, mut b) = (1u32, 0u32);
        for &byte in raw {
            a = (a + byte as u32) % 65521;
            b = (b + a) % 65521;
        }
        out.extend_from_slice(&((b << 16) | a).to_be_bytes());
        out
    }

    /// A PNG of `raw` (filter bytes included) with extra chunks before IDAT.
    fn png_file(header: Vec<u8>, before_idat: &[Vec<u8>], raw: &[u8]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend(header);
        for extra in before_idat {
            out.extend_from_slice(extra);
        }
        out.extend(chunk(b"IDAT", &zlib_stored(raw)));
        out.extend(chunk(b"IEND", b""));
        out
    }

    fn decode_all(data: &[u8]) -> Result<DecodedPng, CoreError> {
        decode(data, 1 << 30, &Deadline::none())
    }

    #[test]
    fn narrowing_is_floor_of_v_over_257_plus_one_half_for_every_value() {
        for v in 0..=u16::MAX {
            let expected = (v as f64 / 257.0 + 0.5).floor() as u8;
            let [high, low] = v.to_be_bytes();
            assert_eq!(narrow(high, low), expected, "{v}");
        }
    }

    #[test]
    fn adam7_rows_cover_every_pixel_once() {
        for (width, height) in [(1, 1), (1, 9), (9, 1), (7, 3), (8, 8), (13, 17)] {
            let mut seen = vec![0u8; (width * height) as usize];
            for (pass, line, samples) in adam7_rows(width, height) {
                let (x0, dx) = ADAM7_COLUMNS[pass as usize - 1];
                let (y0, dy) = ADAM7_ROWS[pass as usize - 1];
                let y = y0 + line * dy;
                for i in 0..samples {
                    seen[(y * width + x0 + i * dx) as usize] += 1;
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "{width}x{height}");
        }
    }

    /// IHDR, chunks before IDAT, raw rows, expected layout, expected bytes.
    type Case = (Vec<u8>, Vec<Vec<u8>>, Vec<u8>, Layout, Vec<u8>);

    #[test]
    fn decodes_by_the_conversion_rules() {
        let cases: Vec<Case> = vec![
            // 8-bit grey stays grey.
            (
                ihdr(3, 1, 8, 0, 0),
                vec![],
                vec![0, 0, 128, 255],
                Layout::L,
                vec![0, 128, 255],
            ),
            // 1-bit grey: x 255.
            (
                ihdr(3, 1, 1, 0, 0),
                vec![],
                vec![0, 0b1010_0000],
                Layout::L,
                vec![255, 0, 255],
            ),
            // 2-bit grey: x 85.
            (
                ihdr(4, 1, 2, 0, 0),
                vec![],
                vec![0, 0b00_01_10_11],
                Layout::L,
                vec![0, 85, 170, 255],
            ),
            // 4-bit grey: x 17.
            (
                ihdr(2, 1, 4, 0, 0),
                vec![],
                vec![0, 0x1f],
                Layout::L,
                vec![17, 255],
            ),
            // 16-bit grey: rounded, 385 -> 1, 386 -> 2, 65535 -> 255.
            (
                ihdr(3, 1, 16, 0, 0),
                vec![],
                vec![0, 1, 129, 1, 130, 255, 255],
                Layout::L,
                vec![1, 2, 255],
            ),
            // Grey colour key -> LA.
            (
                ihdr(2, 1, 8, 0, 0),
                vec![chunk(b"tRNS", &[0, 7])],
                vec![0, 7, 8],
                Layout::La,
                vec![7, 0, 8, 255],
            ),
            // RGB colour key -> RGBA.
            (
                ihdr(2, 1, 8, 2, 0),
                vec![chunk(b"tRNS", &[0, 1, 0, 2, 0, 3])],
                vec![0, 1, 2, 3, 1, 2, 4],
                Layout::Rgba,
                vec![1, 2, 3, 0, 1, 2, 4, 255],
            ),
            // Palette -> RGB.
            (
                ihdr(2, 1, 8, 3, 0),
                vec![chunk(b"PLTE", &[10, 20, 30, 40, 50, 60])],
                vec![0, 1, 0],
                Layout::Rgb,
                vec![40, 50, 60, 10, 20, 30],
            ),
            // Palette with tRNS -> RGBA, entries past tRNS opaque.
            (
                ihdr(2, 1, 8, 3, 0),
                vec![
                    chunk(b"PLTE", &[10, 20, 30, 40, 50, 60]),
                    chunk(b"tRNS", &[9]),
                ],
                vec![0, 1, 0],
                Layout::Rgba,
                vec![40, 50, 60, 255, 10, 20, 30, 9],
            ),
            // 16-bit RGBA, each sample rounded.
            (
                ihdr(1, 1, 16, 6, 0),
                vec![],
                vec![0, 0, 128, 0, 129, 128, 128, 255, 255],
                Layout::Rgba,
                vec![0, 1, 128, 255],
            ),
        ];
        for (i, (header, extra, raw, layout, expected)) in cases.into_iter().enumerate() {
            let decoded = decode_all(&png_file(header, &extra, &raw)).unwrap();
            assert_eq!(decoded.pixels.layout, layout, "case {i}");
            assert_eq!(decoded.pixels.data, expected, "case {i}");
        }
    }

    #[test]
    fn refuses_with_a_reason() {
        let good = png_file(ihdr(2, 2, 8, 0, 0), &[], &[0, 1, 2, 0, 3, 4]);
        let mut bad_idat_crc = good.clone();
        let idat_crc = good.len() - CHUNK_OVERHEAD - 1;
        bad_idat_crc[idat_crc] ^= 1;
        let mut bad_ihdr_crc = good.clone();
        bad_ihdr_crc[8 + 8 + 13] ^= 1;
        // (input, substring of the reason)
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"GIF89a".to_vec(), "signature"),
            (SIGNATURE.to_vec(), "truncated"),
            (bad_idat_crc, "bad CRC in IDAT chunk"),
            (bad_ihdr_crc, "bad CRC in IHDR chunk"),
            (
                png_file(ihdr(2, 2, 8, 0, 0), &[], &[0, 1, 2]),
                "not have enough data",
            ),
            (
                png_file(ihdr(2, 2, 8, 0, 0), &[], &[9, 1, 2, 0, 3, 4]),
                "ilter",
            ),
            (png_file(ihdr(0, 2, 8, 0, 0), &[], &[]), "0x2"),
            // Found by fuzzing: a palette of 16 entries and one byte.
            (
                png_file(
                    ihdr(1, 1, 8, 3, 0),
                    &[chunk(b"PLTE", &[9; 49]), chunk(b"tRNS", &[1])],
                    &[0, 0],
                ),
                "PLTE chunk length",
            ),
            (good[..good.len() - 20].to_vec(), "truncated"),
        ];
        for (data, reason) in cases {
            match decode_all(&data) {
                Err(CoreError::PngMalformed(text)) => assert!(text.contains(reason), "{text}"),
                other => panic!("expected a malformed PNG ({reason}), got {other:?}"),
            }
        }
    }

    #[test]
    fn the_pixel_limit_holds_before_decoding() {
        let bomb = png_file(ihdr(30_000, 30_000, 8, 2, 0), &[], &[]);
        assert_eq!(
            decode(&bomb, 50_000_000, &Deadline::none()),
            Err(CoreError::PngTooLarge {
                width: 30_000,
                height: 30_000,
                max_pixels: 50_000_000
            })
        );
    }

    #[test]
    fn exif_and_a_bounded_icc_profile_come_back() {
        let profile = vec![7u8; 300];
        let mut iccp = b"sRGB\0\0".to_vec();
        iccp.extend(zlib_stored(&profile));
        let mut huge = b"big\0\0".to_vec();
        huge.extend(zlib_stored(&vec![0u8; MAX_ICC_BYTES + 1]));
        let raw = [0, 5];
        let with = png_file(
            ihdr(1, 1, 8, 0, 0),
            &[chunk(b"eXIf", b"MM\0*"), chunk(b"iCCP", &iccp)],
            &raw,
        );
        let decoded = decode_all(&with).unwrap();
        assert_eq!(decoded.exif.as_deref(), Some(&b"MM\0*"[..]));
        assert_eq!(decoded.icc, Some(profile));
        let too_big = decode_all(&png_file(
            ihdr(1, 1, 8, 0, 0),
            &[chunk(b"iCCP", &huge)],
            &raw,
        ))
        .unwrap();
        assert_eq!((too_big.icc, too_big.pixels.data), (None, vec![5]));
    }

    fn fctl(sequence: u32, width: u32, height: u32) -> Vec<u8> {
        let mut payload = Vec::new();
        for value in [sequence, width, height, 0, 0] {
            payload.extend_from_slice(&value.to_be_bytes());
        }
        payload.extend_from_slice(&[0, 1, 0, 10, 0, 0]);
        chunk(b"fcTL", &payload)
    }

    #[test]
    fn an_animated_png_gives_its_default_image() {
        let actl = |frames: u32| {
            chunk(
                b"acTL",
                &[frames.to_be_bytes(), 0u32.to_be_bytes()].concat(),
            )
        };
        let mut fdat = 2u32.to_be_bytes().to_vec();
        fdat.extend(zlib_stored(&[0, 99, 99]));
        let later_frame = [fctl(1, 2, 1), chunk(b"fdAT", &fdat)].concat();
        // (chunks before IDAT, the pixels or a part of the reason)
        type AnimationCase = (Vec<Vec<u8>>, Result<Vec<u8>, &'static str>);
        let cases: Vec<AnimationCase> = vec![
            // IDAT is the first frame.
            (vec![actl(2), fctl(0, 2, 1)], Ok(vec![10, 20])),
            // IDAT is a default image outside the animation.
            (vec![actl(1)], Ok(vec![10, 20])),
            // A first frame smaller than the canvas cannot be the default image.
            (
                vec![actl(2), fctl(0, 1, 1)],
                Err("Sub frame is out-of-bounds"),
            ),
        ];
        for (before, outcome) in cases {
            let mut data = SIGNATURE.to_vec();
            data.extend(ihdr(2, 1, 8, 0, 0));
            before
                .iter()
                .for_each(|extra| data.extend_from_slice(extra));
            data.extend(chunk(b"IDAT", &zlib_stored(&[0, 10, 20])));
            data.extend_from_slice(&later_frame);
            data.extend(chunk(b"IEND", b""));
            match (decode_all(&data), outcome) {
                (Ok(decoded), Ok(pixels)) => assert_eq!(decoded.pixels.data, pixels),
                (Err(CoreError::PngMalformed(text)), Err(reason)) => {
                    assert!(text.contains(reason), "{text}")
                }
                (got, want) => panic!("got {got:?}, expected {want:?}"),
            }
        }
    }

    #[test]
    fn an_expired_deadline_stops_decoding() {
        let data = png_file(ihdr(1, 40, 8, 0, 0), &[], &[0u8; 80]);
        assert_eq!(
            decode(&data, 1 << 30, &Deadline::after(std::time::Duration::ZERO)),
            Err(CoreError::DeadlineExceeded)
        );
    }
}
