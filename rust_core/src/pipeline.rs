//! From encoded bytes to statistics in one call: sniff the format, check the pixel limit
//! from the header, decode (a JPEG at the smallest DCT scale that still covers the
//! analysis), resize to the analysis size, turn as the EXIF orientation says, measure.
//!
//! What this path does not decode (arithmetic-coded, CMYK, 12-bit or lossless JPEGs, and
//! files the JPEG reader refuses) comes back as a `Fallback`, with everything the caller
//! needs to decode it another way and hand the pixels to `analyze_pixels`, which does the
//! rest of the path the same way.

use std::time::{Duration, Instant};

use crate::analysis::{analyze, Analysis, Extras};
use crate::deadline::Deadline;
use crate::error::CoreError;
use crate::icc;
use crate::jpeg::{self, Coding, Scale};
use crate::luminance::Layout;
use crate::orientation::{exif_orientation, orient, Orientation};
use crate::pixels::Pixels;
use crate::placeholder::placeholder;
use crate::png;
use crate::regions::{crop, Rect};
use crate::resize::{analysis_size, resize_bytes, ANALYSIS_MAX_SIDE};
use crate::tiff;

/// The smallest side a JPEG's longer side is decoded down to by DCT scaling: below it, the
/// statistics of the scaled image drift from the 512-px analysis's beyond the bars of the
/// threshold study (docs/ALGORITHM.md).
pub const DCT_SCALING_MIN_SIDE: usize = 416;

/// The formats recognised by their first bytes. JPEG, PNG and TIFF are decoded here;
/// the others come back as a `Fallback` (`FallbackReason::Format`) for their own decoders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Tiff,
    Webp,
    Gif,
    Avif,
    Heif,
}

/// The bytes `Format::sniff` reads at most: an ISOBMFF file's `ftyp` brands.
pub const SNIFF_BYTES: usize = 64;

impl Format {
    /// The format whose signature `data` starts with.
    pub fn sniff(data: &[u8]) -> Option<Self> {
        if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if data.starts_with(&png::SIGNATURE) {
            Some(Format::Png)
        } else if [&b"II*\0"[..], b"MM\0*", b"II+\0", b"MM\0+"]
            .iter()
            .any(|magic| data.starts_with(magic))
        {
            Some(Format::Tiff)
        } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
            Some(Format::Webp)
        } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
            Some(Format::Gif)
        } else {
            Self::sniff_isobmff(data)
        }
    }

    /// AVIF or HEIF from an ISOBMFF `ftyp` box's major and compatible brands (AVIF when
    /// any brand is AVIF's, as a HEIF container with AV1 pictures declares).
    fn sniff_isobmff(data: &[u8]) -> Option<Self> {
        if data.len() < 16 || &data[4..8] != b"ftyp" {
            return None;
        }
        let size = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
        let end = size.clamp(16, data.len().min(SNIFF_BYTES));
        let brands: Vec<&[u8]> = std::iter::once(&data[8..12])
            .chain(data[16..end].chunks_exact(4))
            .collect();
        let any = |names: &[&[u8]]| brands.iter().any(|brand| names.contains(brand));
        if any(&[b"avif", b"avis"]) {
            Some(Format::Avif)
        } else if any(&[
            b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
        ]) {
            Some(Format::Heif)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Tiff => "tiff",
            Format::Webp => "webp",
            Format::Gif => "gif",
            Format::Avif => "avif",
            Format::Heif => "heif",
        }
    }
}

