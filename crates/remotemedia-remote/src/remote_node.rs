//! `RemotePipelineNode`: runs a pipeline (or one node) on `remotemedia
//! serve` servers, as a node of a local pipeline.
//!
//! Each instance (one per session or run of the local pipeline) holds one
//! remote stream, opened at its first input on the next healthy endpoint in
//! turn (see [`EndpointPool`]). Every input (audio) is sent as one chunk and
//! the call returns that chunk's outputs: audio outputs as audio, data
//! outputs as JSON, both of one sink as annotated audio when the data are
//! the JSON of a registered kind of annotation (e.g. VAD results, see
//! [`remotemedia_core::annotation::from_json`]).
//!
//! Failures: gRPC `UNAVAILABLE`, `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`, a
//! stream the server ended, and transport errors are transient (so the
//! node's retry, circuit breaker and `on_failure` apply); `INVALID_ARGUMENT`,
//! `UNAUTHENTICATED`, `PERMISSION_DENIED` and a failed remote node
//! (`ABORTED`) are fatal. A transient failure drops the stream and benches
//! its endpoint for [`crate::endpoint_pool::COOLDOWN`]; the engine's retry
//! then resets the node and calls it again, which opens a new stream on the
//! next healthy endpoint and re-sends the chunk. The remote pipeline's state
//! (filter history, an open speech segment) restarts with the new stream.
//!
//! A call blocks its thread for the round trip; the network work runs on a
//! small runtime of this crate's own, so the node works under any caller.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use remotemedia_core::annotation;
use remotemedia_core::params::{NodeParams, ParamError};
use remotemedia_core::{Manifest, NodeError, NodeType, Registry, RuntimeData};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::MetadataValue;
use tonic::transport::Endpoint;
use tonic::{Code, Request, Status, Streaming};

use crate::audio_codec;
use crate::endpoint_pool::EndpointPool;
use crate::manifest_codec;
use crate::proto::stream_control::Command;
use crate::proto::stream_request::Request as In;
use crate::proto::stream_response::Response as Out;
use crate::proto::streaming_pipeline_service_client::StreamingPipelineServiceClient;
use crate::proto::{
    AudioChunk, ChunkResult, ManifestMetadata, PipelineManifest, StreamControl, StreamInit, StreamRequest,
    StreamResponse,
};

/// Params of [`RemotePipelineNode`]. Give exactly one of `manifest`,
/// `pipeline` and `node_type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteParams {
    /// Servers, as `host:port`; sessions spread over the healthy ones.
    pub endpoints: Vec<String>,
    /// The remote pipeline, inline (a v1 manifest).
    pub manifest: Option<Value>,
    /// The remote pipeline, by the `metadata.name` of one of the server's
    /// `--pipelines`.
    pub pipeline: Option<String>,
    /// The remote pipeline as one node of this type (with `params`).
    pub node_type: Option<String>,
    /// Params of `node_type`.
    pub params: Map<String, Value>,
    /// Bearer token sent to the servers.
    pub auth_token: Option<String>,
    /// Longest one chunk's round trip (or connecting) may take, in ms.
    pub timeout_ms: u64,
}

impl Default for RemoteParams {
    fn default() -> Self {
        Self {
            endpoints: Vec::new(),
            manifest: None,
            pipeline: None,
            node_type: None,
            params: Map::new(),
            auth_token: None,
            timeout_ms: 5_000,
        }
    }
}

impl NodeParams for RemoteParams {
    fn validate(&self) -> Result<(), ParamError> {
        if self.endpoints.is_empty() {
            return Err(ParamError::new("endpoints", "give at least one host:port"));
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            let ok = e
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
            if !ok {
                return Err(ParamError::new(
                    format!("endpoints[{i}]"),
                    format!("{e:?} is not host:port"),
                ));
            }
        }
        let given = [
            self.manifest.is_some(),
            self.pipeline.is_some(),
            self.node_type.is_some(),
        ];
        if given.iter().filter(|&&g| g).count() != 1 {
            return Err(ParamError::new(
                "manifest",
                "give exactly one of manifest (inline), pipeline (a server's pipeline name) and node_type",
            ));
        }
        if let Some(m) = &self.manifest {
            Manifest::from_value(m.clone()).map_err(|e| ParamError::new("manifest", e.to_string()))?;
        }
        if self.timeout_ms == 0 {
            return Err(ParamError::new("timeout_ms", "must be positive"));
        }
        Ok(())
    }
}

