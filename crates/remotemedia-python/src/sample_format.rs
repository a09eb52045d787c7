//! `convert_samples`: the sample-format converters called directly on numpy arrays, into a
//! new array or into a caller's `out=` array.
//!
//! A new result array is allocated by numpy (as `np.multiply` allocates its own) and
//! written once by the kernel, with no zeroing pass; `out=` reuses a caller's buffer, so a
//! loop over chunks touches no fresh memory at all. `samples` must be a C-contiguous array
//! of `float32`, `int16` or `int32` (the Python wrapper `remotemedia.convert_samples`
//! makes other inputs so); `out` must be a writeable, C-contiguous array of the target
//! dtype and of the shape of `samples`, not sharing memory with it. Anything else is a
//! `TypeError` or `ValueError` naming the argument. Calls on 4096 samples or more release
//! the GIL while converting.

use std::mem::MaybeUninit;
use std::str::FromStr;

use numpy::{
    BorrowError, Element, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use remotemedia_audio::convert::{self, ConvertError, UninitConverter};
use remotemedia_core::SampleFormat;

use crate::gil::maybe_detach;

/// Converts `samples` to `target_format` (`"f32"`, `"i16"` or `"i32"`) with the native
/// kernels' arithmetic, into `out` when given (and returns it), else into a new array.
/// The same format in and out returns `samples` itself, or copies it into `out`.
#[pyfunction]
#[pyo3(signature = (samples, target_format, out = None))]
pub fn convert_samples<'py>(
    py: Python<'py>,
    samples: &Bound<'py, PyAny>,
    target_format: &str,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let target =
        SampleFormat::from_str(target_format).map_err(|e| PyValueError::new_err(format!("target_format: {e}")))?;
    let array = samples.cast::<PyUntypedArray>().map_err(|_| {
        PyTypeError::new_err(format!(
            "samples: expected a numpy array, got {}",
            samples.get_type().name().map(|n| n.to_string()).unwrap_or_default()
        ))
    })?;
    let source = format_of(py, array).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "samples: dtype {} is not supported; use float32, int16 or int32",
            dtype_name(array)
        ))
    })?;
    use SampleFormat::{F32, I16, I32};
    match (source, target) {
        (I16, F32) => run(py, array, target, out, convert::i16_to_f32, convert::i16_to_f32_uninit),
        (I32, F32) => run(py, array, target, out, convert::i32_to_f32, convert::i32_to_f32_uninit),
        (F32, I16) => run(py, array, target, out, convert::f32_to_i16, convert::f32_to_i16_uninit),
        (I32, I16) => run(py, array, target, out, convert::i32_to_i16, convert::i32_to_i16_uninit),
        (F32, I32) => run(py, array, target, out, convert::f32_to_i32, convert::f32_to_i32_uninit),
        (I16, I32) => run(py, array, target, out, convert::i16_to_i32, convert::i16_to_i32_uninit),
        (_, _) if out.is_none() => Ok(samples.clone()),
        (F32, F32) => run(py, array, target, out, copy::<f32>, copy_uninit::<f32>),
        (I16, I16) => run(py, array, target, out, copy::<i16>, copy_uninit::<i16>),
        (I32, I32) => run(py, array, target, out, copy::<i32>, copy_uninit::<i32>),
    }
}

fn format_of(py: Python<'_>, array: &Bound<'_, PyUntypedArray>) -> Option<SampleFormat> {
    let dtype = array.dtype();
    SampleFormat::ALL.into_iter().find(|f| match f {
        SampleFormat::F32 => dtype.is_equiv_to(&numpy::dtype::<f32>(py)),
        SampleFormat::I16 => dtype.is_equiv_to(&numpy::dtype::<i16>(py)),
        SampleFormat::I32 => dtype.is_equiv_to(&numpy::dtype::<i32>(py)),
    })
}

fn dtype_name(array: &Bound<'_, PyUntypedArray>) -> String {
    array.dtype().str().map(|s| s.to_string()).unwrap_or_default()
}

