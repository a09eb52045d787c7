//! Audio across the boundary, without copying samples where that is safe.
//!
//! In: a C-contiguous, aligned, native-endian numpy array of `float32`,
//! `int16` or `int32` is *borrowed* when nothing can write into it while the
//! engine holds it, and locked against writes for that time when only the
//! array itself could (see [`crate::lock`]): [`NumpyStore`] keeps a
//! reference to the array and lends its memory to the engine as a
//! [`SampleStore`]. Any other array is converted once into a fresh array of
//! our own (`float64`/`float16` to `float32`, non-contiguous or byte-swapped
//! arrays, views of writeable memory); other dtypes are a `TypeError`. A 1-D
//! array is one channel; 2-D arrays are `(channels, frames)`.
//!
//! Out: samples are handed to numpy as an array whose base is a
//! [`SampleOwner`], which holds the engine's reference-counted buffer, so the
//! array owns (keeps alive) the Rust memory. That array is writeable only
//! when the caller gets the only reference to memory the engine owns
//! outright; otherwise (fan-out, a view of a borrowed input) it is
//! read-only. When a node hands back the very buffer it was given (a
//! pass-through), the caller's own array object is returned.

use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};

use numpy::ndarray::{ArrayView1, ArrayView2};
use numpy::{Element, PyArray1, PyArray2, PyArrayDescrMethods, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyAny;
use remotemedia_core::data::SampleStore;
use remotemedia_core::{AudioData, Samples, Shared};

use crate::lock::{ArrayLock, Lendable, lendable};
use crate::sample_owner::SampleOwner;

/// A numpy array lent to the engine: the array is kept alive (and, holding a
/// reference, cannot be resized) for as long as any engine buffer uses it,
/// and, when it could be written, locked for that time.
pub struct NumpyStore<T> {
    _owner: Py<PyAny>,
    /// Set when the array is locked (at once, or later: see [`Pending`]).
    lock: OnceLock<ArrayLock>,
    ptr: NonNull<T>,
    len: usize,
}

/// A store whose array may be locked after it was lent.
trait LockSlot: Send + Sync {
    fn fill(&self, lock: ArrayLock);
}

impl<T: Sync> LockSlot for NumpyStore<T> {
    fn fill(&self, lock: ArrayLock) {
        // Locked already: the new lock is dropped (and released) at once.
        let _ = self.lock.set(lock);
    }
}

/// A lockable array lent *without* its lock, for a call that keeps the GIL
/// from start to end (no Python code can write meanwhile): locking and
/// unlocking would cost more than the call. [`Pending::lock_if_retained`]
/// locks it after the call when the engine kept a reference (a node's
/// state, an output viewing it); [`Pending::lock_now`] before the GIL is
/// released after all.
pub struct Pending {
    slot: Arc<dyn LockSlot>,
    array: Py<PyAny>,
}

impl Pending {
    /// Locks the array now.
    pub fn lock_now(&self, py: Python<'_>) -> PyResult<()> {
        let array = self.array.bind(py).cast::<PyUntypedArray>()?;
        self.slot.fill(ArrayLock::new(array)?);
        Ok(())
    }

    /// Locks the array if anything but this handle still holds its store.
    pub fn lock_if_retained(self, py: Python<'_>) -> PyResult<()> {
        if Arc::strong_count(&self.slot) > 1 {
            self.lock_now(py)?;
        }
        Ok(())
    }
}

/// When a lockable array is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locking {
    /// As it is lent (the engine may read it without the GIL).
    Now,
    /// Only if needed after a call that keeps the GIL (see [`Pending`]).
    Deferred,
}

// SAFETY: the memory is owned by a numpy array kept alive by `_owner` (a
// `Py`, itself Send + Sync); it is only read through this store, and no
// Python code can write it meanwhile (see `crate::lock`).
unsafe impl<T: Sync> Send for NumpyStore<T> {}
// SAFETY: as above; shared access is read-only.
unsafe impl<T: Sync> Sync for NumpyStore<T> {}

