//! The Python bindings: the only file that knows about PyO3.
//!
//! Pixels arrive through the buffer protocol (bytes, bytearray, memoryview, NumPy arrays)
//! and are read in place; the GIL is released for the whole computation.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::analysis::{analyze, Analysis, Extras};
use crate::colour::hex;
use crate::deadline::Deadline;
use crate::edges::EdgeMode;
use crate::error::CoreError;
use crate::luminance::Layout;

impl From<CoreError> for PyErr {
    fn from(err: CoreError) -> PyErr {
        match err {
            // The caller's cue to decode the file another way.
            CoreError::JpegUnsupported(_) => {
                pyo3::exceptions::PyNotImplementedError::new_err(err.to_string())
            }
            _ => PyValueError::new_err(err.to_string()),
        }
    }
}

/// Luminance statistics of one image (see `_core.pyi`).
#[pyclass(frozen, module = "image_insights._core", name = "LuminanceStats")]
pub struct PyLuminanceStats(Analysis);

#[pymethods]
impl PyLuminanceStats {
    #[getter]
    fn width(&self) -> usize {
        self.0.width
    }
    #[getter]
    fn height(&self) -> usize {
        self.0.height
    }
    #[getter]
    fn pixel_count(&self) -> u64 {
        self.0.pixel_count
    }
    #[getter]
    fn mean(&self) -> f64 {
        self.0.mean()
    }
    #[getter]
    fn median(&self) -> f64 {
        self.0.median()
    }
    #[getter]
    fn min(&self) -> f64 {
        self.0.min()
    }
    #[getter]
    fn max(&self) -> f64 {
        self.0.max()
    }
    #[getter]
    fn sum_scaled(&self) -> u64 {
        self.0.sum_scaled
    }
    #[getter]
    fn median_x2_scaled(&self) -> u64 {
        self.0.median_x2_scaled
    }
    #[getter]
    fn contrast_rms(&self) -> f64 {
        self.0.contrast_rms()
    }
    #[getter]
    fn p5(&self) -> f64 {
        self.0.p5
    }
    #[getter]
    fn p95(&self) -> f64 {
        self.0.p95
    }
    #[getter]
    fn entropy_bits(&self) -> f64 {
        self.0.entropy_bits()
    }
    #[getter]
    fn sharpness(&self) -> Option<f64> {
        self.0.sharpness
    }
    #[getter]
    fn colorfulness(&self) -> Option<f64> {
        self.0.colours.as_ref().and_then(|c| c.colorfulness)
    }
    #[getter]
    fn average_color(&self) -> Option<String> {
        self.0.colours.as_ref().and_then(|c| c.average).map(hex)
    }
    /// (colour, pixel count) pairs, most common first.
    #[getter]
    fn dominant_colors(&self) -> Option<Vec<(String, u64)>> {
        let colours = self.0.colours.as_ref()?;
        Some(colours.dominant.iter().map(|d| (hex(d.rgb), d.count)).collect())
    }
    #[getter]
    fn opaque_pixel_count(&self) -> Option<u64> {
        self.0.colours.as_ref().map(|c| c.opaque_pixels)
    }
    /// Average colour of the left, right, top and bottom strips (None: all transparent).
    #[getter]
    fn edge_colors(&self) -> Option<Vec<Option<String>>> {
        let colours = self.0.colours.as_ref()?;
        Some(colours.sides.iter().map(|side| side.map(hex)).collect())
    }
    #[getter]
    fn buckets(&self) -> Vec<u64> {
        self.0.buckets.to_vec()
    }
    #[getter]
    fn luma_histogram(&self) -> Vec<u64> {
        self.0.luma_histogram.to_vec()
    }

    /// Mean luminance over the edge strips of `mode`.
    fn edge_mean(&self, mode: &str) -> PyResult<f64> {
        Ok(self.0.edge_mean(EdgeMode::parse(mode)?))
    }

    /// Number of pixels (overlaps counted twice) that `edge_mean(mode)` averages.
    fn edge_pixel_count(&self, mode: &str) -> PyResult<u64> {
        Ok(self.0.strips.pixel_count(EdgeMode::parse(mode)?))
    }

    fn __repr__(&self) -> String {
        format!(
            "LuminanceStats(width={}, height={}, mean={:.4}, median={:.4})",
            self.0.width,
            self.0.height,
            self.0.mean(),
            self.0.median()
        )
    }
}

/// Checks that a buffer's shape matches the declared image, when it has one.
fn check_shape(shape: &[usize], width: usize, height: usize, channels: usize) -> PyResult<()> {
    let ok = match shape.len() {
        0 | 1 => true,
        2 => shape == [height, width] && channels == 1,
        3 => shape == [height, width, channels],
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        let expected = if channels == 1 {
            format!("({height}, {width}) or ({height}, {width}, 1)")
        } else {
            format!("({height}, {width}, {channels})")
        };
        let expected = if shape.len() == 3 && channels == 1 {
            format!("({height}, {width}, 1)")
        } else {
            expected
        };
        Err(PyValueError::new_err(format!(
            "pixel array has shape {shape:?}, expected {expected} or a flat buffer"
        )))
    }
}

