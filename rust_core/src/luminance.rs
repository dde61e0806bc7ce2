//! Rec. 709 luminance in exact integer units.
//!
//! L = 0.2126 R + 0.7152 G + 0.0722 B. Scaled by 10000 the weights are integers, so
//! L x 10000 is exact and every sum, median and bucket boundary can be computed without
//! floating point.

use crate::error::CoreError;

/// Weight of red in Rec. 709 luma, 0.2126, in units of 1/10000.
pub const WEIGHT_R: u32 = 2126;
/// Weight of green in Rec. 709 luma, 0.7152, in units of 1/10000.
pub const WEIGHT_G: u32 = 7152;
/// Weight of blue in Rec. 709 luma, 0.0722, in units of 1/10000.
pub const WEIGHT_B: u32 = 722;
/// The scale of every "scaled" luminance: scaled = L x 10000. The weights sum to it.
pub const SCALE: u32 = WEIGHT_R + WEIGHT_G + WEIGHT_B;
/// The largest scaled luminance, that of white (255, 255, 255).
pub const MAX_SCALED: u32 = 255 * SCALE;

/// How the bytes of one pixel are laid out. Alpha never enters luminance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One grey byte.
    L,
    /// Grey, then alpha.
    La,
    /// Red, green, blue.
    Rgb,
    /// Red, green, blue, alpha.
    Rgba,
}

impl Layout {
    /// Bytes per pixel.
    pub const fn channels(self) -> usize {
        match self {
            Layout::L => 1,
            Layout::La => 2,
            Layout::Rgb => 3,
            Layout::Rgba => 4,
        }
    }

    /// Parses Pillow's mode names ("L", "LA", "RGB", "RGBA").
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        match name {
            "L" => Ok(Layout::L),
            "LA" => Ok(Layout::La),
            "RGB" => Ok(Layout::Rgb),
            "RGBA" => Ok(Layout::Rgba),
            other => Err(CoreError::UnknownLayout(other.to_owned())),
        }
    }
}

/// Scaled luminance of one RGB pixel.
#[inline(always)]
pub fn scaled_rgb(r: u8, g: u8, b: u8) -> u32 {
    WEIGHT_R * r as u32 + WEIGHT_G * g as u32 + WEIGHT_B * b as u32
}

/// Scaled luminance of one pixel of `C` bytes: 1 or 2 are grey (+ alpha), 3 or 4 are RGB (+ alpha).
/// A grey value g is the colour (g, g, g), whose scaled luminance is exactly g x 10000.
#[inline(always)]
pub fn scaled_pixel<const C: usize>(px: &[u8]) -> u32 {
    if C < 3 {
        px[0] as u32 * SCALE
    } else {
        scaled_rgb(px[0], px[1], px[2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_scale() {
        assert_eq!(SCALE, 10_000);
        assert_eq!(MAX_SCALED, 2_550_000);
    }

    #[test]
    fn scaled_values() {
        let cases: &[(&[u8], u32)] = &[
            (&[0, 0, 0], 0),
            (&[255, 255, 255], 2_550_000),
            (&[255, 0, 0], 2126 * 255),
            (&[0, 255, 0], 7152 * 255),
            (&[0, 0, 255], 722 * 255),
            (&[10, 20, 30], 2126 * 10 + 7152 * 20 + 722 * 30),
        ];
        for (px, expected) in cases {
            assert_eq!(scaled_pixel::<3>(px), *expected, "{px:?}");
            let rgba = [px[0], px[1], px[2], 7];
            assert_eq!(scaled_pixel::<4>(&rgba), *expected, "{px:?} with alpha");
        }
    }

    #[test]
    fn grey_is_the_grey_colour() {
        for g in 0..=255u8 {
            assert_eq!(scaled_pixel::<1>(&[g]), scaled_rgb(g, g, g));
            assert_eq!(scaled_pixel::<2>(&[g, 0]), scaled_rgb(g, g, g));
        }
    }

    #[test]
    fn layouts_parse() {
        let cases = [("L", 1), ("LA", 2), ("RGB", 3), ("RGBA", 4)];
        for (name, channels) in cases {
            assert_eq!(Layout::parse(name).unwrap().channels(), channels);
        }
        assert!(Layout::parse("rgb").is_err());
        assert!(Layout::parse("CMYK").is_err());
    }
}