/// Registers `RemotePipelineNode`. Instances naming the same endpoint list
/// share one [`EndpointPool`], so round robin and health span sessions.
pub fn register(registry: &mut Registry) {
    let pools: Mutex<HashMap<Vec<String>, Arc<EndpointPool>>> = Mutex::new(HashMap::new());
    registry.register(
        NodeType::new::<RemoteParams>(
            "RemotePipelineNode",
            "Runs a pipeline (inline, a server's named pipeline, or one node) on remotemedia serve servers; fails over between endpoints.",
        )
        .native(move |p: RemoteParams| {
            let pool = Arc::clone(
                pools
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(p.endpoints.clone())
                    .or_insert_with(|| Arc::new(EndpointPool::new(p.endpoints.clone()))),
            );
            RemotePipelineNode::new(p, pool).map(|n| Box::new(n) as Box<dyn remotemedia_core::Node>)
        }),
    );
}

/// The node (see the module docs).
#[derive(Debug)]
pub struct RemotePipelineNode {
    target: Arc<Target>,
    conn: Option<Conn>,
    sequence: u64,
}

/// Where and what to run.
#[derive(Debug)]
struct Target {
    pool: Arc<EndpointPool>,
    manifest: PipelineManifest,
    auth: Option<MetadataValue<tonic::metadata::Ascii>>,
    timeout: Duration,
}

/// One open remote stream.
#[derive(Debug)]
struct Conn {
    endpoint: usize,
    tx: mpsc::Sender<StreamRequest>,
    rx: Streaming<StreamResponse>,
}

impl RemotePipelineNode {
    /// A node over `pool` (which must hold `params.endpoints`).
    pub fn new(params: RemoteParams, pool: Arc<EndpointPool>) -> Result<Self, String> {
        let manifest = if let Some(m) = params.manifest {
            manifest_codec::to_wire(&Manifest::from_value(m).map_err(|e| e.to_string())?)
        } else if let Some(name) = params.pipeline {
            PipelineManifest {
                version: "v1".into(),
                metadata: Some(ManifestMetadata {
                    name,
                    ..Default::default()
                }),
                nodes: Vec::new(),
                connections: Vec::new(),
            }
        } else {
            let node_type = params.node_type.unwrap_or_default();
            let single =
                json!({"version": "v1", "nodes": [{"id": "remote", "node_type": node_type, "params": params.params}]});
            manifest_codec::to_wire(&Manifest::from_value(single).map_err(|e| e.to_string())?)
        };
        let auth = params
            .auth_token
            .map(|t| {
                format!("Bearer {t}")
                    .parse()
                    .map_err(|_| "auth_token: not a valid header value".to_owned())
            })
            .transpose()?;
        Ok(Self {
            target: Arc::new(Target {
                pool,
                manifest,
                auth,
                timeout: Duration::from_millis(params.timeout_ms),
            }),
            conn: None,
            sequence: 0,
        })
    }

    fn exchange(&mut self, request: Exchange) -> Result<Vec<RuntimeData>, NodeError> {
        let target = Arc::clone(&self.target);
        let conn = self.conn.take();
        let (conn, result) = on_io_runtime(async move { target.exchange(conn, request).await });
        self.conn = conn;
        result
    }
}

impl remotemedia_core::Node for RemotePipelineNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let audio = input
            .audio()
            .ok_or_else(|| NodeError::invalid_input("RemotePipelineNode", "audio", input.kind()))?;
        let sequence = self.sequence;
        self.sequence += 1;
        let chunk = StreamRequest {
            request: Some(In::AudioChunk(AudioChunk {
                node_id: String::new(),
                buffer: Some(audio_codec::encode(audio)),
                sequence,
                timestamp_ms: 0,
            })),
        };
        out.extend(self.exchange(Exchange::Chunk(sequence, Box::new(chunk)))?);
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        if self.conn.is_some() {
            out.extend(self.exchange(Exchange::Close)?);
            self.conn = None;
        }
        Ok(())
    }

    /// Drops the remote stream: the next input opens a new one (on the next
    /// healthy endpoint), with fresh remote state.
    fn reset(&mut self) {
        self.conn = None;
    }
}

/// What one call asks of the stream.
enum Exchange {
    /// Send this chunk, return its result.
    Chunk(u64, Box<StreamRequest>),
    /// Close the stream, return the flushed tail.
    Close,
}