/// Computes every luminance statistic of a tightly packed, row-major image, and the colour
/// and sharpness statistics when asked.
#[pyfunction]
#[pyo3(signature = (pixels, width, height, layout, *, colors = false, sharpness = false))]
fn luminance_stats(
    py: Python<'_>,
    pixels: &Bound<'_, PyAny>,
    width: usize,
    height: usize,
    layout: &str,
    colors: bool,
    sharpness: bool,
) -> PyResult<PyLuminanceStats> {
    let layout = Layout::parse(layout)?;
    let buffer = PyBuffer::<u8>::get(pixels).map_err(|err| {
        PyValueError::new_err(format!(
            "pixels must be a buffer of unsigned bytes (uint8): {}",
            err.value(py)
        ))
    })?;
    if !buffer.is_c_contiguous() {
        return Err(PyValueError::new_err(
            "pixel buffer must be C-contiguous (row-major, tightly packed)",
        ));
    }
    check_shape(buffer.shape(), width, height, layout.channels())?;
    // SAFETY: the buffer is C-contiguous u8 memory of len_bytes() bytes, kept alive (and its
    // exporter pinned) by `buffer` until this function returns.
    let bytes =
        unsafe { std::slice::from_raw_parts(buffer.buf_ptr() as *const u8, buffer.len_bytes()) };
    let extras = Extras { colours: colors, sharpness };
    let analysis = py.detach(|| analyze(bytes, width, height, layout, extras))?;
    drop(buffer);
    Ok(PyLuminanceStats(analysis))
}

/// Decodes a JPEG at scale 1/`denominator` (8, 4, 2 or 1) as libjpeg does (see `_core.pyi`).
#[pyfunction]
#[pyo3(signature = (data, denominator, max_pixels))]
fn decode_jpeg<'py>(
    py: Python<'py>,
    data: &[u8],
    denominator: usize,
    max_pixels: u64,
) -> PyResult<(usize, usize, &'static str, Bound<'py, pyo3::types::PyBytes>)> {
    let scale = crate::jpeg::Scale::from_denominator(denominator)
        .ok_or_else(|| PyValueError::new_err("denominator must be 8, 4, 2 or 1"))?;
    let image = py.detach(|| crate::jpeg::decode(data, scale, max_pixels, &Deadline::none()))?;
    let mode = if image.pixels.layout == Layout::L { "L" } else { "RGB" };
    let pixels = pyo3::types::PyBytes::new(py, &image.pixels.data);
    let (width, height) = (image.pixels.width, image.pixels.height);
    crate::jpeg::recycle(image);
    Ok((width, height, mode, pixels))
}

/// Pillow's name of a layout.
fn layout_name(layout: Layout) -> &'static str {
    match layout {
        Layout::L => "L",
        Layout::La => "LA",
        Layout::Rgb => "RGB",
        Layout::Rgba => "RGBA",
    }
}

/// Decodes a PNG to 8-bit pixels by the service's conversion rules (see `_core.pyi`).
#[pyfunction]
#[pyo3(signature = (data, max_pixels))]
fn decode_png<'py>(
    py: Python<'py>,
    data: &[u8],
    max_pixels: u64,
) -> PyResult<(usize, usize, &'static str, Bound<'py, pyo3::types::PyBytes>)> {
    let decoded = py.detach(|| crate::png::decode(data, max_pixels, &Deadline::none()))?;
    let image = decoded.pixels;
    let pixels = pyo3::types::PyBytes::new(py, &image.data);
    Ok((image.width, image.height, layout_name(image.layout), pixels))
}

/// Resizes pixels with Lanczos3, channels independently (see `_core.pyi`).
#[pyfunction]
#[pyo3(signature = (pixels, width, height, layout, target_width, target_height))]
fn resize<'py>(
    py: Python<'py>,
    pixels: &[u8],
    width: usize,
    height: usize,
    layout: &str,
    target_width: usize,
    target_height: usize,
) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
    let layout = Layout::parse(layout)?;
    let resized = py.detach(|| {
        let (source, target) = ((width, height), (target_width, target_height));
        crate::resize::resize_bytes(pixels, source, layout, target, &Deadline::none())
    })?;
    Ok(pyo3::types::PyBytes::new(py, &resized.data))
}

/// The contract's analysis size of a width x height image (see `_core.pyi`).
#[pyfunction]
fn analysis_size(width: usize, height: usize) -> (usize, usize) {
    crate::resize::analysis_size(width, height)
}

/// `decode_jpeg` at scale 1/8.
#[pyfunction]
#[pyo3(signature = (data, max_pixels))]
fn decode_jpeg_dc<'py>(
    py: Python<'py>,
    data: &[u8],
    max_pixels: u64,
) -> PyResult<(usize, usize, &'static str, Bound<'py, pyo3::types::PyBytes>)> {
    decode_jpeg(py, data, 8, max_pixels)
}

#[pymodule]
pub fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<PyLuminanceStats>()?;
    m.add_function(wrap_pyfunction!(luminance_stats, m)?)?;
    m.add_function(wrap_pyfunction!(decode_jpeg_dc, m)?)?;
    m.add_function(wrap_pyfunction!(decode_jpeg, m)?)?;
    m.add_function(wrap_pyfunction!(decode_png, m)?)?;
    m.add_function(wrap_pyfunction!(resize, m)?)?;
    m.add_function(wrap_pyfunction!(analysis_size, m)?)?;
    Ok(())
}
