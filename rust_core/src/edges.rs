//! Edge strips: which pixels count as the border of an image, per the contract.
//!
//! ew = max(1, int(w x 0.1)), eh = max(1, int(h x 0.1)).
//! - `left_right`: columns [0, ew) and [w - ew, w), full height;
//! - `top_bottom`: rows [0, eh) and [h - eh, h), full width;
//! - `all`: both side strips, plus the top and bottom strips limited to columns [ew, w - ew).
//!
//! A pixel inside two overlapping strips (only in images a few pixels across) counts twice.

use crate::error::CoreError;

/// Fraction of the width (height) that a side (top/bottom) strip covers.
pub const STRIP_FRACTION: f64 = 0.1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeMode {
    LeftRight,
    TopBottom,
    All,
}

impl EdgeMode {
    pub const ALL_MODES: [EdgeMode; 3] = [EdgeMode::LeftRight, EdgeMode::TopBottom, EdgeMode::All];

    /// Parses the contract's names (already normalised to lower case).
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        match name {
            "left_right" => Ok(EdgeMode::LeftRight),
            "top_bottom" => Ok(EdgeMode::TopBottom),
            "all" => Ok(EdgeMode::All),
            other => Err(CoreError::UnknownEdgeMode(other.to_owned())),
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            EdgeMode::LeftRight => "left_right",
            EdgeMode::TopBottom => "top_bottom",
            EdgeMode::All => "all",
        }
    }
}

/// Strip thickness for a side of `extent` pixels: max(1, int(extent x 0.1)), evaluated in
/// float64 as the contract's reference does.
pub fn strip_thickness(extent: usize) -> usize {
    ((extent as f64 * STRIP_FRACTION) as usize).max(1)
}

/// The strips of a `width` x `height` image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strips {
    pub width: usize,
    pub height: usize,
    /// Thickness of the left and right strips (ew).
    pub side: usize,
    /// Thickness of the top and bottom strips (eh).
    pub band: usize,
}

impl Strips {
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            side: strip_thickness(width),
            band: strip_thickness(height),
        }
    }

    /// Columns [ew, w - ew): the part of a row between the side strips (empty when they meet).
    pub fn middle_columns(&self) -> std::ops::Range<usize> {
        let start = self.side.min(self.width);
        start..self.width.saturating_sub(self.side).max(start)
    }

    /// How many of the top and bottom strips row `y` lies in: 0, 1, or 2 for tiny images.
    #[inline]
    pub fn band_multiplicity(&self, y: usize) -> u64 {
        (y < self.band) as u64 + (y + self.band >= self.height) as u64
    }

    /// How many pixels a mode averages over (counting overlaps twice).
    pub fn pixel_count(&self, mode: EdgeMode) -> u64 {
        let (w, h) = (self.width as u64, self.height as u64);
        let (ew, eh) = (self.side as u64, self.band as u64);
        let middle = self.middle_columns().len() as u64;
        match mode {
            EdgeMode::LeftRight => 2 * ew * h,
            EdgeMode::TopBottom => 2 * eh * w,
            EdgeMode::All => 2 * ew * h + 2 * eh * middle,
        }
    }
}

/// Scaled-luminance sums over the strips of each mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EdgeSums {
    pub left_right: u64,
    pub top_bottom: u64,
    pub all: u64,
}

impl EdgeSums {
    pub fn get(&self, mode: EdgeMode) -> u64 {
        match mode {
            EdgeMode::LeftRight => self.left_right,
            EdgeMode::TopBottom => self.top_bottom,
            EdgeMode::All => self.all,
        }
    }

    /// Adds one row, given the sums of its left strip, right strip, middle columns and whole
    /// row, and how many top/bottom strips the row lies in.
    #[inline]
    pub fn add_row(&mut self, left: u64, right: u64, middle: u64, whole: u64, bands: u64) {
        self.left_right += left + right;
        self.top_bottom += bands * whole;
        self.all += left + right + bands * middle;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thickness() {
        let cases = [
            (1, 1),
            (9, 1),
            (10, 1),
            (19, 1),
            (20, 2),
            (30, 3),
            (354, 35),
            (536, 53),
        ];
        for (extent, expected) in cases {
            assert_eq!(strip_thickness(extent), expected, "extent {extent}");
        }
    }

    #[test]
    fn counts() {
        // (w, h, left_right, top_bottom, all)
        let cases = [
            (1, 1, 2, 2, 2),
            (1, 5, 10, 2, 10),
            (5, 1, 2, 10, 2 + 2 * 3),
            (2, 2, 4, 4, 4),
            (20, 10, 2 * 2 * 10, 2 * 20, 2 * 2 * 10 + 2 * 16),
        ];
        for (w, h, lr, tb, all) in cases {
            let strips = Strips::new(w, h);
            assert_eq!(strips.pixel_count(EdgeMode::LeftRight), lr, "{w}x{h}");
            assert_eq!(strips.pixel_count(EdgeMode::TopBottom), tb, "{w}x{h}");
            assert_eq!(strips.pixel_count(EdgeMode::All), all, "{w}x{h}");
        }
    }

    #[test]
    fn bands() {
        let strips = Strips::new(4, 1);
        assert_eq!(strips.band_multiplicity(0), 2);
        let strips = Strips::new(4, 30);
        let per_row: Vec<u64> = (0..30).map(|y| strips.band_multiplicity(y)).collect();
        assert_eq!(per_row.iter().sum::<u64>(), 6);
        assert_eq!(&per_row[..4], &[1, 1, 1, 0]);
        assert_eq!(&per_row[26..], &[0, 1, 1, 1]);
    }

    #[test]
    fn modes_parse() {
        for mode in EdgeMode::ALL_MODES {
            assert_eq!(EdgeMode::parse(mode.name()), Ok(mode));
        }
        assert!(EdgeMode::parse("ALL").is_err());
    }
}
