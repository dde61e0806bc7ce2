//! A JPEG reader that decodes at a reduced scale exactly as libjpeg-turbo 2.1 does: at
//! 1/8, 1/4, 1/2 or full size, with the same inverse DCT for each component at that scale,
//! the same upsampling and the same colour conversion, so its pixels equal libjpeg's
//! scaled output (Pillow's `draft`) bit for bit. At 1/8 most components need only each
//! block's DC term, which is its mean (T.81 A.3.3): their AC symbols are read past
//! without decoding, and their progressive AC scans are skipped whole.
//!
//! Reads baseline, extended-sequential (8-bit) and progressive Huffman JPEGs, greyscale,
//! YCbCr or RGB, with any sampling factors libjpeg upsamples (1 to 4 per component, each
//! dividing the largest), with or without restart intervals. Everything libjpeg refuses is
//! refused here too (`JpegMalformed`); what it reads but this reader does not
//! (arithmetic coding, 12-bit, CMYK, lossless, progressive files libjpeg would smooth,
//! damage libjpeg only warns about) is `JpegUnsupported` or `JpegMalformed`, for the
//! caller to decode another way. The frame's size is checked against the pixel limit and
//! the number of scans against `MAX_SCANS` before any work that depends on them, and the
//! deadline between block rows; never a panic.

mod bits;
mod blocks;
mod geometry;
mod headers;
mod huffman;
mod idct;
mod output;
mod scan;
mod scratch;
mod survey;

pub use geometry::Scale;
pub(crate) use output::ycbcr_to_rgb;
pub use survey::{survey, Coding, Survey};

use crate::deadline::Deadline;
use crate::error::CoreError;
use crate::luminance::Layout;
use crate::pixels::Pixels;
use blocks::FullBlock;
use geometry::Geometry;
use headers::{parse_huffman, parse_quantisation, Frame, Scan};
use huffman::HuffmanTable;
use output::{Colour, SamplePlane};
use scan::{decode_scan, AcTerms, Plane, Tables};
use scratch::{BYTES, COEFFICIENTS, FULL_BLOCKS, REDUCED_BLOCKS};

/// The most scans a file may have; more is refused before they are decoded, as
/// libjpeg-turbo's own scan limit (TurboJPEG's `TJFLAG_LIMITSCANS`) refuses them: each scan
/// can make the decoder visit every block again, so a small file of many tiny scans would
/// cost seconds.
pub const MAX_SCANS: usize = 500;

/// What `decode` produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Grey (`L`) or `Rgb`, at the scale asked for.
    pub pixels: Pixels,
    /// The size declared by the frame header.
    pub source_width: usize,
    pub source_height: usize,
}

pub(crate) fn malformed(reason: &'static str) -> CoreError {
    CoreError::JpegMalformed(reason)
}

pub(crate) fn unsupported(reason: &'static str) -> CoreError {
    CoreError::JpegUnsupported(reason)
}

/// Decodes a JPEG at `scale`, as libjpeg does at that scale.
///
/// `max_pixels` bounds the frame's width x height (`JpegTooLarge`); `deadline` is checked
/// between block rows (`DeadlineExceeded`).
pub fn decode(
    data: &[u8],
    scale: Scale,
    max_pixels: u64,
    deadline: &Deadline,
) -> Result<Decoded, CoreError> {
    Decoder::new(data, scale, max_pixels, deadline).run()
}

/// The image at scale 1/8 (`decode` at `Scale::Eighth`, without a deadline).
pub fn decode_dc(data: &[u8], max_pixels: u64) -> Result<Decoded, CoreError> {
    decode(data, Scale::Eighth, max_pixels, &Deadline::none())
}

struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
    scale: Scale,
    max_pixels: u64,
    deadline: &'a Deadline,
    frame: Option<Frame>,
    geometry: Option<Geometry>,
    planes: Vec<Plane>,
    quantisation: [Option<[u16; 64]>; 4],
    dc_tables: [Option<HuffmanTable>; 4],
    ac_tables: [Option<HuffmanTable>; 4],
    restart_interval: usize,
    saw_jfif: bool,
    adobe_transform: Option<u8>,
    /// libjpeg's guess of the colour space, made at the first scan from the markers
    /// before it, as libjpeg makes it.
    colour: Option<Colour>,
    scans: usize,
    /// Per component: the successive-approximation bit each coefficient (zigzag order) is
    /// known down to, -1 before any scan has coded it (libjpeg's `coef_bits`).
    known_bits: Vec<[i8; 64]>,
    /// Sequential files: the components a scan has coded.
    coded: Vec<bool>,
}