fn numpy_name(format: SampleFormat) -> &'static str {
    match format {
        SampleFormat::F32 => "float32",
        SampleFormat::I16 => "int16",
        SampleFormat::I32 => "int32",
    }
}

fn shape_text(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn check_len(src: usize, dst: usize) -> Result<(), ConvertError> {
    if src == dst {
        Ok(())
    } else {
        Err(ConvertError::LengthMismatch { src, dst })
    }
}

fn copy<T: Copy>(src: &[T], dst: &mut [T]) -> Result<(), ConvertError> {
    check_len(src.len(), dst.len())?;
    dst.copy_from_slice(src);
    Ok(())
}

fn copy_uninit<'a, T: Copy>(src: &[T], dst: &'a mut [MaybeUninit<T>]) -> Result<&'a mut [T], ConvertError> {
    check_len(src.len(), dst.len())?;
    for (d, &s) in dst.iter_mut().zip(src) {
        d.write(s);
    }
    // SAFETY: every element was written just above.
    Ok(unsafe { &mut *(dst as *mut [MaybeUninit<T>] as *mut [T]) })
}

fn run<'py, S: Element + Copy + Sync, D: Element + Copy + Send>(
    py: Python<'py>,
    samples: &Bound<'py, PyUntypedArray>,
    target: SampleFormat,
    out: Option<&Bound<'py, PyAny>>,
    into: fn(&[S], &mut [D]) -> Result<(), ConvertError>,
    fresh: UninitConverter<S, D>,
) -> PyResult<Bound<'py, PyAny>> {
    let samples = samples.cast::<PyArrayDyn<S>>()?;
    let readonly = samples
        .try_readonly()
        .map_err(|e| PyValueError::new_err(format!("samples: cannot be read ({e})")))?;
    let src = readonly
        .as_slice()
        .map_err(|_| PyValueError::new_err("samples: must be a C-contiguous array"))?;
    let failed = |e: ConvertError| PyValueError::new_err(e.to_string());
    let Some(out) = out else {
        // SAFETY: a new array, not yet visible to Python: its memory is ours alone and
        // `fresh` initialises every element before the array is handed out.
        let array = unsafe { PyArrayDyn::<D>::new(py, samples.shape(), false) };
        let dst = unsafe { std::slice::from_raw_parts_mut(array.data().cast::<MaybeUninit<D>>(), src.len()) };
        maybe_detach(py, src.len(), || fresh(src, dst).map(|_| ())).map_err(failed)?;
        return Ok(array.into_any());
    };
    let out_array = out.cast::<PyUntypedArray>().map_err(|_| {
        PyTypeError::new_err(format!(
            "out: expected a numpy array, got {}",
            out.get_type().name().map(|n| n.to_string()).unwrap_or_default()
        ))
    })?;
    if !out_array.dtype().is_equiv_to(&numpy::dtype::<D>(py)) {
        return Err(PyTypeError::new_err(format!(
            "out: dtype {} does not match target_format '{}': expected {}",
            dtype_name(out_array),
            target.name(),
            numpy_name(target)
        )));
    }
    if out_array.shape() != samples.shape() {
        return Err(PyValueError::new_err(format!(
            "out: shape {} does not match the shape of samples {}",
            shape_text(out_array.shape()),
            shape_text(samples.shape())
        )));
    }
    if !out_array.is_c_contiguous() {
        return Err(PyValueError::new_err("out: must be a C-contiguous array"));
    }
    let typed = out.cast::<PyArrayDyn<D>>()?;
    let mut writer = typed.try_readwrite().map_err(|e| match e {
        BorrowError::NotWriteable => PyValueError::new_err("out: array is read-only"),
        _ => PyValueError::new_err("out: must not share memory with samples"),
    })?;
    let dst = writer
        .as_slice_mut()
        .map_err(|_| PyValueError::new_err("out: must be a C-contiguous array"))?;
    maybe_detach(py, src.len(), || into(src, dst)).map_err(failed)?;
    Ok(out.clone())
}
