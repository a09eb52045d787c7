//! Arrays the engine borrows are locked against writes while it holds them.
//!
//! Zero-copy input must never mean silent corruption: a caller that reuses
//! one capture buffer, or writes into an array while a run that released the
//! GIL is reading it, would otherwise change samples under the engine. So a
//! numpy array is lent to the engine only when nothing can write into its
//! memory meanwhile ([`Lendable`]):
//!
//! - an array whose memory only numpy arrays reach (it owns its memory, or
//!   views, through any chain of arrays, one that does, or one of our
//!   results) is *locked* when any of them is writeable: the `WRITEABLE` flag
//!   of the array and of every array it views is cleared while any engine
//!   buffer uses it and restored afterwards, so a writer meanwhile gets
//!   numpy's own "assignment destination is read-only" error instead of a
//!   data race. (A slice of a ring buffer locks the whole buffer: the next
//!   write into it fails loudly until the engine is done with the slice.)
//! - when all of them are read-only already (or the chain ends in `bytes`),
//!   it is lent as it is;
//! - memory that something other than an array can write (a `bytearray`, a
//!   memory map, a buffer of a capture library) is copied once; the copies
//!   are counted in the run's metrics (`pipeline.copied_inputs`).
//!
//! A view of those arrays made *before* the call keeps its own `WRITEABLE`
//! flag: numpy has no way to find it, so writes through it are not refused.
//!
//! Locks are counted per array (one array may be lent to several runs at
//! once) and released under the GIL, never by blocking an engine thread on
//! it: a lock's last reference is a reference to a Python object
//! ([`Unlocker`]) that unlocks when it is freed, which pyo3 does at once on a
//! thread holding the GIL and otherwise as soon as a thread next attaches
//! (its reference pool: on entry to any of the extension's calls, and when a
//! call that released the GIL takes it back). This needs nothing outside
//! CPython's stable ABI.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, MutexGuard};

use numpy::npyffi::flags::{NPY_ARRAY_OWNDATA, NPY_ARRAY_WRITEABLE};
use numpy::npyffi::objects::{_PyArray_GET_ITEM_DATA, PyArrayObject, PyArrayObject_fields};
use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::Value;

use crate::sample_owner::SampleOwner;

/// How an array may be lent to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lendable {
    /// Nothing can write into it: lend it as it is.
    Immutable,
    /// Only the array itself (or the arrays it views) can write into it:
    /// lend it locked.
    Lockable,
    /// Something else may write into it: copy it.
    Copy,
}

/// Deepest chain of array views followed before giving up (and copying).
const MAX_BASE_CHAIN: usize = 32;

/// Decides how `array` may be lent.
pub fn lendable(array: &Bound<'_, PyUntypedArray>) -> Lendable {
    let Some(chain) = view_chain(array) else {
        return Lendable::Copy;
    };
    let frozen = |a: &Bound<'_, PyUntypedArray>| {
        let raw = a.as_array_ptr();
        // SAFETY: a live array, read under the GIL.
        let flags = unsafe { (*fields(raw)).flags };
        flags & NPY_ARRAY_WRITEABLE == 0 && !locked_by_us(raw)
    };
    if frozen(array) && chain.iter().all(frozen) {
        Lendable::Immutable
    } else {
        Lendable::Lockable
    }
}

/// The arrays `array` views, nearest first, when the chain ends in memory
/// that only arrays reach: an array that owns its memory, `bytes`, or one of
/// our results. `None` for anything else (foreign memory: a `bytearray`, a
/// memory map, a buffer without an owner).
fn view_chain<'py>(array: &Bound<'py, PyUntypedArray>) -> Option<Vec<Bound<'py, PyUntypedArray>>> {
    let py = array.py();
    let mut chain = Vec::new();
    let mut current = array.clone();
    for _ in 0..MAX_BASE_CHAIN {
        let raw = current.as_array_ptr();
        // SAFETY: a live array, read under the GIL.
        let (flags, base) = unsafe { ((*fields(raw)).flags, (*fields(raw)).base) };
        if base.is_null() {
            return (flags & NPY_ARRAY_OWNDATA != 0).then_some(chain);
        }
        // SAFETY: `base` is a live object kept alive by `current`.
        let object = unsafe { Bound::from_borrowed_ptr(py, base) };
        if object.is_instance_of::<SampleOwner>() || object.is_exact_instance_of::<PyBytes>() {
            return Some(chain);
        }
        current = object.cast::<PyUntypedArray>().ok()?.clone();
        chain.push(current.clone());
    }
    None
}