impl<'a> Decoder<'a> {
    fn new(data: &'a [u8], scale: Scale, max_pixels: u64, deadline: &'a Deadline) -> Self {
        Decoder {
            data,
            pos: 0,
            scale,
            max_pixels,
            deadline,
            frame: None,
            geometry: None,
            planes: Vec::new(),
            quantisation: [None; 4],
            dc_tables: [None, None, None, None],
            ac_tables: [None, None, None, None],
            restart_interval: 0,
            saw_jfif: false,
            adobe_transform: None,
            colour: None,
            scans: 0,
            known_bits: Vec::new(),
            coded: Vec::new(),
        }
    }

    fn run(mut self) -> Result<Decoded, CoreError> {
        if !self.data.starts_with(&[0xFF, 0xD8]) {
            return Err(malformed("no SOI marker"));
        }
        self.pos = 2;
        loop {
            let marker = self.next_marker()?;
            match marker {
                0xD9 => break,
                0xC0..=0xCF if marker != 0xC4 && marker != 0xC8 && marker != 0xCC => {
                    let payload = self.segment()?;
                    if self.frame.is_some() {
                        return Err(unsupported("more than one frame"));
                    }
                    let frame = Frame::parse(marker, payload, self.max_pixels)?;
                    let geometry = Geometry::new(&frame, self.scale)?;
                    self.planes = allocate_planes(&frame, &geometry)?;
                    self.known_bits = vec![[-1; 64]; frame.components.len()];
                    self.coded = vec![false; frame.components.len()];
                    self.frame = Some(frame);
                    self.geometry = Some(geometry);
                }
                0xCC => return Err(unsupported("arithmetic-coded JPEG")),
                0xC4 => {
                    let payload = self.segment()?;
                    parse_huffman(payload, &mut self.dc_tables, &mut self.ac_tables)?;
                }
                0xDB => {
                    let payload = self.segment()?;
                    parse_quantisation(payload, &mut self.quantisation)?;
                }
                0xDD => {
                    let payload = self.segment()?;
                    let [high, low] = payload else {
                        return Err(malformed("bad DRI segment"));
                    };
                    self.restart_interval = usize::from(u16::from_be_bytes([*high, *low]));
                }
                0xDA => self.scan()?,
                0xDC => return Err(unsupported("DNL marker")),
                0xE0 => {
                    let payload = self.segment()?;
                    // libjpeg recognises JFIF only in an APP0 of at least 14 bytes.
                    self.saw_jfif |= payload.len() >= 14 && payload.starts_with(b"JFIF\0");
                }
                0xEE => {
                    let payload = self.segment()?;
                    if payload.starts_with(b"Adobe") && payload.len() >= 12 {
                        self.adobe_transform = Some(payload[11]);
                    }
                }
                0xD0..=0xD7 | 0x01 => {} // stray restart or TEM: no segment
                0xD8 => return Err(malformed("second SOI marker")),
                0xE1..=0xED | 0xEF | 0xFE => {
                    self.segment()?; // other APPn and COM: skipped
                }
                // JPG, DHP, EXP, JPGn and the reserved codes: libjpeg refuses them as
                // possibly signalling extensions it does not know.
                _ => return Err(malformed("unknown marker")),
            }
        }
        self.finish()
    }

    /// The code of the marker at `pos` (fill bytes skipped); moves past it.
    fn next_marker(&mut self) -> Result<u8, CoreError> {
        let at = bits::next_marker(self.data, self.pos, false)
            .ok_or_else(|| malformed("no EOI marker"))?;
        // Bytes before the marker are extraneous: libjpeg warns and goes on, and so do we.
        self.pos = at + 2;
        Ok(self.data[at + 1])
    }