impl<T: Sync + 'static> SampleStore<T> for NumpyStore<T> {
    fn samples(&self) -> &[T] {
        // SAFETY: `ptr` points at `len` initialised, aligned `T`s owned by
        // the array, which outlives `self`; for `len == 0` it is dangling but
        // aligned, which `from_raw_parts` allows.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

/// Audio taken from Python, and how to give results back in the same shape.
pub struct AudioIn {
    /// The audio, borrowing the array's memory when possible.
    pub audio: AudioData,
    /// True when the caller passed a 1-D array (mono results come back 1-D).
    pub one_dimensional: bool,
    /// The array actually borrowed (the caller's, or its one-time conversion).
    pub array: Py<PyAny>,
    /// True when the samples were copied (the caller's array could not be
    /// lent safely or had another layout).
    pub copied: bool,
    /// The lock still to take, when lent with [`Locking::Deferred`].
    pub pending: Option<Pending>,
}

/// The numpy helpers used on the slow path, imported once.
static ASCONTIGUOUS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Reads `(samples, sample_rate)`: borrows `samples` when it has a
/// supported layout and can be lent safely, converts it once otherwise.
pub fn audio_from_py(
    samples: &Bound<'_, PyAny>,
    sample_rate: &Bound<'_, PyAny>,
    locking: Locking,
) -> PyResult<AudioIn> {
    let rate = sample_rate_from_py(sample_rate)?;
    if let Ok(array) = samples.cast::<PyUntypedArray>() {
        let lending = lendable(array);
        if lending != Lendable::Copy
            && let Some(audio) = borrow_array(array, rate, lending, locking)?
        {
            return Ok(audio);
        }
    }
    let converted = convert_array(samples)?;
    let array = converted.cast::<PyUntypedArray>()?;
    // The conversion is a fresh array only we hold: nothing else can write it.
    let mut audio = borrow_array(array, rate, Lendable::Immutable, locking)?
        .ok_or_else(|| PyTypeError::new_err("samples: could not be converted"))?;
    audio.copied = true;
    Ok(audio)
}

/// A positive sample rate in Hz.
pub fn sample_rate_from_py(value: &Bound<'_, PyAny>) -> PyResult<u32> {
    let rate: i64 = value.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "sample_rate: expected an integer number of Hz, got {}",
            type_name(value)
        ))
    })?;
    if rate <= 0 || rate > i64::from(u32::MAX) {
        return Err(PyValueError::new_err(format!(
            "sample_rate: must be a positive integer (Hz), got {rate}"
        )));
    }
    Ok(rate as u32)
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// The fast path: `Some` when the array has a layout the engine reads as it
/// is; it is lent locked when `lending` says so.
fn borrow_array(
    array: &Bound<'_, PyUntypedArray>,
    rate: u32,
    lending: Lendable,
    locking: Locking,
) -> PyResult<Option<AudioIn>> {
    let ndim = array.ndim();
    let (channels, frames) = match *array.shape() {
        [frames] => (1, frames),
        [channels, frames] => (channels, frames),
        _ => {
            return Err(PyValueError::new_err(format!(
                "samples: expected a 1-D (frames) or 2-D (channels, frames) array, got {ndim}-D"
            )));
        }
    };
    if channels == 0 {
        return Err(PyValueError::new_err(
            "samples: an audio array needs at least one channel",
        ));
    }
    let dtype = array.dtype();
    if !array.is_aligned() || dtype.is_native_byteorder() == Some(false) {
        return Ok(None);
    }
    if !array.is_c_contiguous() {
        return copy_rows(array, channels, frames, rate);
    }
    let lock = (lending == Lendable::Lockable).then_some(locking);
    let len = channels * frames;
    let (samples, pending) = match (dtype.kind(), dtype.itemsize()) {
        (b'f', 4) => lend::<f32>(array, len, lock, Samples::F32)?,
        (b'i', 2) => lend::<i16>(array, len, lock, Samples::I16)?,
        (b'i', 4) => lend::<i32>(array, len, lock, Samples::I32)?,
        _ => return Ok(None),
    };
    let audio = AudioData::new(samples, channels, rate).map_err(|e| PyValueError::new_err(format!("samples: {e}")))?;
    Ok(Some(AudioIn {
        audio,
        one_dimensional: ndim == 1,
        array: array.clone().into_any().unbind(),
        copied: false,
        pending,
    }))
}

