//! The Python bindings: the only file that knows about PyO3.
//!
//! Pixels arrive through the buffer protocol (bytes, bytearray, memoryview, NumPy arrays)
//! and are read in place; the GIL is released for the whole computation, and a panic
//! anywhere in the core is caught here and raised as `InternalError`: a bug fails one call,
//! never the process.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use pyo3::buffer::PyBuffer;
use pyo3::create_exception;
use pyo3::exceptions::{PyNotImplementedError, PyRuntimeError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::analysis::{analyze, Analysis, Extras};
use crate::colour::{hex, SIDES};
use crate::deadline::Deadline;
use crate::edges::EdgeMode;
use crate::error::CoreError;
use crate::luminance::Layout;
use crate::pipeline::{self, Options, Outcome};
use crate::regions::Rect;

create_exception!(
    _core,
    DecodeError,
    PyValueError,
    "Bytes that are not an image the core reads, or that do not decode."
);
create_exception!(
    _core,
    PixelLimitError,
    PyValueError,
    "The header declares more pixels than allowed; args: (pixels, max_pixels)."
);
create_exception!(
    _core,
    DeadlineExceeded,
    PyTimeoutError,
    "The call ran out of the time it was given."
);
create_exception!(
    _core,
    InternalError,
    PyRuntimeError,
    "A bug in the core (a panic), contained: the call failed, the process goes on."
);

impl From<CoreError> for PyErr {
    fn from(err: CoreError) -> PyErr {
        let message = err.to_string();
        match err {
            // The caller's cue to decode the file another way.
            CoreError::JpegUnsupported(_) => PyNotImplementedError::new_err(message),
            CoreError::ImageTooLarge { pixels, max_pixels } => {
                PixelLimitError::new_err((pixels, max_pixels))
            }
            CoreError::JpegTooLarge {
                width,
                height,
                max_pixels,
            }
            | CoreError::PngTooLarge {
                width,
                height,
                max_pixels,
            } => PixelLimitError::new_err((width as u64 * height as u64, max_pixels)),
            CoreError::NotAnImage
            | CoreError::Corrupt(_)
            | CoreError::TooManyScans { .. }
            | CoreError::JpegMalformed(_)
            | CoreError::PngMalformed(_) => DecodeError::new_err(message),
            CoreError::DeadlineExceeded => DeadlineExceeded::new_err(message),
            _ => PyValueError::new_err(message),
        }
    }
}

/// Runs `work` without the GIL; its panics come back as `InternalError`.
fn run<T: Send>(py: Python<'_>, work: impl FnOnce() -> Result<T, CoreError> + Send) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(work))) {
        Ok(result) => result.map_err(PyErr::from),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            Err(InternalError::new_err(format!(
                "internal error in the core: {what}"
            )))
        }
    }
}

/// A deadline `timeout` seconds from now; none for `None`.
fn deadline(timeout: Option<f64>) -> PyResult<Deadline> {
    match timeout {
        None => Ok(Deadline::none()),
        Some(seconds) => Duration::try_from_secs_f64(seconds.max(0.0))
            .map(Deadline::after)
            .map_err(|_| PyValueError::new_err("timeout must be a number of seconds")),
    }
}

/// At most this many regions per call (the web layer's limit is lower).
const MAX_REGIONS: usize = 64;

/// The regions as rectangles, each checked.
fn rects(regions: &[(f64, f64, f64, f64)]) -> PyResult<Vec<Rect>> {
    if regions.len() > MAX_REGIONS {
        return Err(PyValueError::new_err(format!(
            "at most {MAX_REGIONS} regions, got {}",
            regions.len()
        )));
    }
    regions
        .iter()
        .map(|&(x, y, w, h)| Rect::new(x, y, w, h).map_err(PyErr::from))
        .collect()
}

/// BlurHash components, checked against the format's 1..=9.
fn components(placeholder: Option<(u32, u32)>) -> PyResult<Option<(u32, u32)>> {
    match placeholder {
        Some((x, y)) if !(1..=9).contains(&x) || !(1..=9).contains(&y) => {
            Err(CoreError::InvalidComponents { x, y }.into())
        }
        other => Ok(other),
    }
}