/// The size the header of a TIFF, WebP, GIF, AVIF or HEIF file declares, read from its
/// first bytes alone (the first directory; the canvas; the logical screen; the largest
/// `ispe`), for the caller to reserve what decoding it costs; None for other formats, or
/// when the header does not say.
pub fn declared_size(data: &[u8]) -> Option<(u64, u64)> {
    let le16 = |at: usize| -> Option<u64> {
        let b = data.get(at..at + 2)?;
        Some(u64::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let le24 = |at: usize| -> Option<u64> {
        let b = data.get(at..at + 3)?;
        Some(u64::from(b[0]) | u64::from(b[1]) << 8 | u64::from(b[2]) << 16)
    };
    match Format::sniff(data)? {
        Format::Tiff => tiff::declared_size(data),
        Format::Avif => crate::isobmff::declared_avif_size(data),
        Format::Heif => crate::isobmff::declared_size(data),
        Format::Gif => Some((le16(6)?, le16(8)?)),
        Format::Webp => match data.get(12..16)? {
            b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
            b"VP8L" => {
                let bits = u32::from_le_bytes(data.get(21..25)?.try_into().ok()?);
                Some((
                    u64::from(bits & 0x3FFF) + 1,
                    u64::from((bits >> 14) & 0x3FFF) + 1,
                ))
            }
            b"VP8 " => Some((le16(26)? & 0x3FFF, le16(28)? & 0x3FFF)),
            _ => None,
        },
        Format::Jpeg | Format::Png => None,
    }
}

/// Why a JPEG is left to another decoder: a fixed set, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackReason {
    /// Arithmetic coding, lossless or hierarchical.
    Coding,
    /// Four components (CMYK, YCCK).
    Cmyk,
    /// Samples of other than 8 bits.
    Precision,
    /// A progressive file libjpeg would smooth (coefficients left incomplete).
    Smoothing,
    /// Anything else this reader does not read (component counts, sampling, DNL, several
    /// frames, components coded twice).
    Unsupported,
    /// Damage the reader refuses and libjpeg may read through with warnings.
    Damaged,
    /// The caller turned the reader off (`Options::jpeg_reader`).
    Disabled,
    /// A format this path recognises but leaves to its own decoder (WebP, GIF, AVIF, HEIF).
    Format,
}

impl FallbackReason {
    pub fn label(self) -> &'static str {
        match self {
            FallbackReason::Coding => "coding",
            FallbackReason::Cmyk => "cmyk",
            FallbackReason::Precision => "precision",
            FallbackReason::Smoothing => "smoothing",
            FallbackReason::Unsupported => "unsupported",
            FallbackReason::Damaged => "damaged",
            FallbackReason::Disabled => "disabled",
            FallbackReason::Format => "format",
        }
    }

    /// The reason behind a reader's refusal.
    fn of(error: &CoreError) -> Option<Self> {
        match error {
            CoreError::JpegUnsupported(reason) => Some(if reason.contains("smooth") {
                FallbackReason::Smoothing
            } else if reason.contains("arithmetic")
                || reason.contains("lossless")
                || reason.contains("hierarchical")
            {
                FallbackReason::Coding
            } else if reason.contains("four-component") {
                FallbackReason::Cmyk
            } else if reason.contains("precision") {
                FallbackReason::Precision
            } else {
                FallbackReason::Unsupported
            }),
            CoreError::JpegMalformed(_) => Some(FallbackReason::Damaged),
            _ => None,
        }
    }
}

/// What the caller asks of the analysis.
#[derive(Debug, Clone)]
pub struct Options {
    pub max_pixels: u64,
    pub extras: Extras,
    pub deadline: Deadline,
    /// JPEGs decoded by this crate's reader; off, every JPEG is a `Fallback`.
    pub jpeg_reader: bool,
    /// Regions of the upright image measured besides the whole (`Analysis::regions`).
    pub regions: Vec<Rect>,
    /// BlurHash components (x, y) of the placeholders, when they are wanted.
    pub placeholder: Option<(u32, u32)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_pixels: u64::MAX,
            extras: Extras::default(),
            deadline: Deadline::none(),
            jpeg_reader: true,
            regions: Vec::new(),
            placeholder: None,
        }
    }
}

/// An image's header facts and how it was (or is to be) decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub format: Format,
    /// The stored size, before any scaling or turning.
    pub width: usize,
    pub height: usize,
    pub orientation: Orientation,
    /// The DCT scale's denominator a JPEG is decoded at (1 for other formats).
    pub denominator: usize,
    /// Images in the file (a TIFF's pages); the first is the one analysed.
    pub frames: usize,
}

/// How long the two halves of the path took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Bytes to pixels (the header, the decode).
    pub decode: Duration,
    /// Pixels to statistics (resize, turn, measure).
    pub analysis: Duration,
}

/// The result of `analyze_image`.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per image, moved once
pub enum Outcome {
    Analysed {
        facts: Facts,
        analysis: Analysis,
        timings: Timings,
    },
    /// Decode it another way at `facts.denominator`, then call `analyze_pixels`.
    Fallback {
        facts: Facts,
        reason: FallbackReason,
    },
}