/// A `(channels, frames)` array whose rows are each contiguous but not adjacent (a slice
/// of a longer recording, `x[:, i:j]`), copied row by row: `None` for other layouts.
/// The copy is what `numpy.ascontiguousarray` would make, without the call into Python.
fn copy_rows(
    array: &Bound<'_, PyUntypedArray>,
    channels: usize,
    frames: usize,
    rate: u32,
) -> PyResult<Option<AudioIn>> {
    let dtype = array.dtype();
    let strides = array.strides();
    if array.ndim() != 2 || strides[1] != dtype.itemsize() as isize {
        return Ok(None);
    }
    let row_stride = strides[0];
    // SAFETY: reading the data pointer of a live, aligned array object.
    let data = unsafe { (*numpy::npyffi::_PyArray_GET_ITEM_DATA(array.as_array_ptr())).data };
    let samples = match (dtype.kind(), dtype.itemsize()) {
        (b'f', 4) => Samples::from(rows::<f32>(data, row_stride, channels, frames)),
        (b'i', 2) => Samples::from(rows::<i16>(data, row_stride, channels, frames)),
        (b'i', 4) => Samples::from(rows::<i32>(data, row_stride, channels, frames)),
        _ => return Ok(None),
    };
    let audio = AudioData::new(samples, channels, rate).map_err(|e| PyValueError::new_err(format!("samples: {e}")))?;
    Ok(Some(AudioIn {
        audio,
        one_dimensional: false,
        array: array.clone().into_any().unbind(),
        copied: true,
        pending: None,
    }))
}

/// The `channels` rows of `frames` values at `data + c * row_stride` bytes, one after another.
fn rows<T: Copy>(data: *mut std::ffi::c_char, row_stride: isize, channels: usize, frames: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(channels * frames);
    if frames == 0 {
        return out;
    }
    for c in 0..channels {
        // SAFETY: numpy guarantees that row `c` of the array starts `c * row_stride` bytes
        // from the data pointer and holds `frames` aligned values of `T` (checked: unit
        // inner stride, aligned, native order); the GIL is held, so nothing frees it.
        let row = unsafe { std::slice::from_raw_parts(data.offset(c as isize * row_stride).cast::<T>(), frames) };
        out.extend_from_slice(row);
    }
    out
}

/// Lends `array`'s memory; `lock` says whether (and when) to lock it.
fn lend<T: Copy + Send + Sync + 'static>(
    array: &Bound<'_, PyUntypedArray>,
    len: usize,
    lock: Option<Locking>,
    wrap: fn(Shared<T>) -> Samples,
) -> PyResult<(Samples, Option<Pending>)> {
    // SAFETY: reading the data pointer of a live array object.
    let data = unsafe { (*numpy::npyffi::_PyArray_GET_ITEM_DATA(array.as_array_ptr())).data }.cast::<T>();
    let ptr = NonNull::new(data).filter(|_| len > 0).unwrap_or(NonNull::dangling());
    let store = Arc::new(NumpyStore {
        _owner: array.clone().into_any().unbind(),
        lock: OnceLock::new(),
        ptr,
        len,
    });
    let pending = match lock {
        Some(Locking::Now) => {
            store.fill(ArrayLock::new(array)?);
            None
        }
        Some(Locking::Deferred) => Some(Pending {
            slot: Arc::clone(&store) as Arc<dyn LockSlot>,
            array: array.clone().into_any().unbind(),
        }),
        None => None,
    };
    Ok((wrap(Shared::from_store(store)), pending))
}

