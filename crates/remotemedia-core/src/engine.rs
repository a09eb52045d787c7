//! The engine: a registry of node types, and the entry points that compile
//! and run pipelines. One engine serves any number of runs and concurrent
//! sessions.

use std::sync::Arc;

use crate::data::RuntimeData;
use crate::error::{EngineError, ManifestError};
use crate::executor::{GraphRun, Session, SessionConfig, SinkOutput};
use crate::manifest::Manifest;
use crate::overrides::Overrides;
use crate::pipeline::Pipeline;
use crate::registry::Registry;

/// Compiles and runs pipelines. Cheap to clone (the registry is shared).
#[derive(Debug, Clone)]
pub struct Engine {
    registry: Arc<Registry>,
}

/// Why a run could not start or finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The pipeline could not be built.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A node failed while running.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl Engine {
    /// An engine over `registry`.
    pub fn new(registry: Registry) -> Self {
        Self {
            registry: Arc::new(registry),
        }
    }

    /// The node types this engine knows.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Validates a manifest and builds its graph.
    pub fn compile(&self, manifest: Manifest) -> Result<Arc<Pipeline>, ManifestError> {
        self.compile_with(manifest, &Overrides::new())
    }

    /// Like [`Self::compile`], but the nodes named in `overrides` are built
    /// by the caller's factories (see [`crate::overrides`]). The result is
    /// one pipeline like any other: batch runs and sessions on it share its
    /// circuit breakers, and its metrics name the manifest's node types.
    pub fn compile_with(&self, manifest: Manifest, overrides: &Overrides) -> Result<Arc<Pipeline>, ManifestError> {
        Pipeline::new(manifest, &self.registry, overrides).map(Arc::new)
    }

    /// Runs `inputs` through a fresh instance of `pipeline`, one after the
    /// other as one stream, then flushes; returns every sink output in the
    /// order produced.
    pub async fn run_batch(
        &self,
        pipeline: &Arc<Pipeline>,
        inputs: impl IntoIterator<Item = RuntimeData>,
    ) -> Result<Vec<SinkOutput>, RunError> {
        let mut run = GraphRun::new(Arc::clone(pipeline))?;
        let mut outputs = Vec::new();
        for input in inputs {
            run.push(input, &mut outputs).await?;
        }
        run.flush(&mut outputs).await?;
        Ok(outputs)
    }

    /// Opens a streaming session on the current tokio runtime.
    pub fn open_session(&self, pipeline: &Arc<Pipeline>, config: SessionConfig) -> Result<Session, ManifestError> {
        Ok(Session::spawn(
            GraphRun::with_options(Arc::clone(pipeline), config.run)?,
            config,
        ))
    }
}

impl Default for Engine {
    /// An engine with the built-in nodes only.
    fn default() -> Self {
        Self::new(Registry::with_builtins())
    }
}