/// The denominator of the smallest of the scales 1/8, 1/4, 1/2 whose longer side is at
/// least `DCT_SCALING_MIN_SIDE`, or 1 (full size) when none is; images of at most 512 px
/// are decoded as they are.
pub fn decode_denominator(width: usize, height: usize) -> usize {
    let longer = width.max(height);
    if longer <= ANALYSIS_MAX_SIDE {
        return 1;
    }
    [8, 4, 2]
        .into_iter()
        .find(|&d| longer.div_ceil(d) >= DCT_SCALING_MIN_SIDE)
        .unwrap_or(1)
}

/// Sniffs, checks, decodes and measures `data`.
///
/// Errors: `NotAnImage`, `ImageTooLarge` (from the header, before anything is decoded),
/// `TooManyScans`, `Corrupt` (a PNG that does not decode; a JPEG without a usable frame),
/// `DeadlineExceeded`.
pub fn analyze_image(data: &[u8], options: &Options) -> Result<Outcome, CoreError> {
    match Format::sniff(data) {
        Some(Format::Jpeg) => analyze_jpeg(data, options),
        Some(Format::Png) => analyze_png(data, options),
        Some(Format::Tiff) => analyze_tiff(data, options),
        // Their decoders read the size: it is unknown (0) here.
        Some(format) => Ok(Outcome::Fallback {
            facts: Facts {
                format,
                width: 0,
                height: 0,
                orientation: 1,
                denominator: 1,
                frames: 1,
            },
            reason: FallbackReason::Format,
        }),
        None => Err(CoreError::NotAnImage),
    }
}

/// ImageTooLarge beyond `max_pixels`, Corrupt for an empty size.
pub(crate) fn check_size(width: usize, height: usize, max_pixels: u64) -> Result<(), CoreError> {
    let pixels = width as u64 * height as u64;
    if pixels > max_pixels {
        return Err(CoreError::ImageTooLarge { pixels, max_pixels });
    }
    if pixels == 0 {
        return Err(CoreError::Corrupt(format!(
            "image declares a size of {width}x{height}"
        )));
    }
    Ok(())
}

fn analyze_jpeg(data: &[u8], options: &Options) -> Result<Outcome, CoreError> {
    let started = Instant::now();
    let survey = jpeg::survey(data).map_err(|err| CoreError::Corrupt(err.to_string()))?;
    let (width, height) = (survey.width, survey.height);
    check_size(width, height, options.max_pixels)?;
    if survey.scans > jpeg::MAX_SCANS {
        return Err(CoreError::TooManyScans {
            limit: jpeg::MAX_SCANS,
        });
    }
    let facts = Facts {
        format: Format::Jpeg,
        width,
        height,
        orientation: survey.exif.map_or(1, exif_orientation),
        denominator: decode_denominator(width, height),
        frames: 1,
    };
    let known = if !options.jpeg_reader {
        Some(FallbackReason::Disabled)
    } else if survey.coding == Coding::Other {
        Some(FallbackReason::Coding)
    } else if survey.components == 4 {
        Some(FallbackReason::Cmyk)
    } else if survey.precision != 8 {
        Some(FallbackReason::Precision)
    } else {
        None
    };
    if let Some(reason) = known {
        return Ok(Outcome::Fallback { facts, reason });
    }
    let scale = Scale::from_denominator(facts.denominator).unwrap_or(Scale::Full);
    let decoded = match jpeg::decode(data, scale, options.max_pixels, &options.deadline) {
        Ok(decoded) => decoded,
        Err(error) => {
            return match FallbackReason::of(&error) {
                Some(reason) => Ok(Outcome::Fallback { facts, reason }),
                None => Err(error),
            }
        }
    };
    let decoded_at = Instant::now();
    let pixels = &decoded.pixels;
    let analysis = finish(
        &pixels.data,
        (pixels.width, pixels.height),
        pixels.layout,
        &facts,
        survey.icc.as_deref(),
        options,
    );
    jpeg::recycle(decoded);
    Ok(Outcome::Analysed {
        facts,
        analysis: analysis?,
        timings: Timings {
            decode: decoded_at - started,
            analysis: decoded_at.elapsed(),
        },
    })
}