    /// The payload of the segment whose length field is at `pos`; moves past it.
    fn segment(&mut self) -> Result<&'a [u8], CoreError> {
        let data: &'a [u8] = self.data;
        let length = match data.get(self.pos..self.pos + 2) {
            Some(&[high, low]) => usize::from(u16::from_be_bytes([high, low])),
            _ => return Err(malformed("truncated segment")),
        };
        if length < 2 {
            return Err(malformed("bad segment length"));
        }
        let payload = data
            .get(self.pos + 2..self.pos + length)
            .ok_or_else(|| malformed("truncated segment"))?;
        self.pos += length;
        Ok(payload)
    }

    fn scan(&mut self) -> Result<(), CoreError> {
        let payload = self.segment()?;
        self.scans += 1;
        if self.scans > MAX_SCANS {
            return Err(CoreError::TooManyScans { limit: MAX_SCANS });
        }
        let scan = {
            let frame = self
                .frame
                .as_ref()
                .ok_or_else(|| malformed("scan before frame"))?;
            if self.colour.is_none() {
                self.colour = Some(colour(frame, self.saw_jfif, self.adobe_transform));
            }
            Scan::parse(payload, frame)?
        };
        self.track_progression(&scan)?;
        self.prepare_tables(&scan)?;
        let Some(frame) = self.frame.as_ref() else {
            return Err(malformed("scan before frame"));
        };
        for sc in &scan.components {
            let plane = &mut self.planes[sc.index];
            if plane.quantisation.is_none() {
                let table = self.quantisation[frame.components[sc.index].table]
                    .ok_or_else(|| malformed("undefined quantisation table"))?;
                plane.quantisation = Some(table);
            }
        }
        let tables = Tables {
            dc: &self.dc_tables,
            ac: &self.ac_tables,
        };
        self.pos = decode_scan(
            self.data,
            self.pos,
            frame,
            &scan,
            &mut self.planes,
            &tables,
            self.restart_interval,
            self.deadline,
        )?;
        Ok(())
    }

    /// Keeps libjpeg's record of how far each coefficient is known (progressive), or of
    /// which components are coded (sequential: a component coded twice would mix two
    /// scans' coefficients in libjpeg, which this reader does not reproduce).
    fn track_progression(&mut self, scan: &Scan) -> Result<(), CoreError> {
        let progressive = self.frame.as_ref().is_some_and(|f| f.progressive);
        for sc in &scan.components {
            if progressive {
                let band = usize::from(scan.start)..=usize::from(scan.end);
                self.known_bits[sc.index][band].fill(scan.low as i8);
            } else if std::mem::replace(&mut self.coded[sc.index], true) {
                return Err(unsupported("a component coded by two sequential scans"));
            }
        }
        Ok(())
    }

    /// Gives each table the lookups of the way this scan reads with it, and no others:
    /// progressive files often define new tables for every scan.
    fn prepare_tables(&mut self, scan: &Scan) -> Result<(), CoreError> {
        let Some(frame) = self.frame.as_ref() else {
            return Err(malformed("scan before frame"));
        };
        let dc_differences = !frame.progressive || (scan.start == 0 && scan.high == 0);
        for sc in &scan.components {
            if dc_differences {
                if let Some(table) = self.dc_tables[sc.dc_table].as_mut() {
                    table.prepare_dc()?;
                }
            }
            let plane = &self.planes[sc.index];
            let keeps_ac = plane.block_samples > 1;
            if let Some(table) = self.ac_tables[sc.ac_table].as_mut() {
                match (frame.progressive, keeps_ac) {
                    (false, false) => table.prepare_skipping(),
                    (false, true) => table.prepare_coefficients(),
                    (true, true) if scan.start > 0 && scan.high == 0 => {
                        table.prepare_coefficients()
                    }
                    (true, true) if scan.start > 0 => table.prepare_refinement(),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<Decoded, CoreError> {
        let frame = self.frame.take().ok_or_else(|| malformed("no frame"))?;
        let geometry = self.geometry.take().ok_or_else(|| malformed("no frame"))?;
        if self.planes.iter().any(|plane| plane.quantisation.is_none()) {
            return Err(malformed("a component was never coded"));
        }
        if frame.progressive && self.would_smooth() {
            return Err(unsupported("progressive JPEG that libjpeg smooths"));
        }
        let colour = self.colour.unwrap_or(Colour::Grey);
        let mut grids = Vec::with_capacity(self.planes.len());
        for (plane, c) in self.planes.iter_mut().zip(&geometry.components) {
            fill_samples(plane, frame.progressive)?;
            grids.push((plane.across * plane.block_samples, *c));
        }
        let sample_planes: Vec<SamplePlane<'_>> = self
            .planes
            .iter()
            .zip(grids)
            .map(|(plane, (stride, geometry))| SamplePlane {
                samples: &plane.samples,
                stride,
                geometry,
            })
            .collect();
        let pixels = output::render(&geometry, &sample_planes, colour)?;
        let layout = if colour == Colour::Grey {
            Layout::L
        } else {
            Layout::Rgb
        };
        Ok(Decoded {
            pixels: Pixels {
                width: geometry.width,
                height: geometry.height,
                layout,
                data: pixels,
            },
            source_width: frame.width,
            source_height: frame.height,
        })
    }

    /// True when libjpeg would apply block smoothing (jdcoefct.c `smoothing_ok`): some
    /// component's coefficients 1-9 are not fully known after the last scan. libjpeg then
    /// estimates them (and, with no AC data at all, the DC terms too) from neighbouring
    /// blocks; this reader does not, so it leaves such files to libjpeg.
    fn would_smooth(&self) -> bool {
        self.known_bits.iter().all(|known| known[0] >= 0)
            && self
                .known_bits
                .iter()
                .any(|known| known[1..10].iter().any(|&bit| bit != 0))
    }
}

/// libjpeg's guess of a three-component file's colour space: JFIF means YCbCr, then
/// Adobe's transform flag, then the component ids 'R', 'G', 'B'.
fn colour(frame: &Frame, saw_jfif: bool, adobe_transform: Option<u8>) -> Colour {
    if frame.components.len() == 1 {
        return Colour::Grey;
    }
    let ids: Vec<u8> = frame.components.iter().map(|c| c.id).collect();
    let rgb = if saw_jfif {
        false
    } else if let Some(transform) = adobe_transform {
        transform == 0
    } else {
        ids == b"RGB"
    };
    if rgb {
        Colour::Rgb
    } else {
        Colour::YCbCr
    }
}

/// One zeroed plane per component, covering whole MCUs, holding what its inverse DCT at
/// this scale needs: DC terms, the AC terms a progressive file's scans refine, or (for a
/// sequential file's components of more than one sample a block) the samples themselves.
fn allocate_planes(frame: &Frame, geometry: &Geometry) -> Result<Vec<Plane>, CoreError> {
    frame
        .components
        .iter()
        .zip(&geometry.components)
        .map(|(c, g)| {
            let (across, down) = (frame.mcus_across * c.h, frame.mcus_down * c.v);
            let blocks = across * down;
            let n = g.samples;
            let stream = !frame.progressive && n > 1;
            let ac = match (frame.progressive, n) {
                (true, 2) => AcTerms::Reduced(scratch::take(&REDUCED_BLOCKS, blocks)?),
                (true, 4 | 8) => AcTerms::Full(scratch::take(&FULL_BLOCKS, blocks)?),
                _ => AcTerms::None,
            };
            Ok(Plane {
                across,
                block_samples: n,
                dc: scratch::take(&COEFFICIENTS, if stream { 0 } else { blocks })?,
                ac,
                samples: scratch::take(&BYTES, if stream { blocks * n * n } else { 0 })?,
                quantisation: None,
            })
        })
        .collect()
}

/// Makes a plane's samples from its coefficients, unless a sequential scan already did.
fn fill_samples(plane: &mut Plane, progressive: bool) -> Result<(), CoreError> {
    let n = plane.block_samples;
    if !progressive && n > 1 {
        return Ok(());
    }
    let table = plane.quantisation.unwrap_or([1; 64]);
    let stride = plane.across * n;
    let mut samples = scratch::take(&BYTES, plane.dc.len() * n * n)?;
    match &plane.ac {
        AcTerms::None => idct::dc_samples(&plane.dc, table[0], &mut samples),
        AcTerms::Reduced(blocks) => {
            for (i, (&dc, ac)) in plane.dc.iter().zip(blocks).enumerate() {
                let (row, col) = (i / plane.across, i % plane.across);
                let [upper, lower] = idct::reduced_2x2(dc, ac, &table);
                let at = 2 * row * stride + 2 * col;
                samples[at..at + 2].copy_from_slice(&upper);
                samples[at + stride..at + stride + 2].copy_from_slice(&lower);
            }
        }
        AcTerms::Full(blocks) => {
            let multipliers = idct::multipliers(&table);
            let mut block = FullBlock::default();
            for (i, (&dc, ac)) in plane.dc.iter().zip(blocks).enumerate() {
                let (row, col) = (i / plane.across, i % plane.across);
                block.values = ac.values;
                block.nonzero = ac.nonzero;
                block.values[0] = dc;
                let out = &mut samples[n * row * stride + n * col..];
                idct::block(n, &block, &multipliers, out, stride)?;
            }
        }
    }
    scratch::give(&BYTES, std::mem::replace(&mut plane.samples, samples));
    Ok(())
}

impl Drop for Decoder<'_> {
    fn drop(&mut self) {
        for plane in &mut self.planes {
            scratch::give(&COEFFICIENTS, std::mem::take(&mut plane.dc));
            scratch::give(&BYTES, std::mem::take(&mut plane.samples));
            match std::mem::replace(&mut plane.ac, AcTerms::None) {
                AcTerms::None => {}
                AcTerms::Reduced(blocks) => scratch::give(&REDUCED_BLOCKS, blocks),
                AcTerms::Full(blocks) => scratch::give(&FULL_BLOCKS, blocks),
            }
        }
    }
}

/// Hands an image's pixels back to this thread for its next decode (see `scratch`); for
/// callers that copy them out, as the Python binding does.
pub fn recycle(image: Decoded) {
    scratch::give(&BYTES, image.pixels.data);
}

#[cfg(test)]
mod tests;
