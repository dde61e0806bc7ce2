//! Resizing to the analysis size: `fast_image_resize`'s Lanczos3 (AVX2), colour and alpha
//! resampled independently as Pillow does (no premultiplication), with a bound on memory for
//! any aspect ratio.
//!
//! **Pillow's pixels.** The crate computes Pillow's weights in Pillow's fixed point; run rows
//! first, then columns, as Pillow does (two calls: for 8-bit pixels the crate alone would
//! take columns first), the result equals pillow-simd's LANCZOS pixel for pixel on photos
//! and on noise, whenever the pre-reduction below does not run (tests/test_resize_core.py).
//!
//! **Why a pre-reduction.** A convolution resize keeps, for each output pixel along an axis,
//! the weights of every input pixel its window covers: 6 x (input / output) of them for
//! Lanczos3, so about 6 x the input's length, in f64, per axis. For ordinary photos that is a
//! few hundred kB; for a 2 x 25,000,000 image it is 1.2 GB (what made Pillow allocate 1.6 GB).
//! So when an axis shrinks by more than `MAX_LANCZOS_REDUCTION`, that axis is first reduced
//! by an integer factor k = ceil(input / (MAX_LANCZOS_REDUCTION x output)) with a streaming
//! box average (each k x k' block to its mean, halves to even so that the mean does not drift;
//! a last, partial block averages what it has), and Lanczos then maps the reduced image,
//! cropped to the exact extent input / k, to the output. The box is narrower than
//! 1 / MAX_LANCZOS_REDUCTION of the Lanczos window it feeds, so the result differs from a
//! direct Lanczos by at most a level per pixel (means of 0.03 to 0.06); at the analysis size
//! (512 px) only axes longer than 32,768 px take it, which no ordinary photo has.
//!
//! **Bounds**, for a source of S bytes and an output of w x h pixels of c channels:
//! - memory: the output (w x h x c), the pre-reduced image when there is one (at most S / k,
//!   k >= 2), the rows-resized intermediate (w x the pre-reduced height x c <= S), the crate's
//!   weights (at most (6 x `MAX_LANCZOS_REDUCTION` + 1) x (w + h) of f64 plus their i16 copies:
//!   4 MB at 512 + 512), and one row of u64 sums (at most `MAX_LANCZOS_REDUCTION` x w x c
//!   x 8 bytes);
//! - time: linear in S: one pass of additions for the pre-reduction, then at most about
//!   6 x `MAX_LANCZOS_REDUCTION` weights per output sample and axis.
//!
//! The deadline is checked every `ROWS_PER_DEADLINE_CHECK` source rows of the pre-reduction
//! and before and after each of the crate's two passes, each one call bounded by the above.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::deadline::Deadline;
use crate::error::CoreError;
use crate::luminance::Layout;
use crate::pixels::Pixels;

/// The longer side of the image the metrics are computed on (the contract's 512 px).
pub const ANALYSIS_MAX_SIDE: usize = 512;

/// The largest factor by which Lanczos alone shrinks an axis; beyond it the axis is first
/// box-averaged by an integer factor (see the module documentation).
pub const MAX_LANCZOS_REDUCTION: usize = 64;

/// Source rows of the box pre-reduction between two looks at the deadline.
const ROWS_PER_DEADLINE_CHECK: usize = 256;

/// The contract's target size: unchanged when the longer side is at most 512 px, else the
/// longer side becomes 512 and the other int(side x (512 / longer)), in float64 evaluated in
/// that order, at least 1.
pub fn analysis_size(width: usize, height: usize) -> (usize, usize) {
    if width.max(height) <= ANALYSIS_MAX_SIDE {
        return (width, height);
    }
    let scaled = |side: usize, longer: usize| {
        ((side as f64 * (ANALYSIS_MAX_SIDE as f64 / longer as f64)) as usize).max(1)
    };
    if width > height {
        (ANALYSIS_MAX_SIDE, scaled(height, width))
    } else {
        (scaled(width, height), ANALYSIS_MAX_SIDE)
    }
}