fn analyze_png(data: &[u8], options: &Options) -> Result<Outcome, CoreError> {
    let started = Instant::now();
    let decoded =
        png::decode(data, options.max_pixels, &options.deadline).map_err(|err| match err {
            CoreError::PngTooLarge {
                width,
                height,
                max_pixels,
            } => CoreError::ImageTooLarge {
                pixels: width as u64 * height as u64,
                max_pixels,
            },
            CoreError::PngMalformed(reason) => CoreError::Corrupt(reason),
            other => other,
        })?;
    let exif = decoded
        .exif
        .as_deref()
        .map(|raw| raw.strip_prefix(b"Exif\0\0").unwrap_or(raw));
    let facts = Facts {
        format: Format::Png,
        width: decoded.pixels.width,
        height: decoded.pixels.height,
        orientation: exif.map_or(1, exif_orientation),
        denominator: 1,
        frames: 1,
    };
    let decoded_at = Instant::now();
    let pixels = &decoded.pixels;
    let size = (pixels.width, pixels.height);
    let analysis = finish(
        &pixels.data,
        size,
        pixels.layout,
        &facts,
        decoded.icc.as_deref(),
        options,
    )?;
    Ok(analysed(facts, analysis, started, decoded_at))
}

/// The outcome of an image decoded from `started` to `decoded_at`, and analysed since.
fn analysed(facts: Facts, analysis: Analysis, started: Instant, decoded_at: Instant) -> Outcome {
    Outcome::Analysed {
        facts,
        analysis,
        timings: Timings {
            decode: decoded_at - started,
            analysis: decoded_at.elapsed(),
        },
    }
}

fn analyze_tiff(data: &[u8], options: &Options) -> Result<Outcome, CoreError> {
    let started = Instant::now();
    let decoded = tiff::decode(data, options.max_pixels, &options.deadline)?;
    let facts = Facts {
        format: Format::Tiff,
        width: decoded.pixels.width,
        height: decoded.pixels.height,
        orientation: decoded.orientation,
        denominator: 1,
        frames: decoded.pages,
    };
    let decoded_at = Instant::now();
    let icc = decoded.icc.as_deref();
    let analysis = match &decoded.cmyk {
        Some(cmyk) => finish_cmyk(cmyk, (facts.width, facts.height), &facts, icc, options)?,
        None => {
            let pixels = &decoded.pixels;
            let size = (pixels.width, pixels.height);
            finish(&pixels.data, size, pixels.layout, &facts, icc, options)?
        }
    };
    Ok(analysed(facts, analysis, started, decoded_at))
}

/// CMYK pixels (0 = no ink) in the profile `icc`, converted to sRGB at their decoded size,
/// then the rest of the path. Without a usable CMYK profile they are converted as Pillow
/// converts CMYK.
pub fn finish_cmyk(
    cmyk: &[u8],
    (width, height): (usize, usize),
    facts: &Facts,
    icc: Option<&[u8]>,
    options: &Options,
) -> Result<Analysis, CoreError> {
    let converted = icc.and_then(|icc| icc::cmyk_to_srgb(icc, cmyk, width, height));
    let (pixels, description) = match converted {
        Some((pixels, description)) => (pixels, Some(description)),
        None => {
            if cmyk.len() != width * height * 4 {
                return Err(CoreError::SizeMismatch {
                    expected: width * height * 4,
                    actual: cmyk.len(),
                    width,
                    height,
                    channels: 4,
                });
            }
            let ink = |c: u8, k: u8| (((255 - c as u32) * (255 - k as u32) + 127) / 255) as u8;
            let data = cmyk
                .chunks_exact(4)
                .flat_map(|p| [ink(p[0], p[3]), ink(p[1], p[3]), ink(p[2], p[3])])
                .collect();
            let pixels = Pixels {
                width,
                height,
                layout: Layout::Rgb,
                data,
            };
            (pixels, None)
        }
    };
    options.deadline.check()?;
    let mut analysis = finish(
        &pixels.data,
        (width, height),
        Layout::Rgb,
        facts,
        None,
        options,
    )?;
    analysis.colour_profile = description;
    Ok(analysis)
}