/// The fields of a live array object.
///
/// # Safety
/// `raw` must point at a live numpy array and the GIL must be held.
unsafe fn fields(raw: *mut PyArrayObject) -> *mut PyArrayObject_fields {
    // SAFETY: as the caller promises.
    unsafe { _PyArray_GET_ITEM_DATA(raw) }
}

/// Arrays currently locked, by address: how many engine buffers hold each.
fn locks() -> MutexGuard<'static, HashMap<usize, u32>> {
    static LOCKS: LazyLock<Mutex<HashMap<usize, u32>>> = LazyLock::new(Mutex::default);
    LOCKS.lock().unwrap_or_else(|p| p.into_inner())
}

fn locked_by_us(raw: *mut PyArrayObject) -> bool {
    locks().contains_key(&(raw as usize))
}

/// A lock on one array and the arrays it views: their `WRITEABLE` flags stay
/// cleared until every lock on them is dropped (and its [`Unlocker`] freed).
pub struct ArrayLock {
    _unlocker: Py<Unlocker>,
}

impl ArrayLock {
    /// Locks `array` ([`Lendable::Lockable`]) and the arrays it views, or
    /// adds a lock to those already locked by us.
    pub fn new(array: &Bound<'_, PyUntypedArray>) -> PyResult<Self> {
        let mut arrays = vec![array.clone()];
        arrays.extend(view_chain(array).unwrap_or_default());
        let unlocker = Py::new(
            array.py(),
            Unlocker {
                arrays: arrays.iter().map(|a| a.clone().into_any().unbind()).collect(),
            },
        )?;
        let mut locks = locks();
        for a in &arrays {
            let raw = a.as_array_ptr();
            *locks.entry(raw as usize).or_insert(0) += 1;
            // SAFETY: a live array; its flags are written under the GIL.
            unsafe { (*fields(raw)).flags &= !NPY_ARRAY_WRITEABLE };
        }
        Ok(Self { _unlocker: unlocker })
    }
}

/// Removes one lock from each of its arrays when Python frees it.
#[pyclass(frozen, module = "remotemedia._native")]
pub struct Unlocker {
    arrays: Vec<Py<PyAny>>,
}

impl Drop for Unlocker {
    fn drop(&mut self) {
        // SAFETY: an `Unlocker` only ever lives inside its Python object
        // (made by `Py::new` in `ArrayLock::new`), which CPython frees on a
        // thread holding the GIL.
        let py = unsafe { Python::assume_attached() };
        std::mem::take(&mut self.arrays).into_iter().for_each(|a| unlock(py, a));
    }
}

/// Removes one lock from `array`, restoring `WRITEABLE` with the last one.
fn unlock(py: Python<'_>, array: Py<PyAny>) {
    let Ok(array) = array.bind(py).cast::<PyUntypedArray>().cloned() else {
        return;
    };
    let raw = array.as_array_ptr();
    let mut locks = locks();
    let Some(count) = locks.get_mut(&(raw as usize)) else {
        return;
    };
    *count -= 1;
    if *count == 0 {
        locks.remove(&(raw as usize));
        // SAFETY: a live array; its flags are written under the GIL.
        unsafe { (*fields(raw)).flags |= NPY_ARRAY_WRITEABLE };
    }
}

/// Adds to a run's metrics JSON how many of its inputs were copied rather
/// than borrowed (`pipeline.copied_inputs`).
pub fn record_copies(metrics: &mut Value, copied: usize) {
    if let Some(pipeline) = metrics.get_mut("pipeline").and_then(Value::as_object_mut) {
        pipeline.insert("copied_inputs".into(), Value::from(copied));
    }
}