/// `image` resampled to `width` x `height` with Lanczos3, each channel independently (alpha
/// too, not premultiplied). The same size returns a copy.
///
/// Errors: `EmptyImage` for a zero source or target side, `SizeMismatch` when the buffer does
/// not hold the declared image, `TooLarge` for sides beyond u32, `DeadlineExceeded`.
pub fn resize(
    image: &Pixels,
    width: usize,
    height: usize,
    deadline: &Deadline,
) -> Result<Pixels, CoreError> {
    resize_source(Source::of(image), width, height, deadline)
}

/// `resize` of pixels the caller keeps (a Python buffer, say), read in place.
pub fn resize_bytes(
    data: &[u8],
    (source_width, source_height): (usize, usize),
    layout: Layout,
    (width, height): (usize, usize),
    deadline: &Deadline,
) -> Result<Pixels, CoreError> {
    let source = Source {
        data,
        width: source_width,
        height: source_height,
        layout,
    };
    resize_source(source, width, height, deadline)
}

/// Borrowed pixels: what resizing reads.
#[derive(Clone, Copy)]
struct Source<'a> {
    data: &'a [u8],
    width: usize,
    height: usize,
    layout: Layout,
}

impl<'a> Source<'a> {
    fn of(image: &'a Pixels) -> Self {
        Source {
            data: &image.data,
            width: image.width,
            height: image.height,
            layout: image.layout,
        }
    }

    fn stride(&self) -> usize {
        self.width * self.layout.channels()
    }
}

fn resize_source(
    image: Source<'_>,
    width: usize,
    height: usize,
    deadline: &Deadline,
) -> Result<Pixels, CoreError> {
    check_image(image)?;
    if width == 0 || height == 0 {
        return Err(CoreError::EmptyImage { width, height });
    }
    let target_width = side_u32(width, width, height)?;
    let target_height = side_u32(height, width, height)?;
    if (width, height) == (image.width, image.height) {
        return Ok(Pixels {
            width,
            height,
            layout: image.layout,
            data: image.data.to_vec(),
        });
    }
    let factor_x = box_factor(image.width, width);
    let factor_y = box_factor(image.height, height);
    let reduced;
    let source = if factor_x > 1 || factor_y > 1 {
        reduced = box_reduce(image, factor_x, factor_y, deadline)?;
        Source::of(&reduced)
    } else {
        image
    };
    deadline.check()?;
    let pixel_type = pixel_type(image.layout);
    let source_view = ImageRef::new(
        side_u32(source.width, source.width, source.height)?,
        side_u32(source.height, source.width, source.height)?,
        source.data,
        pixel_type,
    )
    .map_err(|err| CoreError::ResizeFailed(err.to_string()))?;
    // The crop keeps the exact extent of the source in pre-reduced pixels (a last, partial
    // block is a fraction of one).
    let (crop_width, crop_height) = (
        image.width as f64 / factor_x as f64,
        image.height as f64 / factor_y as f64,
    );
    let lanczos = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .use_alpha(false);
    let mut resizer = Resizer::new();
    let mut target = Image::new(target_width, target_height, pixel_type);
    let across = crop_width != target_width as f64;
    let down = crop_height != target_height as f64;
    if across && down {
        // Rows first, as Pillow does: the crate would take columns first for 8-bit pixels,
        // which clips to 8 bits between the passes in the other order than Pillow (up to 3
        // levels apart on photos, 40 on noise) and rereads each source row once per output
        // row its window covers (3-4x slower on a 5000 x 3330 RGB photo under load).
        let mut rows = Image::new(target_width, source_view.height(), pixel_type);
        let source_height = source.height as f64;
        resizer
            .resize(
                &source_view,
                &mut rows,
                &lanczos.crop(0.0, 0.0, crop_width, source_height),
            )
            .map_err(|err| CoreError::ResizeFailed(err.to_string()))?;
        deadline.check()?;
        let rows_crop = lanczos.crop(0.0, 0.0, target_width as f64, crop_height);
        resizer
            .resize(&rows, &mut target, &rows_crop)
            .map_err(|err| CoreError::ResizeFailed(err.to_string()))?;
    } else {
        resizer
            .resize(
                &source_view,
                &mut target,
                &lanczos.crop(0.0, 0.0, crop_width, crop_height),
            )
            .map_err(|err| CoreError::ResizeFailed(err.to_string()))?;
    }
    deadline.check()?;
    Ok(Pixels {
        width,
        height,
        layout: image.layout,
        data: target.into_vec(),
    })
}