/// Luminance statistics of one image (see `_core.pyi`).
#[pyclass(frozen, module = "image_insights._core", name = "ImageStatistics")]
pub struct PyImageStatistics(Analysis);

#[pymethods]
impl PyImageStatistics {
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
        Some(
            colours
                .dominant
                .iter()
                .map(|d| (hex(d.rgb), d.count))
                .collect(),
        )
    }
    #[getter]
    fn opaque_pixel_count(&self) -> Option<u64> {
        self.0.colours.as_ref().map(|c| c.opaque_pixels)
    }
    /// Average colour of each edge strip by side name (None: all transparent).
    #[getter]
    fn edge_colors<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(colours) = self.0.colours.as_ref() else {
            return Ok(None);
        };
        let sides = PyDict::new(py);
        for (name, colour) in SIDES.iter().zip(colours.sides) {
            sides.set_item(name, colour.map(hex))?;
        }
        Ok(Some(sides))
    }
    /// WCAG relative luminance: (mean, 5th percentile, 95th percentile), when asked for.
    #[getter]
    fn relative_luminance(&self) -> Option<(f64, f64, f64)> {
        self.0.text.map(|t| (t.mean, t.p5, t.p95))
    }
    /// The statistics of each region asked for, in order.
    #[getter]
    fn regions(&self) -> Vec<PyImageStatistics> {
        self.0
            .regions
            .iter()
            .cloned()
            .map(PyImageStatistics)
            .collect()
    }
    /// The description of the embedded profile the pixels were converted to sRGB from.
    #[getter]
    fn color_profile(&self) -> Option<String> {
        self.0.colour_profile.clone()
    }
    /// (BlurHash, ThumbHash bytes, average colour, preview PNG), when asked for.
    #[getter]
    #[allow(clippy::type_complexity)]
    fn placeholder<'py>(
        &self,
        py: Python<'py>,
    ) -> Option<(
        String,
        Bound<'py, PyBytes>,
        Option<String>,
        Bound<'py, PyBytes>,
    )> {
        self.0.placeholder.as_ref().map(|p| {
            (
                p.blurhash.clone(),
                PyBytes::new(py, &p.thumbhash),
                p.average.map(hex),
                PyBytes::new(py, &p.preview_png),
            )
        })
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
            "ImageStatistics(width={}, height={}, mean={:.4}, median={:.4})",
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

/// The caller's pixels as a C-contiguous buffer of bytes.
fn contiguous_bytes(py: Python<'_>, pixels: &Bound<'_, PyAny>) -> PyResult<PyBuffer<u8>> {
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
    Ok(buffer)
}

/// Computes every luminance statistic of a tightly packed, row-major image, and the colour
/// and sharpness statistics when asked.
#[pyfunction]
#[pyo3(signature = (pixels, width, height, layout, *, colors = false, sharpness = false, text = false))]
#[allow(clippy::too_many_arguments)]
fn pixel_statistics(
    py: Python<'_>,
    pixels: &Bound<'_, PyAny>,
    width: usize,
    height: usize,
    layout: &str,
    colors: bool,
    sharpness: bool,
    text: bool,
) -> PyResult<PyImageStatistics> {
    let layout = Layout::parse(layout)?;
    let buffer = contiguous_bytes(py, pixels)?;
    check_shape(buffer.shape(), width, height, layout.channels())?;
    // SAFETY: the buffer is C-contiguous u8 memory of len_bytes() bytes, kept alive (and its
    // exporter pinned) by `buffer` until this function returns.
    let bytes =
        unsafe { std::slice::from_raw_parts(buffer.buf_ptr() as *const u8, buffer.len_bytes()) };
    let extras = Extras {
        colours: colors,
        sharpness,
        text,
    };
    let analysis = run(py, || analyze(bytes, width, height, layout, extras))?;
    drop(buffer);
    Ok(PyImageStatistics(analysis))
}

/// What `analyze_image` made of an image (see `_core.pyi`).
#[pyclass(frozen, module = "image_insights._core", name = "ImageAnalysis")]
pub struct PyImageAnalysis {
    facts: pipeline::Facts,
    stats: Option<Py<PyImageStatistics>>,
    fallback: Option<&'static str>,
    timings: pipeline::Timings,
}

#[pymethods]
impl PyImageAnalysis {
    #[getter]
    fn format(&self) -> &'static str {
        self.facts.format.name()
    }
    #[getter]
    fn width(&self) -> usize {
        self.facts.width
    }
    #[getter]
    fn height(&self) -> usize {
        self.facts.height
    }
    #[getter]
    fn orientation(&self) -> u8 {
        self.facts.orientation
    }
    #[getter]
    fn denominator(&self) -> usize {
        self.facts.denominator
    }
    #[getter]
    fn frames(&self) -> usize {
        self.facts.frames
    }
    #[getter]
    fn stats(&self, py: Python<'_>) -> Option<Py<PyImageStatistics>> {
        self.stats.as_ref().map(|stats| stats.clone_ref(py))
    }
    #[getter]
    fn fallback(&self) -> Option<&'static str> {
        self.fallback
    }
    #[getter]
    fn decode_seconds(&self) -> f64 {
        self.timings.decode.as_secs_f64()
    }
    #[getter]
    fn analysis_seconds(&self) -> f64 {
        self.timings.analysis.as_secs_f64()
    }

    fn __repr__(&self) -> String {
        format!(
            "ImageAnalysis(format={:?}, width={}, height={}, orientation={}, fallback={:?})",
            self.facts.format.name(),
            self.facts.width,
            self.facts.height,
            self.facts.orientation,
            self.fallback
        )
    }
}

