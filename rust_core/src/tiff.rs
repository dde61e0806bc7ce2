//! TIFF decoding with image-rs's `tiff` crate: the first image (page) of the file, 8- or
//! 16-bit samples, grey, grey + alpha, RGB, RGBA, 8-bit palette and 8-bit CMYK, stored
//! uncompressed or with LZW, Deflate, PackBits or JPEG compression, in strips or tiles.
//!
//! - The size of the first image is held against `max_pixels` before any sample is read.
//! - 16-bit samples v become floor(v / 257 + 1/2) (round(v x 255 / 65535)), never clipped,
//!   as a 16-bit PNG's do.
//! - WhiteIsZero grey is inverted (by the decoder); associated (premultiplied) alpha is divided out, as
//!   Pillow does; a palette is expanded from its 16-bit colour map.
//! - CMYK comes back as CMYK for the colour management (`icc`) when the file has a profile,
//!   otherwise as RGB by Pillow's formula R = (255 - C)(255 - K) / 255.
//! - The pages after the first are counted (up to `MAX_PAGES`) from the directory chain
//!   alone, never decoded.
//! - The decoder's own limits bound every buffer: the image's bytes, each IFD value (1 MB).

use std::io::Cursor;

use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::ColorType;

use crate::deadline::Deadline;
use crate::error::CoreError;
use crate::luminance::Layout;
use crate::pixels::Pixels;

/// Pages counted past the first; a file with more says it has at least this many.
pub const MAX_PAGES: usize = 10_000;

/// A TIFF's first image.
pub struct DecodedTiff {
    /// 8-bit grey/RGB pixels, with alpha when stored; `cmyk` holds CMYK ones instead.
    pub pixels: Pixels,
    /// Four bytes a pixel (0 = no ink) when the image is CMYK with a profile to convert it.
    pub cmyk: Option<Vec<u8>>,
    pub orientation: u8,
    pub icc: Option<Vec<u8>>,
    /// Images (pages) in the file, the first included; at most `MAX_PAGES`.
    pub pages: usize,
}

fn corrupt(error: impl std::fmt::Display) -> CoreError {
    let text = error.to_string();
    CoreError::Corrupt(format!(
        "malformed TIFF: {}",
        text.chars().take(160).collect::<String>()
    ))
}

fn unsupported(what: &str) -> CoreError {
    CoreError::Corrupt(format!("TIFF not supported: {what}"))
}

