//! A JPEG reader for the eighth-scale image: it decodes only each 8x8 block's DC
//! coefficient, which is the block's mean, so no inverse DCT and no AC coefficient is
//! needed (T.81 A.3.3).
//!
//! Reads baseline, extended-sequential (8-bit) and progressive Huffman JPEGs, greyscale or
//! YCbCr with 4:4:4, 4:2:2, 4:2:0 or 4:4:0 sampling, with or without restart intervals.
//! Anything else is `JpegUnsupported` (the caller decodes it another way); bad data is
//! `JpegMalformed`, never a panic. The frame's size is checked against the pixel limit
//! before anything is allocated, and memory is bounded by the eighth-scale image.

mod bits;
mod headers;
mod huffman;
mod output;
mod scan;
mod scratch;

use crate::error::CoreError;
use headers::{parse_huffman, parse_quantisation, Frame, Scan};
use huffman::HuffmanTable;
use scan::{decode_scan, Plane, Tables};
use scratch::{AC_BLOCKS, BYTES, COEFFICIENTS};

/// An eighth-scale image: `ceil(source / 8)` on each side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcImage {
    pub width: usize,
    pub height: usize,
    /// The size declared by the frame header.
    pub source_width: usize,
    pub source_height: usize,
    /// 1 (grey, "L") or 3 ("RGB") bytes per pixel.
    pub channels: usize,
    /// Row-major pixels, `width * height * channels` bytes.
    pub pixels: Vec<u8>,
}

pub(crate) fn malformed(reason: &'static str) -> CoreError {
    CoreError::JpegMalformed(reason)
}

pub(crate) fn unsupported(reason: &'static str) -> CoreError {
    CoreError::JpegUnsupported(reason)
}

/// Decodes the eighth-scale image of a JPEG.
///
/// `max_pixels` bounds the frame's width x height; a larger frame is `JpegTooLarge`.
pub fn decode_dc(data: &[u8], max_pixels: u64) -> Result<DcImage, CoreError> {
    Decoder::new(data, max_pixels).run()
}

struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
    max_pixels: u64,
    frame: Option<Frame>,
    planes: Vec<Plane>,
    quantisation: [Option<[u16; 64]>; 4],
    dc_tables: [Option<HuffmanTable>; 4],
    ac_tables: [Option<HuffmanTable>; 4],
    restart_interval: usize,
    saw_jfif: bool,
    adobe_transform: Option<u8>,
}

impl<'a> Decoder<'a> {
    fn new(data: &'a [u8], max_pixels: u64) -> Self {
        Decoder {
            data,
            pos: 0,
            max_pixels,
            frame: None,
            planes: Vec::new(),
            quantisation: [None; 4],
            dc_tables: [None, None, None, None],
            ac_tables: [None, None, None, None],
            restart_interval: 0,
            saw_jfif: false,
            adobe_transform: None,
        }
    }

    fn run(mut self) -> Result<DcImage, CoreError> {
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
                    self.planes = allocate_planes(&frame)?;
                    self.frame = Some(frame);
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
                    self.saw_jfif |= payload.starts_with(b"JFIF\0");
                }
                0xEE => {
                    let payload = self.segment()?;
                    if payload.starts_with(b"Adobe") && payload.len() >= 12 {
                        self.adobe_transform = Some(payload[11]);
                    }
                }
                0xD0..=0xD7 | 0x01 => {} // stray restart or TEM: no segment
                0xD8 => return Err(malformed("second SOI marker")),
                _ => {
                    self.segment()?; // APPn, COM, and the rest: skipped
                }
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
        let frame = self
            .frame
            .as_ref()
            .ok_or_else(|| malformed("scan before frame"))?;
        let scan = Scan::parse(payload, frame)?;
        // Each table gets the lookups of the way this scan reads with it, and no others:
        // progressive files often define new tables for every scan.
        let dc_differences = !frame.progressive || (scan.start == 0 && scan.high == 0);
        for sc in &scan.components {
            if dc_differences {
                if let Some(table) = self.dc_tables[sc.dc_table].as_mut() {
                    table.prepare_dc();
                }
            }
            let keeps_ac = !self.planes[sc.index].ac.is_empty();
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
        )?;
        Ok(())
    }

    fn finish(&mut self) -> Result<DcImage, CoreError> {
        let frame = self.frame.take().ok_or_else(|| malformed("no frame"))?;
        if self.planes.iter().any(|plane| plane.quantisation.is_none()) {
            return Err(malformed("a component was never coded"));
        }
        if frame.components.len() == 3 {
            let ids: Vec<u8> = frame.components.iter().map(|c| c.id).collect();
            // libjpeg's guess of the colour space: JFIF means YCbCr, then Adobe's transform
            // flag, then the component ids 'R', 'G', 'B'.
            let rgb = if self.saw_jfif {
                false
            } else if let Some(transform) = self.adobe_transform {
                transform == 0
            } else {
                ids == b"RGB"
            };
            if rgb {
                return Err(unsupported("RGB (untransformed) JPEG"));
            }
        }
        let (width, height) = (frame.width.div_ceil(8), frame.height.div_ceil(8));
        let pixels = output::render(&frame, &self.planes, width, height)?;
        Ok(DcImage {
            width,
            height,
            source_width: frame.width,
            source_height: frame.height,
            channels: if frame.components.len() == 1 { 1 } else { 3 },
            pixels,
        })
    }
}

/// One zeroed plane of coefficients per component, covering whole MCUs: the DC terms,
/// and for the chroma of 4:2:0 the AC terms libjpeg uses at this scale (see `output`).
fn allocate_planes(frame: &Frame) -> Result<Vec<Plane>, CoreError> {
    frame
        .components
        .iter()
        .map(|c| {
            let (across, down) = (frame.mcus_across * c.h, frame.mcus_down * c.v);
            let blocks = across * down;
            let ac_blocks = if output::reduced_by_idct(frame, c) {
                blocks
            } else {
                0
            };
            Ok(Plane {
                across,
                dc: scratch::take(&COEFFICIENTS, blocks)?,
                ac: scratch::take(&AC_BLOCKS, ac_blocks)?,
                quantisation: None,
            })
        })
        .collect()
}

impl Drop for Decoder<'_> {
    fn drop(&mut self) {
        for plane in &mut self.planes {
            scratch::give(&COEFFICIENTS, std::mem::take(&mut plane.dc));
            scratch::give(&AC_BLOCKS, std::mem::take(&mut plane.ac));
        }
    }
}

/// Hands an image's pixels back to this thread for its next decode (see `scratch`); for
/// callers that copy them out, as the Python binding does.
pub fn recycle(image: DcImage) {
    scratch::give(&BYTES, image.pixels);
}

#[cfg(test)]
mod tests;
