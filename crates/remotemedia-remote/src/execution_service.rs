//! `PipelineExecutionService`: a whole pipeline on whole inputs
//! (`ExecutePipeline`), and the server's version (`GetVersion`).
//!
//! Invalid manifests or inputs and node failures are answered in the
//! response's `error` (as `remotemedia.v1` clients expect); a limit, a
//! refused pipeline, the time limit and a draining server end the call with
//! the gRPC status instead (`RESOURCE_EXHAUSTED`, `PERMISSION_DENIED`,
//! `DEADLINE_EXCEEDED`, `UNAVAILABLE`).

use std::sync::Arc;

use remotemedia_core::executor::GraphRun;
use remotemedia_core::{RunOptions, RuntimeData};
use serde_json::Value;
use tonic::{Request, Response, Status};

use crate::audio_codec;
use crate::limits::Limits;
use crate::outputs;
use crate::proto::execute_response::Outcome;
use crate::proto::pipeline_execution_service_server::PipelineExecutionService;
use crate::proto::{
    ExecuteRequest, ExecuteResponse, ExecutionResult, ExecutionStatus, VersionInfo, VersionRequest, VersionResponse,
};
use crate::state::{ServerState, wire_metrics};
use crate::wire_error::{WireError, WireErrorKind};

/// The protocol version spoken.
pub const PROTOCOL_VERSION: &str = "v1";

/// The unary service.
#[derive(Debug, Clone)]
pub struct ExecutionService {
    state: Arc<ServerState>,
}

impl ExecutionService {
    /// The service over `state`.
    pub fn new(state: Arc<ServerState>) -> Self {
        Self { state }
    }

    async fn execute(&self, req: ExecuteRequest, limits: Limits) -> Result<ExecutionResult, WireError> {
        let pipeline = self.state.pipeline_for(req.manifest.as_ref())?;
        let mut inputs = Vec::new();
        let mut bytes = 0u64;
        let mut audio: Vec<_> = req.audio_inputs.iter().collect();
        audio.sort_by(|a, b| a.0.cmp(b.0));
        for (node_id, buffer) in audio {
            bytes += buffer.samples.len() as u64;
            if bytes > limits.max_memory_bytes {
                return Err(WireError::resource_limit(format!(
                    "audio_inputs: {bytes} bytes of samples exceed the request memory limit of {} bytes",
                    limits.max_memory_bytes
                )));
            }
            let where_ = format!("audio_inputs[\"{node_id}\"]");
            let a = audio_codec::decode(buffer, &where_, limits.max_audio_samples)?;
            inputs.push((node_id.clone(), RuntimeData::Audio(a)));
        }
        let mut data: Vec<_> = req.data_inputs.iter().collect();
        data.sort_by(|a, b| a.0.cmp(b.0));
        for (node_id, text) in data {
            let v = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()));
            inputs.push((node_id.clone(), RuntimeData::Json(v)));
        }
        if inputs.is_empty() {
            return Err(WireError::validation(
                "no inputs: give audio_inputs or data_inputs, keyed by the source node they enter",
            ));
        }
        let mut run = GraphRun::with_options(pipeline, RunOptions::default())?;
        let mut emitted = Vec::new();
        for (node_id, input) in inputs {
            run.push_to(&node_id, input, &mut emitted).await?;
        }
        run.flush(&mut emitted).await?;
        let maps = outputs::collect(&mut emitted)?;
        let (metrics, node_results) = wire_metrics(&run.metrics());
        Ok(ExecutionResult {
            audio_outputs: maps.audio,
            data_outputs: maps.data,
            metrics: Some(metrics),
            node_results,
            status: ExecutionStatus::Success as i32,
        })
    }
}

#[tonic::async_trait]
impl PipelineExecutionService for ExecutionService {
    async fn execute_pipeline(&self, request: Request<ExecuteRequest>) -> Result<Response<ExecuteResponse>, Status> {
        if *self.state.draining.borrow() {
            return Err(WireError::unavailable("server is shutting down").to_status());
        }
        let req = request.into_inner();
        let limits = self.state.limits.narrowed_by(req.resource_limits.as_ref());
        let outcome = match tokio::time::timeout(limits.timeout, self.execute(req, limits)).await {
            Ok(Ok(result)) => Outcome::Result(result),
            Ok(Err(e)) if matches!(e.kind, WireErrorKind::Validation | WireErrorKind::NodeExecution) => {
                Outcome::Error(e.to_response())
            }
            Ok(Err(e)) => return Err(e.to_status()),
            Err(_) => {
                return Err(WireError::timeout(format!(
                    "the pipeline did not finish within the request's time limit of {} ms",
                    limits.timeout.as_millis()
                ))
                .to_status());
            }
        };
        Ok(Response::new(ExecuteResponse { outcome: Some(outcome) }))
    }

    async fn get_version(&self, request: Request<VersionRequest>) -> Result<Response<VersionResponse>, Status> {
        let client = request.into_inner().client_version;
        let info = version_info(&self.state);
        // Every client of protocol v1 is served; the runtime version is informative.
        Ok(Response::new(VersionResponse {
            version_info: Some(info),
            compatible: true,
            compatibility_message: if client.is_empty() {
                "protocol v1".into()
            } else {
                format!("client {client} speaks protocol v1, which this server serves")
            },
        }))
    }
}

/// What `GetVersion` says about this server.
pub fn version_info(state: &ServerState) -> VersionInfo {
    let mut types: Vec<String> = state.engine.registry().names().map(str::to_owned).collect();
    types.sort();
    VersionInfo {
        protocol_version: PROTOCOL_VERSION.into(),
        runtime_version: env!("CARGO_PKG_VERSION").into(),
        supported_node_types: types,
        supported_protocols: vec!["grpc".into()],
        build_timestamp: String::new(),
    }
}
