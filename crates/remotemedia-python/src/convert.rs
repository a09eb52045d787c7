//! Python values to [`RuntimeData`] and back.
//!
//! | Python | engine |
//! |---|---|
//! | `(ndarray, sample_rate)` | `Audio` (samples borrowed, see [`crate::audio`]) |
//! | `(ndarray, sample_rate, info_dict)` | `Annotated` with VAD results |
//! | `str` | `Text` |
//! | `bytes` | `Bytes` |
//! | `None`, `bool`, `int`, `float`, and lists, tuples and dicts (str keys) of them | `Json` |
//! | anything else (a numpy scalar, a user object...) | `Opaque`: handed back as the same object |
//!
//! Back in Python, `Json` numbers keep their kind (an integral result of
//! integer input stays `int`).
//!
//! Annotated audio reaches Python as `(ndarray, sample_rate, dict)`, the
//! dict being the annotation's JSON form (VAD results take a faster path to
//! the same dict). A VAD info dict may carry keys of its own (a Python node
//! annotating the results): they travel as a decoration of the VAD results
//! ([`PyKeys`], see [`remotemedia_core::annotation`]) and are put back
//! whenever the results reach Python again, through any number of nodes
//! that hand them on.

use std::sync::Arc;

use numpy::PyUntypedArray;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use remotemedia_audio::nodes::{SpeechSegment, VadInfo};
use remotemedia_core::{Annotation, RuntimeData};
use serde_json::{Map, Number, Value};

use crate::audio::{AudioIn, Locking, Pending, audio_from_py, audio_to_py};

/// Deepest nesting of lists and dicts converted to JSON.
const MAX_DEPTH: usize = 128;

/// A Python object travelling through the engine untouched.
pub struct PyValue(pub Py<PyAny>);

/// One value taken from Python, with what is needed to give results back in
/// the caller's shape.
pub struct DataIn {
    /// The engine value.
    pub data: RuntimeData,
    /// True when the value was audio given as a 1-D array.
    pub one_dimensional: bool,
    /// The array the audio borrows, if the value was audio.
    pub array: Option<Py<PyAny>>,
    /// True when the audio's samples had to be copied (see [`crate::lock`]).
    pub copied: bool,
    /// The lock still to take (audio converted with [`Locking::Deferred`]).
    pub pending: Option<Pending>,
}

/// Converts one Python value; a lockable array is locked as it is lent.
pub fn data_from_py(obj: &Bound<'_, PyAny>) -> PyResult<DataIn> {
    data_from_py_locking(obj, Locking::Now)
}

/// Converts one Python value, locking a lockable array as `locking` says.
pub fn data_from_py_locking(obj: &Bound<'_, PyAny>, locking: Locking) -> PyResult<DataIn> {
    if let Ok(t) = obj.cast::<PyTuple>()
        && (t.len() == 2 || t.len() == 3)
        && t.get_borrowed_item(0)?.cast::<PyUntypedArray>().is_ok()
    {
        return audio_from_tuple(t, locking);
    }
    let data = if let Ok(s) = obj.cast::<PyString>() {
        RuntimeData::Text(Arc::from(s.to_str()?))
    } else if let Ok(b) = obj.cast::<PyBytes>() {
        RuntimeData::Bytes(Arc::from(b.as_bytes()))
    } else {
        match json_from_py(obj, 0)? {
            Some(v) => RuntimeData::Json(v),
            None => RuntimeData::Opaque(Arc::new(PyValue(obj.clone().unbind()))),
        }
    };
    Ok(DataIn {
        data,
        one_dimensional: false,
        array: None,
        copied: false,
        pending: None,
    })
}

/// Converts `(samples, sample_rate)` or `(samples, sample_rate, info)`;
/// `samples` may be anything numpy can make an array of.
pub fn audio_from_tuple(t: &Bound<'_, PyTuple>, locking: Locking) -> PyResult<DataIn> {
    let AudioIn {
        audio,
        one_dimensional,
        array,
        copied,
        pending,
    } = audio_from_py(&*t.get_borrowed_item(0)?, &*t.get_borrowed_item(1)?, locking)?;
    let data = if t.len() == 3 {
        let dict = t.get_borrowed_item(2)?;
        let annotation = vad_info_from_py(&dict)?;
        RuntimeData::Annotated { audio, annotation }
    } else {
        RuntimeData::Audio(audio)
    };
    Ok(DataIn {
        data,
        one_dimensional,
        array: Some(array),
        copied,
        pending,
    })
}