/// Sniffs, checks, decodes, resizes, turns and measures an encoded image (see `_core.pyi`).
#[pyfunction]
#[pyo3(signature = (data, max_pixels, *, colors = false, sharpness = false, text = false, regions = Vec::new(), placeholder = None, timeout = None, jpeg_reader = true))]
#[allow(clippy::too_many_arguments)]
fn analyze_image(
    py: Python<'_>,
    data: &[u8],
    max_pixels: u64,
    colors: bool,
    sharpness: bool,
    text: bool,
    regions: Vec<(f64, f64, f64, f64)>,
    placeholder: Option<(u32, u32)>,
    timeout: Option<f64>,
    jpeg_reader: bool,
) -> PyResult<PyImageAnalysis> {
    let options = Options {
        max_pixels,
        extras: Extras {
            colours: colors,
            sharpness,
            text,
        },
        deadline: deadline(timeout)?,
        jpeg_reader,
        regions: rects(&regions)?,
        placeholder: components(placeholder)?,
    };
    let outcome = run(py, || pipeline::analyze_image(data, &options))?;
    Ok(match outcome {
        Outcome::Analysed {
            facts,
            analysis,
            timings,
        } => PyImageAnalysis {
            facts,
            stats: Some(Py::new(py, PyImageStatistics(analysis))?),
            fallback: None,
            timings,
        },
        Outcome::Fallback { facts, reason } => PyImageAnalysis {
            facts,
            stats: None,
            fallback: Some(reason.label()),
            timings: pipeline::Timings::default(),
        },
    })
}