/// `image` averaged down to `width` x `height` (a box filter: each output pixel the mean of
/// the source area it covers), for thumbnails, where Lanczos' sharpness buys nothing and its
/// wide windows at large reductions cost most of the time. The same size returns a copy.
///
/// Errors: as for `resize`.
pub fn thumbnail(image: &Pixels, width: usize, height: usize) -> Result<Pixels, CoreError> {
    let source = Source::of(image);
    check_image(source)?;
    if width == 0 || height == 0 {
        return Err(CoreError::EmptyImage { width, height });
    }
    if (width, height) == (image.width, image.height) {
        return Ok(image.clone());
    }
    let pixel_type = pixel_type(image.layout);
    let (source_width, source_height) = (
        side_u32(image.width, image.width, image.height)?,
        side_u32(image.height, image.width, image.height)?,
    );
    let failed = |err: &dyn std::fmt::Display| CoreError::ResizeFailed(err.to_string());
    let view = ImageRef::new(source_width, source_height, &image.data, pixel_type)
        .map_err(|err| failed(&err))?;
    let mut target = Image::new(
        side_u32(width, width, height)?,
        side_u32(height, width, height)?,
        pixel_type,
    );
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Box))
        .use_alpha(false);
    Resizer::new()
        .resize(&view, &mut target, &options)
        .map_err(|err| failed(&err))?;
    Ok(Pixels {
        width,
        height,
        layout: image.layout,
        data: target.into_vec(),
    })
}

fn check_image(image: Source<'_>) -> Result<(), CoreError> {
    let (width, height) = (image.width, image.height);
    if width == 0 || height == 0 {
        return Err(CoreError::EmptyImage { width, height });
    }
    let channels = image.layout.channels();
    let expected = width
        .checked_mul(height)
        .and_then(|pixels| pixels.checked_mul(channels))
        .ok_or(CoreError::TooLarge { width, height })?;
    if image.data.len() != expected {
        return Err(CoreError::SizeMismatch {
            expected,
            actual: image.data.len(),
            width,
            height,
            channels,
        });
    }
    Ok(())
}

fn side_u32(side: usize, width: usize, height: usize) -> Result<u32, CoreError> {
    u32::try_from(side).map_err(|_| CoreError::TooLarge { width, height })
}

fn pixel_type(layout: Layout) -> PixelType {
    match layout {
        Layout::L => PixelType::U8,
        Layout::La => PixelType::U8x2,
        Layout::Rgb => PixelType::U8x3,
        Layout::Rgba => PixelType::U8x4,
    }
}

/// The integer factor that brings `source` within `MAX_LANCZOS_REDUCTION` x `target`; 1 when
/// it already is.
fn box_factor(source: usize, target: usize) -> usize {
    source.div_ceil(MAX_LANCZOS_REDUCTION * target).max(1)
}

