//! Caller-provided node instances, and what a run lends to them.
//!
//! [`crate::Engine::compile_with`] takes [`Overrides`]: for some node ids of
//! the manifest, a factory that builds the node instead of the registry (a
//! Python object bound in by the bindings, a closure in a Rust program).
//! The manifest is not rewritten: the node keeps its id, its `node_type`
//! (named in the metrics), its resilience settings and its place in the
//! graph; its `node_type` need not be registered and its params are not
//! checked (they are the factory's business), and it runs on the runtime the
//! override names.
//!
//! Every run and session builds its own instances. A factory is called with
//! the run's [`RunContext`]: the value its caller chose for that run (the
//! Python bindings lend the run's state, e.g. in which shape the caller gave
//! its audio) and the run's [`RunMode`].

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::node::Node;
use crate::registry::Runtime;

/// Builds a node for the run whose context is given; an `Err` is reported
/// as a problem with that node.
pub type Factory = dyn Fn(&RunContext) -> Result<Box<dyn Node>, String> + Send + Sync;

/// The factory of one overridden node, and the runtime its nodes run on.
#[derive(Clone)]
pub(crate) struct Override {
    pub(crate) runtime: Runtime,
    pub(crate) factory: Arc<Factory>,
}

/// Factories for node ids, replacing the registry for those nodes.
#[derive(Clone, Default)]
pub struct Overrides {
    by_id: BTreeMap<String, Override>,
}

impl Overrides {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds node `id` with `factory`; its instances run on `runtime`
    /// (reported in the metrics; in [`RunMode::Clips`] only native nodes are
    /// run a whole clip per call). Replaces an earlier override of `id`.
    pub fn node<F>(mut self, id: &str, runtime: Runtime, factory: F) -> Self
    where
        F: Fn(&RunContext) -> Result<Box<dyn Node>, String> + Send + Sync + 'static,
    {
        self.by_id.insert(
            id.to_owned(),
            Override {
                runtime,
                factory: Arc::new(factory),
            },
        );
        self
    }

    /// The ids overridden, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Override> {
        self.by_id.get(id)
    }
}

impl fmt::Debug for Overrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.ids()).finish()
    }
}

/// How a run feeds its nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RunMode {
    /// Inputs are consecutive chunks of one stream: nodes keep their state
    /// from one input to the next and are flushed when the stream ends.
    #[default]
    Stream,
    /// Every input is one whole clip, as when calling each node on it
    /// directly: every native node is reset, processes the clip, is flushed,
    /// and hands on its pieces joined into one value (see
    /// [`crate::join::join_pieces`]). Nodes of other runtimes are called
    /// once per value as usual. The caller ends each clip with
    /// [`crate::GraphRun::flush`] and [`crate::GraphRun::reset`].
    Clips,
}

/// What one run (or session) lends to every node it builds: its
/// [`RunMode`] and, for override factories, a value chosen by whoever
/// starts the run (see [`crate::GraphRun::with_context`]), which other runs
/// of the same compiled pipeline never see. Cloning shares the value.
#[derive(Clone, Default)]
pub struct RunContext {
    mode: RunMode,
    value: Option<Arc<dyn Any + Send + Sync>>,
}

impl RunContext {
    /// A stream-mode context holding `value`.
    pub fn new<T: Any + Send + Sync>(value: Arc<T>) -> Self {
        Self {
            mode: RunMode::Stream,
            value: Some(value),
        }
    }

    /// The same context for a run in `mode`.
    pub fn in_mode(self, mode: RunMode) -> Self {
        Self { mode, ..self }
    }

    /// The run's mode.
    pub fn mode(&self) -> RunMode {
        self.mode
    }

    /// The value, when the context holds one of type `T`.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        Arc::clone(self.value.as_ref()?).downcast().ok()
    }
}

impl fmt::Debug for RunContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunContext")
            .field("mode", &self.mode)
            .field("value", &self.value.as_ref().map(|_| ".."))
            .finish()
    }
}