/// The pipeline's rest for pixels decoded elsewhere (see `_core.pyi`).
#[pyfunction]
#[pyo3(signature = (pixels, width, height, layout, *, source_width, source_height, orientation = 1, colors = false, sharpness = false, text = false, regions = Vec::new(), placeholder = None, icc = None, timeout = None))]
#[allow(clippy::too_many_arguments)]
fn analyze_pixels(
    py: Python<'_>,
    pixels: &Bound<'_, PyAny>,
    width: usize,
    height: usize,
    layout: &str,
    source_width: usize,
    source_height: usize,
    orientation: u8,
    colors: bool,
    sharpness: bool,
    text: bool,
    regions: Vec<(f64, f64, f64, f64)>,
    placeholder: Option<(u32, u32)>,
    icc: Option<&[u8]>,
    timeout: Option<f64>,
) -> PyResult<PyImageStatistics> {
    let cmyk = layout == "CMYK";
    let layout = if cmyk {
        Layout::Rgba
    } else {
        Layout::parse(layout)?
    };
    let buffer = contiguous_bytes(py, pixels)?;
    check_shape(buffer.shape(), width, height, layout.channels())?;
    let options = Options {
        extras: Extras {
            colours: colors,
            sharpness,
            text,
        },
        deadline: deadline(timeout)?,
        regions: rects(&regions)?,
        placeholder: components(placeholder)?,
        ..Options::default()
    };
    // SAFETY: the buffer is C-contiguous u8 memory of len_bytes() bytes, kept alive (and its
    // exporter pinned) by `buffer` until this function returns.
    let bytes =
        unsafe { std::slice::from_raw_parts(buffer.buf_ptr() as *const u8, buffer.len_bytes()) };
    let analysis = run(py, || {
        if cmyk {
            let facts = pipeline::Facts {
                format: pipeline::Format::Jpeg,
                width: source_width,
                height: source_height,
                orientation,
                denominator: 1,
                frames: 1,
            };
            return pipeline::finish_cmyk(bytes, (width, height), &facts, icc, &options);
        }
        pipeline::analyze_pixels(
            bytes,
            (width, height),
            layout,
            (source_width, source_height),
            orientation,
            icc,
            &options,
        )
    })?;
    drop(buffer);
    Ok(PyImageStatistics(analysis))
}

/// The format whose signature `head` starts with (see `_core.pyi`).
#[pyfunction]
fn sniff(head: &[u8]) -> Option<&'static str> {
    pipeline::Format::sniff(head).map(pipeline::Format::name)
}

/// The denominator of the DCT scale a JPEG of this size is decoded at (see `_core.pyi`).
#[pyfunction]
fn decode_denominator(width: usize, height: usize) -> usize {
    pipeline::decode_denominator(width, height)
}

/// The contract's analysis size of a width x height image (see `_core.pyi`).
#[pyfunction]
fn analysis_size(width: usize, height: usize) -> (usize, usize) {
    crate::resize::analysis_size(width, height)
}

/// Decodes a JPEG at scale 1/`denominator` (8, 4, 2 or 1) as libjpeg does (see `_core.pyi`).
#[pyfunction]
#[pyo3(signature = (data, denominator, max_pixels))]
fn decode_jpeg<'py>(
    py: Python<'py>,
    data: &[u8],
    denominator: usize,
    max_pixels: u64,
) -> PyResult<(usize, usize, &'static str, Bound<'py, PyBytes>)> {
    let scale = crate::jpeg::Scale::from_denominator(denominator)
        .ok_or_else(|| PyValueError::new_err("denominator must be 8, 4, 2 or 1"))?;
    let image = run(py, || {
        crate::jpeg::decode(data, scale, max_pixels, &Deadline::none())
    })?;
    let pixels = PyBytes::new(py, &image.pixels.data);
    let (width, height) = (image.pixels.width, image.pixels.height);
    let mode = layout_name(image.pixels.layout);
    crate::jpeg::recycle(image);
    Ok((width, height, mode, pixels))
}

/// Decodes a PNG to 8-bit pixels by the service's conversion rules (see `_core.pyi`).
#[pyfunction]
#[pyo3(signature = (data, max_pixels))]
fn decode_png<'py>(
    py: Python<'py>,
    data: &[u8],
    max_pixels: u64,
) -> PyResult<(usize, usize, &'static str, Bound<'py, PyBytes>)> {
    let decoded = run(py, || {
        crate::png::decode(data, max_pixels, &Deadline::none())
    })?;
    let image = decoded.pixels;
    let pixels = PyBytes::new(py, &image.data);
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
) -> PyResult<Bound<'py, PyBytes>> {
    let layout = Layout::parse(layout)?;
    let resized = run(py, || {
        let (source, target) = ((width, height), (target_width, target_height));
        crate::resize::resize_bytes(pixels, source, layout, target, &Deadline::none())
    })?;
    Ok(PyBytes::new(py, &resized.data))
}

