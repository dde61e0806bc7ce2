//! Placeholders to show while an image loads: a BlurHash and a ThumbHash of the picture as a
//! person sees it (after the EXIF orientation), both encoded from one box-filtered thumbnail
//! of at most 100 x 100 pixels (ThumbHash's limit; BlurHash keeps only a few cosine
//! components, which a thumbnail gives as well as the full image, at a fraction of the cost),
//! and the average colour.

use crate::deadline::Deadline;
use crate::error::CoreError;
use crate::luminance::Layout;
use crate::pixels::Pixels;
use crate::resize::thumbnail;

/// ThumbHash's largest input side.
pub const THUMBNAIL_MAX_SIDE: usize = 100;

/// What a placeholder request returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Placeholder {
    pub blurhash: String,
    /// The ThumbHash bytes (base64 is for the caller).
    pub thumbhash: Vec<u8>,
    /// The average colour, sRGB, averaged in linear light over the opaque pixels as BlurHash's
    /// DC term is (None for a fully transparent image).
    pub average: Option<[u8; 3]>,
    /// The ThumbHash decoded back to pixels (at most 32 px a side, the format's own
    /// rendering size), as a PNG: what a page shows while the image loads.
    pub preview_png: Vec<u8>,
}

/// The thumbnail size: the image's own when both sides are at most 100, else the longer side
/// 100 and the other in proportion (at least 1).
pub fn thumbnail_size(width: usize, height: usize) -> (usize, usize) {
    let longer = width.max(height);
    if longer <= THUMBNAIL_MAX_SIDE {
        return (width, height);
    }
    let scaled = |side: usize| ((side * THUMBNAIL_MAX_SIDE + longer / 2) / longer).max(1);
    (scaled(width), scaled(height))
}

/// The image as RGBA (grey copied to the three channels, opaque when there is no alpha).
fn to_rgba(image: &Pixels) -> Vec<u8> {
    let mut rgba = Vec::with_capacity(image.width * image.height * 4);
    for px in image.data.chunks_exact(image.layout.channels()) {
        match image.layout {
            Layout::L => rgba.extend_from_slice(&[px[0], px[0], px[0], 255]),
            Layout::La => rgba.extend_from_slice(&[px[0], px[0], px[0], px[1]]),
            Layout::Rgb => rgba.extend_from_slice(&[px[0], px[1], px[2], 255]),
            Layout::Rgba => rgba.extend_from_slice(px),
        }
    }
    rgba
}

/// The placeholders of an upright analysis image, with BlurHash's `components` (x, y), each
/// 1..=9.
///
/// Errors: `InvalidComponents` outside 1..=9, `DeadlineExceeded`.
pub fn placeholder(
    image: &Pixels,
    components: (u32, u32),
    deadline: &Deadline,
) -> Result<Placeholder, CoreError> {
    let (cx, cy) = components;
    if !(1..=9).contains(&cx) || !(1..=9).contains(&cy) {
        return Err(CoreError::InvalidComponents { x: cx, y: cy });
    }
    let (width, height) = thumbnail_size(image.width, image.height);
    let thumbnail = if (width, height) == (image.width, image.height) {
        to_rgba(image)
    } else {
        to_rgba(&thumbnail(image, width, height)?)
    };
    deadline.check()?;
    let blurhash = blurhash::encode(cx, cy, width as u32, height as u32, &thumbnail)
        .map_err(|err| CoreError::Corrupt(format!("blurhash: {err}")))?;
    let thumbhash = thumbhash::rgba_to_thumb_hash(width, height, &thumbnail);
    let preview_png = preview(&thumbhash)?;
    Ok(Placeholder {
        blurhash,
        thumbhash,
        average: linear_average(&thumbnail),
        preview_png,
    })
}

/// The ThumbHash rendered back to RGBA and encoded as a PNG.
fn preview(hash: &[u8]) -> Result<Vec<u8>, CoreError> {
    let failed = |what: &str| CoreError::Corrupt(format!("thumbhash preview: {what}"));
    let (width, height, rgba) =
        thumbhash::thumb_hash_to_rgba(hash).map_err(|()| failed("does not decode"))?;
    let mut png = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut png, width as u32, height as u32);
    encoder.set_color(::png::ColorType::Rgba);
    encoder.set_depth(::png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|err| failed(&err.to_string()))?;
    writer
        .write_image_data(&rgba)
        .map_err(|err| failed(&err.to_string()))?;
    writer.finish().map_err(|err| failed(&err.to_string()))?;
    Ok(png)
}