/// Converts a value to JSON; `None` when it (or something inside it) has no
/// JSON form.
pub fn json_from_py(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Option<Value>> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "value nested more than {MAX_DEPTH} levels deep"
        )));
    }
    if obj.is_none() {
        return Ok(Some(Value::Null));
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Some(Value::Bool(b.is_true())));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Some(Value::from(i)));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Some(Value::from(u)));
        }
        return Ok(None);
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Number::from_f64(f.value()).map(Value::Number));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Some(Value::String(s.to_str()?.to_owned())));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return seq_to_json(l.iter(), l.len(), depth);
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return seq_to_json(t.iter(), t.len(), depth);
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let Ok(key) = k.cast::<PyString>() else {
                return Ok(None);
            };
            match json_from_py(&v, depth + 1)? {
                Some(v) => map.insert(key.to_str()?.to_owned(), v),
                None => return Ok(None),
            };
        }
        return Ok(Some(Value::Object(map)));
    }
    Ok(None)
}

fn seq_to_json<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    len: usize,
    depth: usize,
) -> PyResult<Option<Value>> {
    let mut out = Vec::with_capacity(len);
    for item in items {
        match json_from_py(&item, depth + 1)? {
            Some(v) => out.push(v),
            None => return Ok(None),
        }
    }
    Ok(Some(Value::Array(out)))
}

/// A JSON value as Python objects.
pub fn json_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for i in items {
                list.append(json_to_py(py, i)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let d = PyDict::new(py);
            for (k, v) in map {
                d.set_item(k, json_to_py(py, v)?)?;
            }
            d.into_any()
        }
    })
}

/// An engine value as a Python object. Mono audio comes back 1-D when
/// `one_dimensional`; audio whose memory is `same_as` comes back as that
/// very array.
pub fn data_to_py<'py>(
    py: Python<'py>,
    data: &RuntimeData,
    one_dimensional: bool,
    same_as: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    to_py(py, data, one_dimensional, same_as, false)
}

/// An engine value as the argument of a Python node: like [`data_to_py`],
/// but audio arrives as a read-only numpy view of the engine's buffer (no
/// copy; the buffer may be shared with other nodes).
pub fn data_to_node<'py>(py: Python<'py>, data: &RuntimeData, one_dimensional: bool) -> PyResult<Bound<'py, PyAny>> {
    to_py(py, data, one_dimensional, None, true)
}

fn to_py<'py>(
    py: Python<'py>,
    data: &RuntimeData,
    one_dimensional: bool,
    same_as: Option<&Bound<'py, PyAny>>,
    readonly: bool,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match data {
        RuntimeData::Audio(a) => {
            let samples = audio_to_py(py, a, one_dimensional, same_as, readonly)?;
            PyTuple::new(py, [samples, rate_to_py(py, a.sample_rate())])?.into_any()
        }
        RuntimeData::Annotated { audio, annotation } => {
            let samples = audio_to_py(py, audio, one_dimensional, same_as, readonly)?;
            let rate = rate_to_py(py, audio.sample_rate());
            let dict = annotation_to_py(py, &**annotation)?;
            PyTuple::new(py, [samples, rate, dict.into_any()])?.into_any()
        }
        RuntimeData::Json(v) => json_to_py(py, v)?,
        RuntimeData::Text(t) => PyString::new(py, t).into_any(),
        RuntimeData::Bytes(b) => PyBytes::new(py, b).into_any(),
        RuntimeData::Opaque(o) => match o.downcast_ref::<PyValue>() {
            Some(v) => v.0.bind(py).clone(),
            None => {
                return Err(PyTypeError::new_err(
                    "a native value with no Python form reached Python",
                ));
            }
        },
    })
}

/// The sample rates whose Python ints are made once and shared.
const COMMON_RATES: [u32; 9] = [8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 96_000];

