//! Image Insights core: exact Rec. 709 luminance statistics, contrast, sharpness, entropy and
//! colour statistics over 8-bit pixel buffers.

pub mod analysis;
pub mod colour;
pub mod deadline;
pub mod edges;
pub mod error;
pub mod histogram;
pub mod icc;
pub mod isobmff;
pub mod jpeg;
pub mod luminance;
pub mod orientation;
pub mod pipeline;
pub mod pixels;
pub mod placeholder;
pub mod png;
pub mod quantiles;
pub mod regions;
pub mod resize;
pub mod sharpness;
pub mod text;
pub mod tiff;

#[cfg(feature = "python")]
mod py;

pub use analysis::{analyze, Analysis, Extras};
pub use edges::EdgeMode;
pub use error::CoreError;
pub use luminance::Layout;
