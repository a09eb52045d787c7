//! What every call of one server shares: the engine, the limits, the
//! allowed pipelines, the session cap and the drain signals.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use remotemedia_core::metrics::{NodeStatus as CoreNodeStatus, PipelineMetrics};
use remotemedia_core::{Engine, Pipeline};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::catalog::Catalog;
use crate::limits::Limits;
use crate::manifest_codec;
use crate::proto::{ExecutionMetrics, NodeMetrics, NodeResult, NodeStatus, PipelineManifest};
use crate::wire_error::WireError;

/// Shared server state.
#[derive(Debug)]
pub struct ServerState {
    /// The one engine every call runs on.
    pub engine: Engine,
    /// The server's ceilings.
    pub limits: Limits,
    /// With `--pipelines`: the only pipelines served.
    pub catalog: Option<Catalog>,
    sessions: Arc<Semaphore>,
    max_sessions: usize,
    next_session: AtomicU64,
    /// True once the server drains: new streams and requests are refused.
    pub draining: watch::Sender<bool>,
    /// True once the drain timeout passed: open streams close now.
    pub force_close: watch::Sender<bool>,
}

impl ServerState {
    /// State for a server allowing `max_sessions` open streams.
    pub fn new(engine: Engine, limits: Limits, catalog: Option<Catalog>, max_sessions: usize) -> Self {
        Self {
            engine,
            limits,
            catalog,
            sessions: Arc::new(Semaphore::new(max_sessions)),
            max_sessions,
            next_session: AtomicU64::new(1),
            draining: watch::channel(false).0,
            force_close: watch::channel(false).0,
        }
    }

    /// Streams open now.
    pub fn open_sessions(&self) -> usize {
        self.max_sessions - self.sessions.available_permits()
    }

    /// A place for one more stream, or `RESOURCE_EXHAUSTED` at the cap (or
    /// `UNAVAILABLE` while draining).
    pub fn admit(&self) -> Result<(OwnedSemaphorePermit, String), WireError> {
        if *self.draining.borrow() {
            return Err(WireError::unavailable(
                "server is shutting down; open the stream on another server",
            ));
        }
        let permit = Arc::clone(&self.sessions).try_acquire_owned().map_err(|_| {
            WireError::resource_limit(format!(
                "session limit reached: this server holds at most {} concurrent streams",
                self.max_sessions
            ))
        })?;
        let id = format!("session-{}", self.next_session.fetch_add(1, Ordering::Relaxed));
        Ok((permit, id))
    }

    /// The compiled pipeline a request's manifest asks for, logging the
    /// fields it accepted without honouring.
    pub fn pipeline_for(&self, manifest: Option<&PipelineManifest>) -> Result<Arc<Pipeline>, WireError> {
        let manifest = manifest.ok_or_else(|| WireError::validation("manifest is missing"))?;
        let converted = manifest_codec::convert(manifest)?;
        for note in &converted.notes {
            eprintln!("note: {note}");
        }
        match &self.catalog {
            Some(catalog) => catalog.pick(&converted.manifest),
            None => Ok(self.engine.compile(converted.manifest)?),
        }
    }
}

/// `ExecutionMetrics` and per-node results from a run's metrics.
pub fn wire_metrics(m: &PipelineMetrics) -> (ExecutionMetrics, Vec<NodeResult>) {
    let node_metrics = m
        .nodes
        .iter()
        .map(|n| {
            let custom =
                serde_json::json!({"calls": n.calls, "errors": n.errors, "retries": n.retries, "skipped": n.skipped});
            (
                n.id.clone(),
                NodeMetrics {
                    execution_time_ms: n.time_us.total / 1000.0,
                    memory_bytes: n.peak_memory_bytes,
                    samples_processed: 0,
                    custom_metrics: custom.to_string(),
                },
            )
        })
        .collect();
    let results = m
        .nodes
        .iter()
        .map(|n| NodeResult {
            node_id: n.id.clone(),
            status: match n.status {
                CoreNodeStatus::Ok => NodeStatus::Success,
                CoreNodeStatus::Skipped => NodeStatus::Skipped,
                CoreNodeStatus::Failed => NodeStatus::Failed,
            } as i32,
            error: None,
            output_metadata: String::new(),
        })
        .collect();
    let metrics = ExecutionMetrics {
        wall_time_ms: m.pipeline.wall_time_us / 1000.0,
        cpu_time_ms: 0.0,
        memory_used_bytes: m.pipeline.peak_memory_bytes,
        node_metrics,
        serialization_time_ms: 0.0,
    };
    (metrics, results)
}