/// The ints of [`COMMON_RATES`], made on first use.
static RATE_INTS: [PyOnceLock<Py<PyAny>>; COMMON_RATES.len()] = [const { PyOnceLock::new() }; COMMON_RATES.len()];

/// A sample rate as a Python int. Ints are immutable, so the usual rates
/// are shared rather than made and freed on every call (11 ns a call).
fn rate_to_py(py: Python<'_>, rate: u32) -> Bound<'_, PyAny> {
    let new = || PyInt::new(py, rate).into_any();
    match COMMON_RATES.iter().position(|&r| r == rate) {
        Some(i) => RATE_INTS[i].get_or_init(py, || new().unbind()).bind(py).clone(),
        None => new(),
    }
}

/// An annotation as a dict: its JSON form (VAD results by
/// [`vad_info_to_py`]), with the keys of every [`PyKeys`] decoration.
pub fn annotation_to_py<'py>(py: Python<'py>, annotation: &dyn Annotation) -> PyResult<Bound<'py, PyDict>> {
    if let Some(inner) = annotation.inner() {
        let d = annotation_to_py(py, &**inner)?;
        let any: &dyn std::any::Any = annotation;
        if let Some(keys) = any.downcast_ref::<PyKeys>() {
            d.update(keys.keys.bind(py).as_mapping())?;
        }
        return Ok(d);
    }
    if let Some(info) = annotation.downcast_ref::<VadInfo>() {
        return vad_info_to_py(py, info);
    }
    json_to_py(py, &annotation.to_json())?
        .cast_into::<PyDict>()
        .map_err(|_| PyTypeError::new_err(format!("a {} annotation's JSON is not an object", annotation.name())))
}

/// VAD results as the dict of the Python API.
///
/// The counts of streamed results are small (a 30 ms chunk holds a frame or
/// two), so the dict usually starts as a copy of a cached template that
/// already holds the same scalars (see [`scalars_dict`]), and only the two
/// lists are set: a copy and two replacements cost 130 ns where a new dict
/// filled key by key costs 195 ns (CPython 3.11, the two lists included).
pub fn vad_info_to_py<'py>(py: Python<'py>, info: &VadInfo) -> PyResult<Bound<'py, PyDict>> {
    let d = match template(info) {
        Some(cell) => cell
            .get_or_try_init(py, || scalars_dict(py, info).map(Bound::unbind))?
            .bind(py)
            .copy()?,
        None => scalars_dict(py, info)?,
    };
    let segments = PyList::empty(py);
    for s in &info.segments {
        let sd = PyDict::new(py);
        sd.set_item(intern!(py, "start"), s.start)?;
        sd.set_item(intern!(py, "end"), s.end)?;
        sd.set_item(intern!(py, "energy_db"), f64::from(s.energy_db))?;
        segments.append(sd)?;
    }
    d.set_item(intern!(py, "segments"), segments)?;
    d.set_item(intern!(py, "frame_decisions"), PyList::new(py, &info.frame_decisions)?)?;
    Ok(d)
}

/// The keys of a VAD info dict in their order, with the scalars of `info`
/// and `None` for the two lists.
fn scalars_dict<'py>(py: Python<'py>, info: &VadInfo) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "is_speech"), info.is_speech)?;
    d.set_item(intern!(py, "speech_frames"), info.speech_frames)?;
    d.set_item(intern!(py, "total_frames"), info.total_frames)?;
    d.set_item(intern!(py, "segments"), py.None())?;
    d.set_item(intern!(py, "frame_decisions"), py.None())?;
    Ok(d)
}

/// Frame counts up to this many have a cached info dict template.
const TEMPLATE_MAX_FRAMES: usize = 3;

/// Number of templates: one per `(is_speech, speech_frames, total_frames)`.
const TEMPLATE_COUNT: usize = 2 * (TEMPLATE_MAX_FRAMES + 1) * (TEMPLATE_MAX_FRAMES + 1);

/// The [`scalars_dict`] of every small result, built on first use and only
/// ever copied (never handed to Python itself).
static TEMPLATES: [PyOnceLock<Py<PyDict>>; TEMPLATE_COUNT] = [const { PyOnceLock::new() }; TEMPLATE_COUNT];