/// The rest of the path for pixels decoded elsewhere (the fallback), read in place:
/// `pixels` is the image of stored size `width` x `height`, decoded at some scale as
/// `size` (width, height) in `layout`; resized to the analysis size when its longer side
/// exceeds 512 px, turned, measured.
pub fn analyze_pixels(
    pixels: &[u8],
    size: (usize, usize),
    layout: Layout,
    (width, height): (usize, usize),
    orientation: Orientation,
    icc: Option<&[u8]>,
    options: &Options,
) -> Result<Analysis, CoreError> {
    let facts = Facts {
        format: Format::Jpeg,
        width,
        height,
        orientation,
        denominator: 1,
        frames: 1,
    };
    finish(pixels, size, layout, &facts, icc, options)
}

/// Resize (when over 512 px), convert from the embedded profile `icc` to sRGB (`icc.rs`),
/// turn, measure. Alpha is kept only for the colour statistics, the only ones that read it.
fn finish(
    data: &[u8],
    (width, height): (usize, usize),
    layout: Layout,
    facts: &Facts,
    icc: Option<&[u8]>,
    options: &Options,
) -> Result<Analysis, CoreError> {
    let expected = width * height * layout.channels();
    if width == 0 || height == 0 || data.len() != expected {
        return Err(CoreError::SizeMismatch {
            expected,
            actual: data.len(),
            width,
            height,
            channels: layout.channels(),
        });
    }
    let pixels = if width.max(height) > ANALYSIS_MAX_SIDE {
        let target = analysis_size(facts.width, facts.height);
        resize_bytes(data, (width, height), layout, target, &options.deadline)?
    } else {
        Pixels {
            width,
            height,
            layout,
            data: data.to_vec(),
        }
    };
    options.deadline.check()?;
    let mut pixels = if options.extras.colours || options.placeholder.is_some() {
        pixels
    } else {
        without_alpha(pixels)
    };
    let colour_profile = icc.and_then(|icc| icc::convert(icc, &mut pixels));
    let pixels = orient(pixels, facts.orientation);
    let measure = |image: &Pixels| {
        analyze(
            &image.data,
            image.width,
            image.height,
            image.layout,
            options.extras,
        )
    };
    let mut whole = measure(&pixels)?;
    for rect in &options.regions {
        options.deadline.check()?;
        whole.regions.push(measure(&crop(&pixels, rect))?);
    }
    whole.placeholder = options
        .placeholder
        .map(|components| placeholder(&pixels, components, &options.deadline))
        .transpose()?;
    whole.colour_profile = colour_profile;
    Ok(whole)
}