/// Rows of `stride` bytes, each starting with `row_samples` samples, as tight 8-bit samples:
/// 8-bit samples are copied; wider ones (little-endian 16-bit words holding a `bits`-bit
/// value in their high bits, as libheif returns them) become round(v x 255 / (2^bits - 1))
/// (see `_core.pyi`).
#[pyfunction]
#[pyo3(signature = (data, rows, stride, row_samples, bits))]
fn pack_rows<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    rows: usize,
    stride: usize,
    row_samples: usize,
    bits: u32,
) -> PyResult<Bound<'py, PyBytes>> {
    let width = if bits == 8 { 1 } else { 2 };
    let used = row_samples
        .checked_mul(width)
        .filter(|&used| used <= stride && (8..=16).contains(&bits))
        .ok_or_else(|| {
            PyValueError::new_err("rows do not fit their stride, or bits not in 8..=16")
        })?;
    let buffer = contiguous_bytes(py, data)?;
    // SAFETY: the buffer is C-contiguous u8 memory of len_bytes() bytes, kept alive (and its
    // exporter pinned) by `buffer` until this function returns.
    let data =
        unsafe { std::slice::from_raw_parts(buffer.buf_ptr() as *const u8, buffer.len_bytes()) };
    let needed = rows
        .checked_sub(1)
        .map_or(Some(0), |full| full.checked_mul(stride)?.checked_add(used));
    if needed.is_none_or(|needed| needed > data.len()) {
        return Err(PyValueError::new_err("the buffer is shorter than its rows"));
    }
    let packed = py.detach(|| {
        let mut out = Vec::with_capacity(rows * row_samples);
        let max = (1u32 << bits) - 1;
        for row in 0..rows {
            let line = &data[row * stride..row * stride + used];
            if bits == 8 {
                out.extend_from_slice(line);
            } else {
                out.extend(line.chunks_exact(2).map(|word| {
                    let v = u32::from(u16::from_le_bytes([word[0], word[1]])) >> (16 - bits);
                    ((v * 255 * 2 + max) / (2 * max)) as u8
                }));
            }
        }
        out
    });
    drop(buffer);
    Ok(PyBytes::new(py, &packed))
}

/// The (width, height) a TIFF, WebP, GIF, AVIF or HEIF header declares (see `_core.pyi`).
#[pyfunction]
fn declared_size(data: &[u8]) -> Option<(u64, u64)> {
    pipeline::declared_size(data)
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

/// Raises `InternalError` from inside the core, as any panic there would: for the tests
/// that show a bug fails the call and not the process (see `_core.pyi`).
#[pyfunction]
fn _panic(py: Python<'_>, message: String) -> PyResult<()> {
    run(py, || -> Result<(), CoreError> { panic!("{message}") })
}

#[pymodule]
pub fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DCT_SCALING_MIN_SIDE", pipeline::DCT_SCALING_MIN_SIDE)?;
    m.add("MAX_SCANS", crate::jpeg::MAX_SCANS)?;
    m.add("SNIFF_BYTES", pipeline::SNIFF_BYTES)?;
    m.add("DecodeError", py.get_type::<DecodeError>())?;
    m.add("PixelLimitError", py.get_type::<PixelLimitError>())?;
    m.add("DeadlineExceeded", py.get_type::<DeadlineExceeded>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add_class::<PyImageStatistics>()?;
    m.add_class::<PyImageAnalysis>()?;
    m.add_function(wrap_pyfunction!(analyze_image, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_pixels, m)?)?;
    m.add_function(wrap_pyfunction!(pixel_statistics, m)?)?;
    m.add_function(wrap_pyfunction!(sniff, m)?)?;
    m.add_function(wrap_pyfunction!(decode_denominator, m)?)?;
    m.add_function(wrap_pyfunction!(analysis_size, m)?)?;
    m.add_function(wrap_pyfunction!(decode_jpeg, m)?)?;
    m.add_function(wrap_pyfunction!(decode_png, m)?)?;
    m.add_function(wrap_pyfunction!(resize, m)?)?;
    m.add_function(wrap_pyfunction!(pack_rows, m)?)?;
    m.add_function(wrap_pyfunction!(declared_size, m)?)?;
    m.add_function(wrap_pyfunction!(_panic, m)?)?;
    Ok(())
}