impl Target {
    /// Runs one exchange, opening a stream first if there is none. Hands
    /// the stream back unless it failed.
    async fn exchange(
        &self,
        conn: Option<Conn>,
        request: Exchange,
    ) -> (Option<Conn>, Result<Vec<RuntimeData>, NodeError>) {
        let mut conn = match conn {
            Some(c) => c,
            None => match self.connect().await {
                Ok(c) => c,
                Err(e) => return (None, Err(e)),
            },
        };
        let endpoint = conn.endpoint;
        let result = match tokio::time::timeout(self.timeout, Self::run(&mut conn, request)).await {
            Ok(r) => r,
            Err(_) => Err(NodeError::transient(format!(
                "{}: no result within {} ms",
                self.pool.address(endpoint),
                self.timeout.as_millis()
            ))),
        };
        match result {
            Ok(outputs) => {
                self.pool.mark_up(endpoint);
                (Some(conn), Ok(outputs))
            }
            Err(e) => {
                if e.is_transient() {
                    self.pool.mark_down(endpoint);
                }
                let e = prefixed(&e, self.pool.address(endpoint));
                (None, Err(e))
            }
        }
    }

    async fn run(conn: &mut Conn, request: Exchange) -> Result<Vec<RuntimeData>, NodeError> {
        match request {
            Exchange::Chunk(sequence, chunk) => {
                conn.tx
                    .send(*chunk)
                    .await
                    .map_err(|_| NodeError::transient("the stream to the server has ended"))?;
                loop {
                    match next(&mut conn.rx).await? {
                        Out::Result(r) if r.sequence == sequence => return decode(r),
                        Out::Closed(c) => {
                            return Err(NodeError::transient(format!(
                                "the server closed the stream: {}",
                                c.reason
                            )));
                        }
                        _ => {}
                    }
                }
            }
            Exchange::Close => {
                let close = StreamRequest {
                    request: Some(In::Control(StreamControl {
                        command: Command::Close as i32,
                    })),
                };
                conn.tx
                    .send(close)
                    .await
                    .map_err(|_| NodeError::transient("the stream to the server has ended"))?;
                let mut outputs = Vec::new();
                loop {
                    match next(&mut conn.rx).await? {
                        Out::Result(r) => outputs.extend(decode(r)?),
                        Out::Closed(_) => return Ok(outputs),
                        _ => {}
                    }
                }
            }
        }
    }

    /// Opens a stream on the next healthy endpoint and waits for `ready`.
    async fn connect(&self) -> Result<Conn, NodeError> {
        let (endpoint, address) = self.pool.pick();
        let attempt = async {
            let channel = Endpoint::from_shared(format!("http://{address}"))
                .map_err(|e| NodeError::fatal(format!("endpoint {address:?}: {e}")))?
                .connect_timeout(self.timeout)
                .connect()
                .await
                .map_err(|e| NodeError::transient(format!("cannot connect: {e}")))?;
            let mut client = StreamingPipelineServiceClient::new(channel);
            let (tx, rx) = mpsc::channel(4);
            let init = StreamRequest {
                request: Some(In::Init(StreamInit {
                    manifest: Some(self.manifest.clone()),
                    data_inputs: Default::default(),
                    resource_limits: None,
                    client_version: concat!("remotemedia-remote ", env!("CARGO_PKG_VERSION")).into(),
                    expected_chunk_size: 0,
                })),
            };
            tx.send(init).await.expect("the queue has room for init");
            let mut request = Request::new(ReceiverStream::new(rx));
            if let Some(auth) = &self.auth {
                request.metadata_mut().insert("authorization", auth.clone());
            }
            let mut inbound = client.stream_pipeline(request).await.map_err(classify)?.into_inner();
            match next(&mut inbound).await? {
                Out::Ready(_) => Ok(Conn {
                    endpoint,
                    tx,
                    rx: inbound,
                }),
                other => Err(NodeError::fatal(format!("expected ready, got {other:?}"))),
            }
        };
        let result = match tokio::time::timeout(self.timeout, attempt).await {
            Ok(r) => r,
            Err(_) => Err(NodeError::transient(format!(
                "no ready within {} ms",
                self.timeout.as_millis()
            ))),
        };
        result.map_err(|e| {
            if e.is_transient() {
                self.pool.mark_down(endpoint);
            }
            prefixed(&e, address)
        })
    }
}

/// The next response; an `error` message (with the status after it) or a
/// failed call becomes a classified error.
async fn next(rx: &mut Streaming<StreamResponse>) -> Result<Out, NodeError> {
    match rx.message().await {
        Ok(Some(StreamResponse {
            response: Some(Out::Error(e)),
        })) => {
            let status = match rx.message().await {
                Err(status) => status,
                _ => Status::unknown(e.message.clone()),
            };
            Err(classify(Status::new(status.code(), e.message)))
        }
        Ok(Some(StreamResponse { response: Some(r) })) => Ok(r),
        Ok(Some(StreamResponse { response: None })) => Err(NodeError::fatal("the server sent an empty response")),
        Ok(None) => Err(NodeError::transient("the server ended the stream")),
        Err(status) => Err(classify(status)),
    }
}