/// The mean colour of the opaque pixels in linear light, back in sRGB.
fn linear_average(rgba: &[u8]) -> Option<[u8; 3]> {
    let mut sum = [0.0f64; 3];
    let mut count = 0u64;
    for px in rgba.chunks_exact(4).filter(|px| px[3] != 0) {
        for (s, &v) in sum.iter_mut().zip(&px[..3]) {
            *s += crate::text::linearise(v);
        }
        count += 1;
    }
    (count > 0).then(|| sum.map(|s| encode_srgb(s / count as f64)))
}

/// The 8-bit sRGB value of a linear value in 0..=1.
fn encode_srgb(linear: f64) -> u8 {
    let v = if linear <= 0.003_130_8 {
        linear * 12.92
    } else {
        1.055 * linear.powf(1.0 / 2.4) - 0.055
    };
    (v * 255.0).round().clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(width: usize, height: usize, rgb: [u8; 3]) -> Pixels {
        Pixels {
            width,
            height,
            layout: Layout::Rgb,
            data: rgb.repeat(width * height),
        }
    }

    #[test]
    fn thumbnails_fit_in_100_pixels() {
        assert_eq!(thumbnail_size(80, 60), (80, 60));
        assert_eq!(thumbnail_size(512, 341), (100, 67));
        assert_eq!(thumbnail_size(341, 512), (67, 100));
        assert_eq!(thumbnail_size(512, 1), (100, 1));
    }

    #[test]
    fn a_flat_image_averages_to_its_colour() {
        let p = placeholder(&flat(300, 200, [200, 40, 90]), (4, 3), &Deadline::none()).unwrap();
        assert_eq!(p.average, Some([200, 40, 90]));
        let (r, g, b, a) = thumbhash::thumb_hash_to_average_rgba(&p.thumbhash).unwrap();
        assert!(
            (r * 255.0 - 200.0).abs() < 8.0 && (g * 255.0 - 40.0).abs() < 8.0,
            "{r} {g}"
        );
        assert!((b * 255.0 - 90.0).abs() < 8.0 && a == 1.0, "{b} {a}");
        // 4 x 3 components: 1 + 1 + 4 + 2 x 11 characters.
        assert_eq!(p.blurhash.len(), 28);
        let decoded = blurhash::decode(&p.blurhash, 4, 4, 1.0).unwrap();
        // The AC terms of a flat image quantise to small non-zero values: within a few levels.
        assert!(
            decoded.chunks_exact(4).all(|px| px[0].abs_diff(200) <= 10),
            "{decoded:?}"
        );
    }

    #[test]
    fn the_preview_is_a_png_of_the_decoded_thumbhash() {
        let p = placeholder(&flat(60, 30, [10, 120, 240]), (4, 3), &Deadline::none()).unwrap();
        let decoded = crate::png::decode(&p.preview_png, u64::MAX, &Deadline::none()).unwrap();
        let (w, h, rgba) = thumbhash::thumb_hash_to_rgba(&p.thumbhash).unwrap();
        assert_eq!((decoded.pixels.width, decoded.pixels.height), (w, h));
        assert_eq!(decoded.pixels.data, rgba);
    }

    #[test]
    fn components_outside_the_format_are_refused() {
        let image = flat(4, 4, [0, 0, 0]);
        for components in [(0, 3), (4, 10)] {
            assert_eq!(
                placeholder(&image, components, &Deadline::none()),
                Err(CoreError::InvalidComponents {
                    x: components.0,
                    y: components.1
                })
            );
        }
    }

    #[test]
    fn transparent_pixels_do_not_count_in_the_average() {
        let image = Pixels {
            width: 2,
            height: 1,
            layout: Layout::Rgba,
            data: vec![255, 0, 0, 0, 0, 0, 255, 255],
        };
        let p = placeholder(&image, (1, 1), &Deadline::none()).unwrap();
        assert_eq!(p.average, Some([0, 0, 255]));
    }
}