/// Decodes the first image of `data` (see the module documentation).
pub fn decode(data: &[u8], max_pixels: u64, deadline: &Deadline) -> Result<DecodedTiff, CoreError> {
    // The decoder checks a directory's strips against its size when it opens the file:
    // the size alone is read first, so a bomb is refused as one whatever else it holds.
    if let Some((width, height)) = declared_size(data) {
        let pixels = width * height;
        if pixels > max_pixels {
            return Err(CoreError::ImageTooLarge { pixels, max_pixels });
        }
    }
    let mut limits = Limits::default();
    // The largest image the pixel limit lets through, as 16-bit RGBA.
    limits.decoding_buffer_size = usize::try_from(max_pixels.saturating_mul(8))
        .unwrap_or(usize::MAX)
        .min(1 << 30);
    limits.ifd_value_size = 1 << 20;
    let mut decoder = Decoder::new(Cursor::new(data))
        .map_err(corrupt)?
        .with_limits(limits);
    let (width, height) = decoder.dimensions().map_err(corrupt)?;
    let (width, height) = (width as usize, height as usize);
    crate::pipeline::check_size(width, height, max_pixels)?;
    let colour = decoder.colortype().map_err(corrupt)?;
    let planar = decoder
        .find_tag_unsigned::<u16>(Tag::PlanarConfiguration)
        .map_err(corrupt)?
        .unwrap_or(1);
    if planar != 1 {
        return Err(unsupported("separate colour planes"));
    }
    let compression = decoder
        .find_tag_unsigned::<u16>(Tag::Compression)
        .map_err(corrupt)?
        .unwrap_or(1);
    let orientation = decoder
        .find_tag_unsigned::<u16>(Tag::Orientation)
        .ok()
        .flatten()
        .filter(|value| (1..=8).contains(value))
        .map_or(1, |value| value as u8);
    let icc = decoder
        .find_tag(Tag::IccProfile)
        .ok()
        .flatten()
        .and_then(|value| value.into_u8_vec().ok());
    let associated = decoder
        .find_tag_unsigned_vec::<u16>(Tag::ExtraSamples)
        .ok()
        .flatten()
        .is_some_and(|samples| samples.first() == Some(&1));
    let colour_map = match colour {
        ColorType::Palette(8) => Some(decoder.get_tag_u16_vec(Tag::ColorMap).map_err(corrupt)?),
        _ => None,
    };
    let (layout, channels, bits) = match colour {
        ColorType::Gray(bits @ (8 | 16)) => (Layout::L, 1, bits),
        ColorType::GrayA(bits @ (8 | 16))
        | ColorType::Multiband {
            bit_depth: bits @ (8 | 16),
            num_samples: 2,
        } => (Layout::La, 2, bits),
        ColorType::RGB(bits @ (8 | 16)) => (Layout::Rgb, 3, bits),
        // JPEG-compressed YCbCr: the JPEG decoder returns full-size YCbCr samples.
        ColorType::YCbCr(8) if compression == 7 => (Layout::Rgb, 3, 8),
        ColorType::RGBA(bits @ (8 | 16)) => (Layout::Rgba, 4, bits),
        ColorType::Palette(8) => (Layout::Rgb, 1, 8),
        ColorType::CMYK(8) => (Layout::Rgb, 4, 8),
        other => return Err(unsupported(&format!("{other:?} samples"))),
    };
    if compression == 1 {
        // Uncompressed strips or tiles shorter than the samples they must hold: the
        // decoder would read on past them.
        let bytes_per_sample = usize::from(bits / 8);
        let needed = width * height * channels * bytes_per_sample;
        let counts = decoder
            .find_tag_unsigned_vec::<u64>(Tag::StripByteCounts)
            .ok()
            .flatten()
            .or_else(|| {
                decoder
                    .find_tag_unsigned_vec::<u64>(Tag::TileByteCounts)
                    .ok()
                    .flatten()
            })
            .unwrap_or_default();
        let stored: u64 = counts
            .iter()
            .fold(0u64, |sum, &count| sum.saturating_add(count));
        if stored < needed as u64 {
            return Err(corrupt("strips hold fewer bytes than the image's samples"));
        }
    }
    let decoded = decoder.read_image().map_err(corrupt)?;
    deadline.check()?;
    let mut samples: Vec<u8> = match (decoded, bits) {
        (DecodingResult::U8(samples), 8) => samples,
        (DecodingResult::U16(samples), 16) => samples
            .iter()
            .map(|&v| ((v as u32 + 128) / 257) as u8)
            .collect(),
        _ => return Err(unsupported("sample format")),
    };
    if samples.len() != width * height * channels {
        return Err(corrupt("sample count does not match the image size"));
    }
    if matches!(colour, ColorType::YCbCr(_)) {
        for pixel in samples.chunks_exact_mut(3) {
            pixel.copy_from_slice(&crate::jpeg::ycbcr_to_rgb(pixel[0], pixel[1], pixel[2]));
        }
    }
    if associated && matches!(layout, Layout::La | Layout::Rgba) {
        unpremultiply(&mut samples, channels);
    }
    let pages = count_pages(data);
    let mut cmyk = None;
    let data = if let Some(map) = colour_map {
        expand_palette(&samples, &map)?
    } else if channels == 4 && layout == Layout::Rgb {
        if icc.is_some() {
            cmyk = Some(samples);
            vec![0; width * height * 3]
        } else {
            cmyk_to_rgb(&samples)
        }
    } else {
        samples
    };
    Ok(DecodedTiff {
        pixels: Pixels {
            width,
            height,
            layout,
            data,
        },
        cmyk,
        orientation,
        icc,
        pages,
    })
}

/// ImageWidth and ImageLength of the first directory, read from the raw bytes (classic
/// TIFF and BigTIFF, either byte order); None when they cannot be found.
pub fn declared_size(data: &[u8]) -> Option<(u64, u64)> {
    let raw = Raw::of(data)?;
    let ifd = raw.first_ifd()?;
    let count = raw.entries(ifd)?.min(4096);
    let (mut width, mut height) = (None, None);
    for index in 0..count {
        let entry = ifd + raw.count_size + index * raw.entry_size;
        let tag = raw.read(entry, 2)?;
        let value = match raw.read(entry + 2, 2)? {
            3 => raw.read(entry + raw.value_at, 2)?,
            4 => raw.read(entry + raw.value_at, 4)?,
            16 => raw.read(entry + raw.value_at, 8)?,
            _ => continue,
        };
        match tag {
            256 => width = Some(value),
            257 => height = Some(value),
            _ => {}
        }
    }
    Some((width?.min(u32::MAX.into()), height?.min(u32::MAX.into())))
}

