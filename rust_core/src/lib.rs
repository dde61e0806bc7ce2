//! Image Insights core: exact Rec. 709 luminance statistics over 8-bit pixel buffers.

pub mod analysis;
pub mod edges;
pub mod error;
pub mod histogram;
pub mod luminance;
pub mod median;

#[cfg(feature = "python")]
mod py;

pub use analysis::{analyze, Analysis};
pub use edges::EdgeMode;
pub use error::CoreError;
pub use luminance::Layout;