/// Each `factor_x` x `factor_y` block of `image` to its mean, one output row at a time from
/// u64 sums (blocks at the right and bottom edges may be partial).
fn box_reduce(
    image: Source<'_>,
    factor_x: usize,
    factor_y: usize,
    deadline: &Deadline,
) -> Result<Pixels, CoreError> {
    let channels = image.layout.channels();
    let width = image.width.div_ceil(factor_x);
    let height = image.height.div_ceil(factor_y);
    let out_stride = width * channels;
    let mut data = vec![0u8; out_stride * height];
    let mut sums = vec![0u64; out_stride];
    let mut rows_since_check = 0;
    for (band, out_row) in image
        .data
        .chunks(image.stride() * factor_y)
        .zip(data.chunks_exact_mut(out_stride))
    {
        sums.fill(0);
        let mut band_rows = 0;
        for row in band.chunks_exact(image.stride()) {
            add_row(row, &mut sums, factor_x, channels);
            band_rows += 1;
        }
        average_row(&sums, out_row, image.width, factor_x, band_rows, channels);
        rows_since_check += band_rows;
        if rows_since_check >= ROWS_PER_DEADLINE_CHECK {
            deadline.check()?;
            rows_since_check = 0;
        }
    }
    Ok(Pixels {
        width,
        height,
        layout: image.layout,
        data,
    })
}

/// Adds each pixel of a source row into the sum of its block.
#[inline]
fn add_row(row: &[u8], sums: &mut [u64], factor_x: usize, channels: usize) {
    for (block, block_sums) in row
        .chunks(factor_x * channels)
        .zip(sums.chunks_exact_mut(channels))
    {
        for pixel in block.chunks_exact(channels) {
            for (sum, &value) in block_sums.iter_mut().zip(pixel) {
                *sum += value as u64;
            }
        }
    }
}

/// The mean of `count` values summing to `sum`, rounded half to even: rounding halves up
/// would raise the mean of a 2-pixel box by a quarter level on half the pixels.
#[inline(always)]
fn mean_half_even(sum: u64, count: u64) -> u8 {
    let (quotient, remainder) = (sum / count, sum % count);
    let up = 2 * remainder > count || (2 * remainder == count && quotient % 2 == 1);
    (quotient + u64::from(up)) as u8
}

