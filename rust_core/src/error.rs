//! The one error type of the core. Each variant says what the caller must fix.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CoreError {
    #[error("unknown pixel layout {0:?}; expected one of \"L\", \"LA\", \"RGB\", \"RGBA\"")]
    UnknownLayout(String),

    #[error("unknown edge mode {0:?}; expected one of \"left_right\", \"top_bottom\", \"all\"")]
    UnknownEdgeMode(String),

    #[error("BlurHash components {x}x{y} are outside the format's 1..=9")]
    InvalidComponents { x: u32, y: u32 },

    /// A region that is not a rectangle of the image (see `regions::Rect::new`).
    #[error("region {0} is not a rectangle of the image (x, y, w, h each in 0..=1, w and h above 0, x + w and y + h at most 1)")]
    InvalidRegion(String),

    #[error("image must be at least 1x1 pixels, got {width}x{height}")]
    EmptyImage { width: usize, height: usize },

    #[error("image of {width}x{height} pixels is too large to address")]
    TooLarge { width: usize, height: usize },

    #[error(
        "pixel buffer holds {actual} bytes, expected {expected} \
         ({width}x{height} pixels x {channels} bytes per pixel)"
    )]
    SizeMismatch {
        expected: usize,
        actual: usize,
        width: usize,
        height: usize,
        channels: usize,
    },

    #[error("JPEG of {width}x{height} pixels exceeds the limit of {max_pixels} pixels")]
    JpegTooLarge {
        width: usize,
        height: usize,
        max_pixels: u64,
    },

    /// A JPEG the DC reader does not read (arithmetic, lossless, 12-bit, CMYK...): decode
    /// it another way.
    #[error("JPEG not supported by the DC reader: {0}")]
    JpegUnsupported(&'static str),

    #[error("malformed JPEG: {0}")]
    JpegMalformed(&'static str),

    /// Bytes that are neither a JPEG nor a PNG.
    #[error("not a JPEG or PNG image")]
    NotAnImage,

    /// The header declares more pixels than allowed: refused before anything is decoded.
    #[error("image of {pixels} pixels exceeds the limit of {max_pixels} pixels")]
    ImageTooLarge { pixels: u64, max_pixels: u64 },

    /// An image that does not decode; the reason is short and safe to show.
    #[error("{0}")]
    Corrupt(String),

    /// More scans than a JPEG may have here: refused before they are decoded.
    #[error("JPEG has more than {limit} scans")]
    TooManyScans { limit: usize },

    #[error("PNG of {width}x{height} pixels exceeds the limit of {max_pixels} pixels")]
    PngTooLarge {
        width: usize,
        height: usize,
        max_pixels: u64,
    },

    /// Bytes that do not decode as a PNG: the reason is short and names what is wrong (the
    /// chunk whose CRC fails, the deflate or filter error, the truncation).
    #[error("malformed PNG: {0}")]
    PngMalformed(String),

    /// The resampler refused its input; `resize` validates sizes first, so this means a bug.
    #[error("resize failed: {0}")]
    ResizeFailed(String),

    /// The caller's deadline passed (see `deadline`).
    #[error("the time allowed for this image ran out")]
    DeadlineExceeded,
}