/// A TIFF's structure read from its bytes (classic or BigTIFF, either byte order), for what
/// is needed before the decoder runs: the first directory's size, and how many there are.
struct Raw<'a> {
    data: &'a [u8],
    little: bool,
    big: bool,
    count_size: usize,
    entry_size: usize,
    value_at: usize,
}

impl<'a> Raw<'a> {
    fn of(data: &'a [u8]) -> Option<Self> {
        let little = match data.get(..2)? {
            b"II" => true,
            b"MM" => false,
            _ => return None,
        };
        let mut raw = Raw {
            data,
            little,
            big: false,
            count_size: 2,
            entry_size: 12,
            value_at: 8,
        };
        if raw.read(2, 2)? == 43 {
            (raw.big, raw.count_size, raw.entry_size, raw.value_at) = (true, 8, 20, 12);
        }
        Some(raw)
    }

    /// The unsigned number of `size` bytes at `at`.
    fn read(&self, at: usize, size: usize) -> Option<u64> {
        let bytes = self.data.get(at..at.checked_add(size)?)?;
        Some(if self.little {
            bytes
                .iter()
                .rev()
                .fold(0, |acc, &b| acc << 8 | u64::from(b))
        } else {
            bytes.iter().fold(0, |acc, &b| acc << 8 | u64::from(b))
        })
    }

    fn offset(&self, at: usize) -> Option<usize> {
        usize::try_from(self.read(at, if self.big { 8 } else { 4 })?).ok()
    }

    fn first_ifd(&self) -> Option<usize> {
        self.offset(if self.big { 8 } else { 4 })
    }

    /// The number of entries of the directory at `ifd`.
    fn entries(&self, ifd: usize) -> Option<usize> {
        usize::try_from(self.read(ifd, self.count_size)?).ok()
    }

    /// Where the directory after the one at `ifd` starts (0: none).
    fn next_ifd(&self, ifd: usize) -> Option<usize> {
        let end = self
            .entries(ifd)?
            .checked_mul(self.entry_size)?
            .checked_add(ifd + self.count_size)?;
        self.offset(end)
    }
}

/// Directories (pages) in the file, the first included, up to `MAX_PAGES`, by walking the
/// chain of next-directory offsets alone (no tag is read, so a page costs a few reads
/// whatever its tags hold); a chain that loops back, or points past the end, ends the
/// count.
fn count_pages(data: &[u8]) -> usize {
    let Some(raw) = Raw::of(data) else {
        return 1;
    };
    let mut seen = std::collections::HashSet::new();
    let mut at = raw.first_ifd();
    while let Some(ifd) = at.filter(|&ifd| ifd != 0 && seen.len() < MAX_PAGES) {
        if raw.entries(ifd).is_none() || !seen.insert(ifd) {
            break;
        }
        at = raw.next_ifd(ifd);
    }
    seen.len().max(1)
}

/// Divides premultiplied colour by its alpha (rounded), as Pillow's RGBa to RGBA does.
fn unpremultiply(samples: &mut [u8], channels: usize) {
    for pixel in samples.chunks_exact_mut(channels) {
        let alpha = pixel[channels - 1] as u32;
        for value in &mut pixel[..channels - 1] {
            *value = (*value as u32 * 255 + alpha / 2)
                .checked_div(alpha)
                .map_or(0, |v| v.min(255) as u8);
        }
    }
}

/// RGB of 8-bit palette indices through a TIFF colour map (all reds, greens, then blues,
/// 16 bits each).
fn expand_palette(indices: &[u8], map: &[u16]) -> Result<Vec<u8>, CoreError> {
    if map.len() != 3 * 256 {
        return Err(corrupt("colour map of the wrong length"));
    }
    let narrow = |v: u16| ((v as u32 + 128) / 257) as u8;
    Ok(indices
        .iter()
        .flat_map(|&i| {
            let i = i as usize;
            [narrow(map[i]), narrow(map[256 + i]), narrow(map[512 + i])]
        })
        .collect())
}