/// The mean of each block's sums (`mean_half_even`); `rows` source rows went into them.
#[inline]
fn average_row(
    sums: &[u64],
    out: &mut [u8],
    source_width: usize,
    factor_x: usize,
    rows: usize,
    channels: usize,
) {
    for (block, (block_sums, pixel)) in sums
        .chunks_exact(channels)
        .zip(out.chunks_exact_mut(channels))
        .enumerate()
    {
        let columns = (source_width - block * factor_x).min(factor_x);
        let count = (columns * rows) as u64;
        for (value, &sum) in pixel.iter_mut().zip(block_sums) {
            *value = mean_half_even(sum, count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(width: usize, height: usize, layout: Layout, data: Vec<u8>) -> Pixels {
        Pixels {
            width,
            height,
            layout,
            data,
        }
    }

    #[test]
    fn analysis_size_follows_the_contract() {
        // (width, height, expected)
        let cases = [
            ((1, 1), (1, 1)),
            ((512, 512), (512, 512)),
            ((512, 100), (512, 100)),
            ((513, 513), (512, 512)),
            ((5000, 3330), (512, 340)),
            ((3330, 5000), (340, 512)),
            ((536, 354), (512, 338)),
            ((1280, 853), (512, 341)),
            ((50_000_000, 1), (512, 1)),
            ((2, 25_000_000), (1, 512)),
            ((1000, 999), (512, 511)),
        ];
        for ((width, height), expected) in cases {
            assert_eq!(analysis_size(width, height), expected, "{width}x{height}");
        }
    }

    #[test]
    fn box_factor_brings_an_axis_within_the_lanczos_bound() {
        // (source, target, expected factor)
        let cases = [
            (1000, 512, 1),
            (32_768, 512, 1),
            (32_769, 512, 2),
            (25_000_000, 512, 763),
            (2, 1, 1),
        ];
        for (source, target, factor) in cases {
            assert_eq!(box_factor(source, target), factor, "{source} -> {target}");
            assert!(source.div_ceil(factor) <= MAX_LANCZOS_REDUCTION * target);
        }
    }

    #[test]
    fn box_reduce_averages_blocks_and_partial_edges() {
        // 5 x 3 grey, factors 2 x 2: blocks of 4, 4, 2 pixels, then a last row of 2, 2, 1.
        let source = image(
            5,
            3,
            Layout::L,
            vec![
                0, 10, 20, 30, 40, 2, 12, 22, 32, 42, 100, 101, 200, 201, 255,
            ],
        );
        let reduced = box_reduce(Source::of(&source), 2, 2, &Deadline::none()).unwrap();
        assert_eq!((reduced.width, reduced.height), (3, 2));
        // (0+10+2+12)/4 = 6, (20+30+22+32)/4 = 26, (40+42)/2 = 41; halves to even:
        // (100+101)/2 = 100.5 -> 100, (200+201)/2 = 200.5 -> 200, 255.
        assert_eq!(reduced.data, vec![6, 26, 41, 100, 200, 255]);
        // Channels stay apart.
        let rgb = image(2, 1, Layout::Rgb, vec![0, 100, 255, 2, 200, 255]);
        assert_eq!(
            box_reduce(Source::of(&rgb), 2, 1, &Deadline::none())
                .unwrap()
                .data,
            vec![1, 150, 255]
        );
    }

    #[test]
    fn flat_images_stay_flat_in_every_layout_and_direction() {
        // (source size, target size)
        let sizes = [
            ((600, 400), (512, 341)),
            ((40_000, 3), (512, 1)),
            ((3, 70_000), (1, 512)),
            ((7, 5), (20, 9)),
        ];
        for layout in [Layout::L, Layout::La, Layout::Rgb, Layout::Rgba] {
            let pixel: Vec<u8> = [90, 140, 200, 33][..layout.channels()].to_vec();
            for ((w, h), (tw, th)) in sizes {
                let source = image(w, h, layout, pixel.repeat(w * h));
                let resized = resize(&source, tw, th, &Deadline::none()).unwrap();
                assert_eq!(
                    (resized.width, resized.height, resized.layout),
                    (tw, th, layout)
                );
                assert_eq!(
                    resized.data,
                    pixel.repeat(tw * th),
                    "{layout:?} {w}x{h} -> {tw}x{th}"
                );
            }
        }
    }

    #[test]
    fn alpha_is_resampled_apart_from_colour() {
        // Left half opaque white, right half transparent black: premultiplying would darken
        // nothing and keep colour at 255 where alpha is non-zero; independent resampling
        // blends the colour to grey in the middle, as Pillow does.
        let mut data = Vec::new();
        for x in 0..64 {
            data.extend_from_slice(if x < 32 { &[255, 255] } else { &[0, 0] });
        }
        let resized = resize(&image(64, 1, Layout::La, data), 8, 1, &Deadline::none()).unwrap();
        let middle = &resized.data[6..10];
        assert!(middle[0] < 250 && middle[2] > 5, "{middle:?}");
        assert_eq!(
            (middle[0], middle[2]),
            (middle[1], middle[3]),
            "colour equals alpha here"
        );
    }

    #[test]
    fn refuses_what_it_cannot_resize() {
        let grey = image(2, 2, Layout::L, vec![0; 4]);
        assert_eq!(
            resize(&grey, 0, 1, &Deadline::none()),
            Err(CoreError::EmptyImage {
                width: 0,
                height: 1
            })
        );
        let short = image(2, 2, Layout::Rgb, vec![0; 11]);
        assert!(matches!(
            resize(&short, 1, 1, &Deadline::none()),
            Err(CoreError::SizeMismatch { .. })
        ));
        assert_eq!(
            resize(
                &image(600, 2, Layout::L, vec![0; 1200]),
                512,
                1,
                &Deadline::after(std::time::Duration::ZERO)
            ),
            Err(CoreError::DeadlineExceeded)
        );
    }
}