/// `e` with `prefix` (the endpoint) before its message, same class.
fn prefixed(e: &NodeError, prefix: &str) -> NodeError {
    let message = format!("{prefix}: {}", e.message());
    if e.is_transient() {
        NodeError::transient(message)
    } else {
        NodeError::fatal(message)
    }
}

/// Transient or fatal, by gRPC code (see the module docs).
fn classify(status: Status) -> NodeError {
    let message = format!("{:?}: {}", status.code(), status.message());
    match status.code() {
        Code::InvalidArgument
        | Code::Unauthenticated
        | Code::PermissionDenied
        | Code::Aborted
        | Code::NotFound
        | Code::Unimplemented
        | Code::FailedPrecondition
        | Code::OutOfRange
        | Code::AlreadyExists => NodeError::fatal(message),
        _ => NodeError::transient(message),
    }
}

/// A chunk result's outputs: per sink (in id order), its audio (annotated
/// if its data are an annotation's JSON), or its data as JSON.
fn decode(r: ChunkResult) -> Result<Vec<RuntimeData>, NodeError> {
    let sinks: BTreeSet<&String> = r.audio_outputs.keys().chain(r.data_outputs.keys()).collect();
    let mut outputs = Vec::new();
    for sink in sinks {
        let data = r
            .data_outputs
            .get(sink)
            .map(|t| serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.clone())));
        match r.audio_outputs.get(sink) {
            Some(buffer) => {
                let audio = audio_codec::decode(buffer, &format!("audio_outputs[\"{sink}\"]"), u64::MAX)
                    .map_err(|e| NodeError::fatal(format!("the server sent bad audio: {}", e.message)))?;
                match data.map(|d| annotation::from_json(&d).ok_or(d)) {
                    Some(Ok(annotation)) => outputs.push(RuntimeData::Annotated { audio, annotation }),
                    Some(Err(d)) => {
                        outputs.push(RuntimeData::Audio(audio));
                        outputs.push(RuntimeData::Json(d));
                    }
                    None => outputs.push(RuntimeData::Audio(audio)),
                }
            }
            None => outputs.extend(data.map(RuntimeData::Json)),
        }
    }
    Ok(outputs)
}

/// Runs `future` to completion on this crate's network runtime, blocking
/// the calling thread (which may belong to another runtime) until it ends.
fn on_io_runtime<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> T {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("remotemedia-remote-io")
            .enable_all()
            .build()
            .expect("the network runtime starts")
    });
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = tx.send(future.await);
    });
    rx.recv().expect("a network task always answers")
}

#[cfg(test)]
mod tests {
    use remotemedia_audio::nodes::{SpeechSegment, VadInfo};
    use remotemedia_core::{AudioData, SinkOutput};

    use super::*;
    use crate::outputs;

    fn round_trip(data: RuntimeData) -> Vec<RuntimeData> {
        let maps = outputs::collect(&mut vec![SinkOutput {
            node_id: Arc::from("sink"),
            data,
        }])
        .unwrap();
        decode(ChunkResult {
            sequence: 0,
            audio_outputs: maps.audio,
            data_outputs: maps.data,
            processing_time_ms: 0.0,
            total_samples_processed: 0,
        })
        .unwrap()
    }

    #[test]
    fn annotations_of_a_registered_kind_come_back_typed_and_other_data_as_json() {
        remotemedia_audio::register(&mut Registry::new());
        let audio = AudioData::mono_f32(vec![0.25; 480], 16_000).unwrap();
        let info = VadInfo {
            is_speech: true,
            speech_frames: 1,
            total_frames: 1,
            segments: vec![SpeechSegment {
                start: 0.0,
                end: 0.03,
                energy_db: -12.5,
            }],
            frame_decisions: vec![true],
        };
        let back = round_trip(RuntimeData::Annotated {
            audio: audio.clone(),
            annotation: Arc::new(info.clone()),
        });
        let [RuntimeData::Annotated { audio: a, annotation }] = back.as_slice() else {
            panic!("{back:?}")
        };
        assert_eq!((a, annotation.downcast_ref::<VadInfo>()), (&audio, Some(&info)));
        assert_eq!(back[0].kind(), "vad");

        let back = round_trip(RuntimeData::Json(json!({"is_speech": true})));
        assert_eq!(back, [RuntimeData::Json(json!({"is_speech": true}))]);
    }
}