/// Pillow's CMYK to RGB: each of R, G, B is (255 - C)(255 - K) / 255, rounded.
fn cmyk_to_rgb(samples: &[u8]) -> Vec<u8> {
    let ink = |c: u8, k: u8| (((255 - c as u32) * (255 - k as u32) + 127) / 255) as u8;
    samples
        .chunks_exact(4)
        .flat_map(|p| [ink(p[0], p[3]), ink(p[1], p[3]), ink(p[2], p[3])])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian, uncompressed, one-strip TIFF of `samples` (8-bit unless `wide`).
    fn tiff(
        width: u16,
        height: u16,
        photometric: u16,
        per_pixel: u16,
        samples: &[u8],
        wide: bool,
    ) -> Vec<u8> {
        let bits: u16 = if wide { 16 } else { 8 };
        let entries: Vec<(u16, u16, u32, u32)> = vec![
            (256, 3, 1, width as u32),
            (257, 3, 1, height as u32),
            (258, 3, 1, bits as u32),
            (259, 3, 1, 1),
            (262, 3, 1, photometric as u32),
            (273, 4, 1, 0), // patched below
            (277, 3, 1, per_pixel as u32),
            (278, 3, 1, height as u32),
            (279, 4, 1, samples.len() as u32),
        ];
        let ifd_at = 8u32;
        let data_at = ifd_at + 2 + 12 * entries.len() as u32 + 4;
        let mut out = b"II*\0".to_vec();
        out.extend(ifd_at.to_le_bytes());
        out.extend((entries.len() as u16).to_le_bytes());
        for (tag, kind, count, value) in entries {
            let value = if tag == 273 { data_at } else { value };
            out.extend(tag.to_le_bytes());
            out.extend(kind.to_le_bytes());
            out.extend(count.to_le_bytes());
            if kind == 3 {
                out.extend((value as u16).to_le_bytes());
                out.extend([0, 0]);
            } else {
                out.extend(value.to_le_bytes());
            }
        }
        out.extend(0u32.to_le_bytes());
        out.extend(samples);
        out
    }

    #[test]
    fn reads_8_bit_rgb_and_narrows_16_bit_grey_by_rounding() {
        let rgb = tiff(2, 1, 2, 3, &[1, 2, 3, 250, 251, 252], false);
        let decoded = decode(&rgb, 100, &Deadline::none()).unwrap();
        assert_eq!(decoded.pixels.data, vec![1, 2, 3, 250, 251, 252]);
        assert_eq!((decoded.pages, decoded.orientation), (1, 1));
        let values: [u16; 4] = [0, 128, 385, 65535];
        let wide: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let grey = decode(&tiff(4, 1, 1, 1, &wide, true), 100, &Deadline::none()).unwrap();
        // floor(v / 257 + 1/2): 128 -> 0 (0.498), 385 -> 1 (1.498), 65535 -> 255.
        assert_eq!(grey.pixels.data, vec![0, 0, 1, 255]);
        assert_eq!(grey.pixels.layout, Layout::L);
    }

    #[test]
    fn white_is_zero_is_inverted_and_cmyk_without_a_profile_is_converted() {
        let grey = decode(&tiff(2, 1, 0, 1, &[0, 200], false), 100, &Deadline::none()).unwrap();
        assert_eq!(grey.pixels.data, vec![255, 55]);
        let cmyk = decode(
            &tiff(1, 1, 5, 4, &[255, 0, 51, 0], false),
            100,
            &Deadline::none(),
        );
        assert_eq!(cmyk.unwrap().pixels.data, vec![0, 255, 204]);
    }

    #[test]
    fn the_size_is_checked_before_the_samples_are_read() {
        let bomb = tiff(60000, 60000, 1, 1, &[0; 16], false);
        match decode(&bomb, 50_000_000, &Deadline::none()) {
            Err(CoreError::ImageTooLarge { pixels, .. }) => assert_eq!(pixels, 3_600_000_000),
            other => panic!("{:?}", other.err()),
        }
        let short = tiff(100, 100, 1, 1, &[0; 16], false);
        assert!(matches!(
            decode(&short, 1 << 20, &Deadline::none()),
            Err(CoreError::Corrupt(_))
        ));
    }
}