/// The same pixels without their alpha channel.
fn without_alpha(pixels: Pixels) -> Pixels {
    let (layout, keep) = match pixels.layout {
        Layout::La => (Layout::L, 1),
        Layout::Rgba => (Layout::Rgb, 3),
        _ => return pixels,
    };
    let stride = keep + 1;
    let data = pixels
        .data
        .chunks_exact(stride)
        .flat_map(|pixel| pixel[..keep].iter().copied())
        .collect();
    Pixels {
        width: pixels.width,
        height: pixels.height,
        layout,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_is_the_smallest_that_covers_the_threshold() {
        let cases = [
            ((536, 354), 1),
            ((512, 512), 1),
            ((800, 533), 1),  // 1/2 gives 400 < 416
            ((831, 512), 2),  // 1/2 gives exactly 416
            ((1200, 800), 2), // 1/4 gives 300
            ((1660, 1024), 2),
            ((1661, 1024), 4),
            ((1920, 1280), 4),
            ((3000, 2000), 4), // 1/8 gives 375
            ((3320, 2048), 4),
            ((3321, 2048), 8),
            ((4032, 2688), 8),
            ((2688, 4032), 8),
            ((5000, 3330), 8),
        ];
        for ((w, h), expected) in cases {
            assert_eq!(decode_denominator(w, h), expected, "{w}x{h}");
        }
    }

    #[test]
    fn sniffs_every_format_by_its_signature() {
        let cases: [(&[u8], Format); 9] = [
            (b"\xFF\xD8\xFF\xE0", Format::Jpeg),
            (&png::SIGNATURE, Format::Png),
            (b"II*\0\x08\0\0\0", Format::Tiff),
            (b"MM\0*\0\0\0\x08", Format::Tiff),
            (b"RIFF\x10\0\0\0WEBPVP8 ", Format::Webp),
            (b"GIF89a\x01\0", Format::Gif),
            (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf", Format::Avif),
            // A HEIF container of AV1 pictures is AVIF.
            (b"\0\0\0\x18ftypmif1\0\0\0\0mif1avif", Format::Avif),
            (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", Format::Heif),
        ];
        for (head, format) in cases {
            assert_eq!(Format::sniff(head), Some(format), "{head:?}");
        }
        let others: [&[u8]; 6] = [
            b"GIF90a",
            b"\xFF\xD8",
            b"RIFF\x10\0\0\0WAVE",
            b"\0\0\0\x18ftypisom\0\0\0\0mp41",
            b"\0\0\0\x10ftyp",
            b"",
        ];
        for other in others {
            assert_eq!(Format::sniff(other), None, "{other:?}");
        }
    }

    #[test]
    fn declared_sizes_come_from_the_headers() {
        let gif = b"GIF89a\x10\x27\x20\x4e";
        assert_eq!(declared_size(gif), Some((10000, 20000)));
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend([0xFE, 0x3F, 0x00, 0xFF, 0x3F, 0x00]);
        assert_eq!(declared_size(&vp8x), Some((16383, 16384)));
        let mut vp8l = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        vp8l.extend((63u32 | (47 << 14)).to_le_bytes());
        assert_eq!(declared_size(&vp8l), Some((64, 48)));
        assert_eq!(declared_size(&png::SIGNATURE), None);
        assert_eq!(declared_size(b"RIFF\0\0\0\0WEBPVP8X"), None);
    }

    /// A 40 x 20 grey image: the left half 50, the right half 200.
    fn halves() -> Vec<u8> {
        (0..20)
            .flat_map(|_| (0..40).map(|x| if x < 20 { 50 } else { 200 }))
            .collect()
    }

    fn measure(orientation: Orientation, regions: &[(f64, f64, f64, f64)]) -> Analysis {
        let options = Options {
            regions: regions
                .iter()
                .map(|&(x, y, w, h)| Rect::new(x, y, w, h).unwrap())
                .collect(),
            ..Options::default()
        };
        analyze_pixels(
            &halves(),
            (40, 20),
            Layout::L,
            (40, 20),
            orientation,
            None,
            &options,
        )
        .unwrap()
    }

    #[test]
    fn regions_have_the_statistics_of_their_pixels() {
        let a = measure(
            1,
            &[
                (0.0, 0.0, 0.5, 1.0),
                (0.5, 0.0, 0.5, 1.0),
                (0.25, 0.0, 0.5, 0.5),
            ],
        );
        let means: Vec<f64> = a.regions.iter().map(Analysis::mean).collect();
        assert_eq!(means, [50.0, 200.0, 125.0]);
        assert_eq!(
            a.regions.iter().map(|r| r.pixel_count).collect::<Vec<_>>(),
            [400, 400, 200]
        );
    }

    #[test]
    fn a_region_of_the_whole_image_equals_the_whole() {
        let mut a = measure(1, &[(0.0, 0.0, 1.0, 1.0)]);
        let region = a.regions.pop().unwrap();
        assert_eq!(region, a);
    }

    #[test]
    fn regions_are_of_the_upright_picture() {
        // EXIF 6: turned a quarter clockwise to be seen, the stored left half is the top.
        let a = measure(6, &[(0.0, 0.0, 1.0, 0.5), (0.0, 0.5, 1.0, 0.5)]);
        assert_eq!((a.width, a.height), (20, 40));
        let means: Vec<f64> = a.regions.iter().map(Analysis::mean).collect();
        assert_eq!(means, [50.0, 200.0]);
    }

    #[test]
    fn alpha_is_dropped_when_no_colour_statistic_reads_it() {
        let rgba = Pixels {
            width: 2,
            height: 1,
            layout: Layout::Rgba,
            data: vec![1, 2, 3, 4, 5, 6, 7, 8],
        };
        let rgb = without_alpha(rgba);
        assert_eq!(
            (rgb.layout, rgb.data),
            (Layout::Rgb, vec![1, 2, 3, 5, 6, 7])
        );
    }
}