/// The cell of the template for `info`'s scalars; `None` when its counts
/// are too large to have one.
fn template(info: &VadInfo) -> Option<&'static PyOnceLock<Py<PyDict>>> {
    let n = TEMPLATE_MAX_FRAMES + 1;
    (info.speech_frames < n && info.total_frames < n)
        .then(|| &TEMPLATES[(usize::from(info.is_speech) * n + info.speech_frames) * n + info.total_frames])
}

/// The dict of the Python API as VAD results (missing keys take defaults;
/// other keys are kept in a [`PyKeys`] decoration).
pub fn vad_info_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn Annotation>> {
    let d = obj
        .cast::<PyDict>()
        .map_err(|_| PyTypeError::new_err("info: the third item of a VAD tuple must be a dict"))?;
    let mut info = VadInfo::default();
    if let Some(v) = d.get_item("is_speech")? {
        info.is_speech = v.is_truthy()?;
    }
    if let Some(v) = d.get_item("speech_frames")? {
        info.speech_frames = v.extract()?;
    }
    if let Some(v) = d.get_item("total_frames")? {
        info.total_frames = v.extract()?;
    }
    if let Some(v) = d.get_item("frame_decisions")? {
        info.frame_decisions = v.extract()?;
    }
    if let Some(v) = d.get_item("segments")? {
        for s in v.try_iter()? {
            let s = s?;
            info.segments.push(SpeechSegment {
                start: s.get_item("start")?.extract()?,
                end: s.get_item("end")?.extract()?,
                energy_db: s.get_item("energy_db")?.extract()?,
            });
        }
    }
    let info = Arc::new(info);
    Ok(match extra_keys(d)? {
        Some(keys) => Arc::new(PyKeys {
            inner: info,
            keys: Arc::new(keys),
        }),
        None => info,
    })
}

/// The keys of a VAD info dict that [`VadInfo`] holds.
const VAD_KEYS: [&str; 5] = [
    "is_speech",
    "speech_frames",
    "total_frames",
    "segments",
    "frame_decisions",
];

/// Keys a Python node added to an annotation's dict (beyond
/// `VAD_KEYS`), decorating the annotation taken from the rest of it:
/// they come back whenever the annotation reaches Python again. Their JSON
/// form (for the CLI or a remote server) holds the keys whose values have
/// one.
pub struct PyKeys {
    inner: Arc<dyn Annotation>,
    /// Shared by the decorations of joined results, so no GIL is needed to
    /// make them.
    keys: Arc<Py<PyDict>>,
}

impl std::fmt::Debug for PyKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PyKeys")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl Annotation for PyKeys {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn to_json(&self) -> Value {
        let mut json = self.inner.to_json();
        Python::attach(|py| {
            if let Some(object) = json.as_object_mut() {
                for (k, v) in self.keys.bind(py).iter() {
                    if let (Ok(k), Ok(Some(v))) = (k.extract::<String>(), json_from_py(&v, 0)) {
                        object.insert(k, v);
                    }
                }
            }
        });
        json
    }

    fn join(&self, next: &dyn Annotation) -> Option<Arc<dyn Annotation>> {
        self.inner.join(next)
    }

    fn inner(&self) -> Option<&Arc<dyn Annotation>> {
        Some(&self.inner)
    }

    fn decorate(&self, inner: Arc<dyn Annotation>) -> Arc<dyn Annotation> {
        Arc::new(Self {
            inner,
            keys: Arc::clone(&self.keys),
        })
    }
}

/// A copy of the keys of `dict` beyond [`VAD_KEYS`]; `None` when it has none.
fn extra_keys(dict: &Bound<'_, PyDict>) -> PyResult<Option<Py<PyDict>>> {
    if dict.len() <= VAD_KEYS.len()
        && dict
            .keys()
            .iter()
            .all(|k| k.extract::<&str>().is_ok_and(|k| VAD_KEYS.contains(&k)))
    {
        return Ok(None);
    }
    let extras = dict.copy()?;
    for key in VAD_KEYS {
        if extras.contains(key)? {
            extras.del_item(key)?;
        }
    }
    Ok(Some(extras.unbind()))
}