/// The slow path: one conversion to a supported, contiguous layout.
fn convert_array<'py>(samples: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = samples.py();
    let ascontiguous = ASCONTIGUOUS.get_or_try_init(py, || {
        py.import("numpy")?.getattr("ascontiguousarray").map(Bound::unbind)
    })?;
    let array = ascontiguous.bind(py).call1((samples,)).map_err(|_| {
        PyTypeError::new_err(format!(
            "samples: expected a numpy array of float32, int16 or int32, got {}",
            type_name(samples)
        ))
    })?;
    let dtype = array.cast::<PyUntypedArray>()?.dtype();
    let target = match (dtype.kind(), dtype.itemsize()) {
        (b'f', _) => "float32",
        (b'i', 2) => "int16",
        (b'i', 4) => "int32",
        (kind, size) => {
            return Err(PyTypeError::new_err(format!(
                "samples: dtype {} ({}{size}) is not supported; use float32, int16 or int32",
                dtype.str().map(|s| s.to_string()).unwrap_or_default(),
                kind as char
            )));
        }
    };
    let native = array.call_method1("astype", (target,))?;
    ascontiguous.bind(py).call1((native,))
}

/// Total samples of an audio value (for the GIL policy).
pub fn sample_count(audio: &AudioData) -> usize {
    audio.samples().len()
}

/// Hands `audio` to numpy. With `same_as`, an input array whose memory the
/// output is, the input object itself is returned. The view is writeable
/// only when `readonly` is false and `audio` is the only handle to memory
/// the engine owns outright; otherwise its `WRITEABLE` flag is cleared: the
/// buffer may be shared (fan-out, a Python node's input, the caller's own
/// array), so nobody may write into it.
pub fn audio_to_py<'py>(
    py: Python<'py>,
    audio: &AudioData,
    one_dimensional: bool,
    same_as: Option<&Bound<'py, PyAny>>,
    readonly: bool,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(input) = same_as
        && is_same_buffer(input, audio, one_dimensional)
    {
        return Ok(input.clone());
    }
    let readonly = readonly || !audio.samples().is_exclusive();
    let squeeze = one_dimensional && audio.channels() == 1;
    let owner = Bound::new(py, SampleOwner::new(audio.samples().clone()))?;
    let (channels, frames) = (audio.channels(), audio.frames());
    match audio.samples() {
        Samples::F32(s) => view(&owner, s, squeeze, channels, frames, readonly),
        Samples::I16(s) => view(&owner, s, squeeze, channels, frames, readonly),
        Samples::I32(s) => view(&owner, s, squeeze, channels, frames, readonly),
    }
}

fn view<'py, T: Element + Copy + Send + Sync + 'static>(
    owner: &Bound<'py, SampleOwner>,
    samples: &Shared<T>,
    squeeze: bool,
    channels: usize,
    frames: usize,
    readonly: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let slice: &[T] = samples;
    let container = owner.clone().into_any();
    // SAFETY: the memory belongs to the buffer held by `owner`, which is the
    // new array's base and is immutable, so it is neither freed nor
    // reallocated while the array lives.
    Ok(if squeeze {
        let v = ArrayView1::from(slice);
        let array = unsafe { PyArray1::borrow_from_array(&v, container) };
        if readonly {
            array.readwrite().make_nonwriteable();
        }
        array.into_any()
    } else {
        let v = ArrayView2::from_shape((channels, frames), slice)
            .map_err(|e| PyValueError::new_err(format!("samples: {e}")))?;
        let array = unsafe { PyArray2::borrow_from_array(&v, container) };
        if readonly {
            array.readwrite().make_nonwriteable();
        }
        array.into_any()
    })
}

fn is_same_buffer(input: &Bound<'_, PyAny>, audio: &AudioData, one_dimensional: bool) -> bool {
    let Ok(array) = input.cast::<PyUntypedArray>() else {
        return false;
    };
    // SAFETY: reading the data pointer of a live array object.
    let data = unsafe { (*numpy::npyffi::_PyArray_GET_ITEM_DATA(array.as_array_ptr())).data } as usize;
    let out = match audio.samples() {
        Samples::F32(s) => s.as_ptr() as usize,
        Samples::I16(s) => s.as_ptr() as usize,
        Samples::I32(s) => s.as_ptr() as usize,
    };
    let shape_matches = match *array.shape() {
        [frames] => one_dimensional && audio.channels() == 1 && frames == audio.frames(),
        [channels, frames] => channels == audio.channels() && frames == audio.frames(),
        _ => false,
    };
    data == out && shape_matches && array.len() > 0
}
