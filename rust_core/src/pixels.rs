//! A decoded image: what every decoder produces and what resizing and the statistics take.

use crate::luminance::Layout;

/// Row-major, tightly packed 8-bit pixels in one of the core's layouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    pub width: usize,
    pub height: usize,
    pub layout: Layout,
    /// `width * height * layout.channels()` bytes.
    pub data: Vec<u8>,
}

impl Pixels {
    /// Bytes of one row.
    pub fn stride(&self) -> usize {
        self.width * self.layout.channels()
    }
}
