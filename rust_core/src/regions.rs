//! Regions of the analysis image: rectangles in coordinates relative to the upright picture
//! (0..=1 on each axis, so they do not depend on the analysis size), measured with the same
//! statistics as the whole image.

use std::ops::Range;

use crate::error::CoreError;
use crate::pixels::Pixels;

/// A rectangle in relative coordinates: its left, top, width and height, each in 0..=1, with
/// `x + w <= 1` and `y + h <= 1` and a non-zero size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// Tolerance for `x + w <= 1` (and `y + h`) in relative coordinates written in decimal.
const EDGE_SLACK: f64 = 1e-9;
/// Pixels: how near a pixel's centre must be to a region's edge to count as on it.
const CENTRE_SLACK: f64 = 1e-9;

impl Rect {
    /// Errors: `InvalidRegion` for a rectangle outside the image or without area.
    pub fn new(x: f64, y: f64, w: f64, h: f64) -> Result<Self, CoreError> {
        let finite = [x, y, w, h].iter().all(|v| v.is_finite());
        if !finite
            || x < 0.0
            || y < 0.0
            || w <= 0.0
            || h <= 0.0
            || x + w > 1.0 + EDGE_SLACK
            || y + h > 1.0 + EDGE_SLACK
        {
            return Err(CoreError::InvalidRegion(format!("{x},{y},{w},{h}")));
        }
        Ok(Rect { x, y, w, h })
    }

    /// The pixel columns and rows of an image of `width` x `height` that the rectangle covers.
    pub fn pixels(&self, width: usize, height: usize) -> (Range<usize>, Range<usize>) {
        (span(self.x, self.w, width), span(self.y, self.h, height))
    }
}

/// The pixels of an axis of `size` pixels whose centres lie in [start, start + length) of the
/// relative axis, or, when no centre does (a region thinner than a pixel), the one pixel
/// under its middle.
pub fn span(start: f64, length: f64, size: usize) -> Range<usize> {
    let n = size as f64;
    // The first pixel whose centre is at or past `at` (in pixels), a centre within
    // `CENTRE_SLACK` of it counting as on it: decimal fractions such as 0.15 x 10 are not
    // exact in binary.
    let from = |at: f64| ((at * n - 0.5 - CENTRE_SLACK).ceil().max(0.0) as usize).min(size);
    let (first, end) = (from(start), from(start + length));
    if first < end {
        return first..end;
    }
    let middle = (((start + length / 2.0) * n) as usize).min(size - 1);
    middle..middle + 1
}

/// The pixels of `image` inside `rect`, as a new image of the same layout.
pub fn crop(image: &Pixels, rect: &Rect) -> Pixels {
    let (columns, rows) = rect.pixels(image.width, image.height);
    let channels = image.layout.channels();
    let stride = image.stride();
    let width = columns.len();
    let mut data = Vec::with_capacity(width * rows.len() * channels);
    for y in rows.clone() {
        let start = y * stride + columns.start * channels;
        data.extend_from_slice(&image.data[start..start + width * channels]);
    }
    Pixels {
        width,
        height: rows.len(),
        layout: image.layout,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::luminance::Layout;

    #[test]
    fn spans_take_the_pixels_whose_centres_lie_inside() {
        assert_eq!(span(0.0, 1.0, 10), 0..10);
        assert_eq!(span(0.0, 0.1, 10), 0..1);
        assert_eq!(span(0.9, 0.1, 10), 9..10);
        assert_eq!(span(0.25, 0.5, 8), 2..6);
        assert_eq!(span(0.0, 0.15, 10), 0..1); // the centre of pixel 1, 0.15, is outside [0, 0.15)
        assert_eq!(span(0.0, 0.151, 10), 0..2);
    }

    #[test]
    fn a_region_thinner_than_a_pixel_takes_the_pixel_under_its_middle() {
        assert_eq!(span(0.51, 0.01, 10), 5..6);
        assert_eq!(span(0.999, 0.001, 10), 9..10);
        assert_eq!(span(0.0, 0.001, 1), 0..1);
    }

    #[test]
    fn rectangles_outside_the_image_or_without_area_are_refused() {
        for (x, y, w, h) in [
            (-0.1, 0.0, 0.5, 0.5),
            (0.0, 0.0, 0.0, 0.5),
            (0.6, 0.0, 0.5, 0.5),
            (0.0, 0.7, 0.5, 0.5),
            (f64::NAN, 0.0, 0.5, 0.5),
            (0.0, 0.0, f64::INFINITY, 0.5),
        ] {
            assert!(Rect::new(x, y, w, h).is_err(), "{x} {y} {w} {h}");
        }
        assert!(Rect::new(0.7, 0.1, 0.3, 0.9).is_ok());
        assert!(Rect::new(0.1, 0.2, 0.9, 0.8).is_ok());
    }

    #[test]
    fn crops_copy_the_covered_rows() {
        let image = Pixels {
            width: 4,
            height: 2,
            layout: Layout::L,
            data: vec![0, 1, 2, 3, 10, 11, 12, 13],
        };
        let rect = Rect::new(0.5, 0.5, 0.5, 0.5).unwrap();
        let part = crop(&image, &rect);
        assert_eq!((part.width, part.height, part.data), (2, 1, vec![12, 13]));
    }
}
