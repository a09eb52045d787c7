//! The engine's `tracing` events, forwarded to Python's `logging` module
//! under the `remotemedia` logger.
//!
//! Installed as the process's `tracing` subscriber when the extension is
//! imported (unless one is already installed). The engine emits events only
//! off the per-chunk path (session open and close, retries, timeouts, breaker
//! transitions, caught panics, rate-limited drop reports), so the GIL is
//! taken only when one fires; an event is handed to Python only when the
//! logger is enabled for its level. Fields become `key=value` after the
//! message and, as a dict, the record's `remotemedia` attribute.

use std::fmt::{self, Write as _};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Installs the forwarding subscriber; a process that already has one keeps it.
pub fn install() {
    let subscriber = tracing_subscriber::registry().with(ToPythonLogging);
    // Already installed (an embedding program chose its own): keep that one.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The `tracing` layer that hands events to `logging.getLogger("remotemedia")`.
pub struct ToPythonLogging;

impl<S: Subscriber> Layer<S> for ToPythonLogging {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let level = python_level(*event.metadata().level());
        // During interpreter shutdown there is no Python to log to.
        let _ = Python::try_attach(|py| {
            if let Err(e) = forward(py, level, event) {
                e.write_unraisable(py, None);
            }
        });
    }
}

fn forward(py: Python<'_>, level: u8, event: &Event<'_>) -> PyResult<()> {
    let logger = LOGGER.get_or_try_init(py, || {
        py.import("logging")?
            .call_method1("getLogger", ("remotemedia",))
            .map(Bound::unbind)
    })?;
    let logger = logger.bind(py);
    if !logger.call_method1("isEnabledFor", (level,))?.is_truthy()? {
        return Ok(());
    }
    let mut fields = Fields::default();
    event.record(&mut fields);
    let mut text = fields.message;
    for (key, value) in &fields.pairs {
        let _ = write!(text, " {key}={value}");
    }
    let extra = PyDict::new(py);
    let values = PyDict::new(py);
    for (key, value) in fields.pairs {
        values.set_item(key, value)?;
    }
    values.set_item("target", event.metadata().target())?;
    extra.set_item("remotemedia", values)?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("extra", extra)?;
    logger.call_method("log", (level, text), Some(&kwargs))?;
    Ok(())
}

/// Python's numeric level for a `tracing` level (TRACE is below DEBUG: 5).
fn python_level(level: Level) -> u8 {
    match level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

/// An event's message and its other fields, as text.
#[derive(Default)]
struct Fields {
    message: String,
    pairs: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.pairs.push((field.name(), value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.pairs.push((field.name(), format!("{value:?}")));
        }
    }
}
