//! `StreamingPipelineService.StreamPipeline`: one live session per stream.
//!
//! Each stream owns one run of its pipeline, driven by a task that reads the
//! next request only once the previous chunk's result is queued for sending,
//! and whose response queue is small and bounded. A client that stops
//! reading therefore fills that queue, the task stops reading requests, and
//! HTTP/2 flow control stops the client: server memory per stream stays
//! bounded. (The task drives a `GraphRun` rather than an engine `Session`:
//! the protocol answers every input chunk with exactly one `result`, and a
//! run's `push_to` tells which outputs came from which chunk, which a
//! session's output queue does not.)
//!
//! Sequence: `init` -> `ready`; each `audio_chunk` -> one `result` (empty
//! maps if the chunk produced nothing); `COMMAND_CLOSE` (or the client
//! ending its side) -> the flushed tail as one more `result` carrying the
//! last chunk's sequence (only if the flush produced anything), `metrics`,
//! `closed`. `COMMAND_CANCEL` -> `closed` at once. Outputs of the init's
//! `data_inputs` arrive with the first chunk's result. A protocol error is
//! sent as an `error` message, then the call ends with the matching gRPC
//! status. A client that vanishes ends the task and frees the session.
//!
//! Each stream with a running pipeline is a session of the process's live
//! metrics ([`remotemedia_core::executor::live_view`], scraped by `serve
//! --metrics-bind`): it publishes its figures when a scrape asks, between
//! chunks, and folds them into the process totals when it ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use remotemedia_core::executor::{LiveSession, RunCounts};
use remotemedia_core::{GraphRun, RunOptions, RuntimeData, SinkOutput};
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::audio_codec;
use crate::limits::Limits;
use crate::outputs;
use crate::proto::stream_control::Command;
use crate::proto::stream_request::Request as In;
use crate::proto::stream_response::Response as Out;
use crate::proto::streaming_pipeline_service_server::StreamingPipelineService;
use crate::proto::{
    AudioChunk, ChunkResult, ExecutionMetrics, StreamClosed, StreamInit, StreamMetrics, StreamReady, StreamRequest,
    StreamResponse,
};
use crate::state::{ServerState, wire_metrics};
use crate::wire_error::WireError;

/// Responses that may wait for a slow reader before the session stops
/// reading requests.
const RESPONSE_QUEUE: usize = 8;

/// How long `closed` waits for room in the response queue.
const CLOSED_WAIT: Duration = Duration::from_secs(1);

/// Chunk size (frames) suggested when the client does not say: 20 ms at
/// 48 kHz.
const DEFAULT_CHUNK: u64 = 960;

/// How long a finished stream waits for the client to end its side;
/// whatever the client still sends meanwhile is discarded.
const INPUT_END_WAIT: Duration = Duration::from_secs(2);

/// The streaming service.
#[derive(Debug, Clone)]
pub struct StreamingService {
    state: Arc<ServerState>,
}

impl StreamingService {
    /// The service over `state`.
    pub fn new(state: Arc<ServerState>) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl StreamingPipelineService for StreamingService {
    type StreamPipelineStream = ReceiverStream<Result<StreamResponse, Status>>;

    async fn stream_pipeline(
        &self,
        request: Request<Streaming<StreamRequest>>,
    ) -> Result<Response<Self::StreamPipelineStream>, Status> {
        let (permit, session_id) = self.state.admit().map_err(|e| e.to_status())?;
        let (tx, rx) = mpsc::channel(RESPONSE_QUEUE);
        let stream = StreamTask {
            force_close: self.state.force_close.subscribe(),
            state: Arc::clone(&self.state),
            session_id,
            tx,
        };
        let mut inbound = request.into_inner();
        tokio::spawn(async move {
            // `run` ends the response (its sender is dropped with it), so a
            // client waiting for the trailers before it ends its own side
            // gets them.
            stream.run(&mut inbound).await;
            drop(permit);
            // Then wait for the client's end of the request stream before
            // letting go of it: an HTTP/2 stream the server stops reading
            // while the client's side is still open stays in the
            // connection's stream table until the connection closes (about
            // 0.5 KiB per stream, on every long-lived connection whose
            // client reads the whole response before ending its requests).
            let _ = tokio::time::timeout(INPUT_END_WAIT, async {
                while let Ok(Some(_)) = inbound.message().await {}
            })
            .await;
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// What the next read from the client gave.
enum Next {
    Message(Box<StreamRequest>),
    /// The client ended its side.
    End,
    /// The call failed (the client vanished or reset the stream).
    Gone,
    /// The server's drain timeout passed.
    ForceClose,
}

/// How a stream ends.
enum Ending {
    /// Flush, send the tail, metrics and `closed` with this reason.
    Close(&'static str),
    /// Send `closed` with this reason, nothing else.
    Drop(String),
    /// Nobody is listening.
    Gone,
    /// A protocol error: send it.
    Fail(WireError),
}

struct StreamTask {
    state: Arc<ServerState>,
    session_id: String,
    tx: mpsc::Sender<Result<StreamResponse, Status>>,
    force_close: watch::Receiver<bool>,
}

/// Per-stream counters.
#[derive(Default)]
struct Counters {
    chunks: u64,
    samples: u64,
    busy: Duration,
    last_sequence: u64,
    /// Sink outputs produced.
    outputs: u64,
}

impl Counters {
    fn live(&self) -> RunCounts {
        RunCounts {
            chunks_in: self.chunks,
            chunks_out: self.outputs,
            dropped: 0,
        }
    }
}

impl StreamTask {
    async fn run(mut self, inbound: &mut Streaming<StreamRequest>) {
        let init = match self.next(inbound).await {
            Next::Message(m) => match *m {
                StreamRequest {
                    request: Some(In::Init(init)),
                } => init,
                other => {
                    let e = WireError::validation(format!(
                        "the first message of a stream must be init, got {}",
                        kind(&other)
                    ));
                    return self.fail(e).await;
                }
            },
            Next::ForceClose => return self.closed("server shutting down".into(), None).await,
            Next::End | Next::Gone => return,
        };
        let limits = self.state.limits.narrowed_by(init.resource_limits.as_ref());
        let (mut run, mut pending) = match self.start(&init).await {
            Ok(started) => started,
            Err(e) => return self.fail(e).await,
        };
        let ready = StreamReady {
            session_id: self.session_id.clone(),
            recommended_chunk_size: if init.expected_chunk_size > 0 {
                init.expected_chunk_size
            } else {
                DEFAULT_CHUNK
            },
            max_buffer_latency_ms: limits.timeout.as_millis() as u64,
        };
        if !self.send(Out::Ready(ready)).await {
            return;
        }
        let live = LiveSession::open(Arc::clone(run.pipeline()));
        let mut counters = Counters::default();
        let ending = loop {
            let next = loop {
                tokio::select! {
                    biased;
                    () = live.requested() => live.publish_run(&run, counters.live()),
                    next = self.next(inbound) => break next,
                }
            };
            let request = match next {
                Next::Message(m) => m.request,
                Next::End => break Ending::Close("input ended"),
                Next::Gone => break Ending::Gone,
                Next::ForceClose => break Ending::Drop("server shutting down: drain timeout passed".into()),
            };
            let step = match request {
                Some(In::AudioChunk(chunk)) => self.chunk(&mut run, &mut pending, chunk, limits, &mut counters).await,
                Some(In::Init(_)) => Err(WireError::validation("a second init: a stream takes exactly one")),
                Some(In::Control(c)) => match Command::try_from(c.command) {
                    Ok(Command::Close) => break Ending::Close("closed by client"),
                    Ok(Command::Cancel) => break Ending::Drop("cancelled by client".into()),
                    _ => Err(WireError::validation(format!(
                        "control: unknown command {} (expected COMMAND_CLOSE or COMMAND_CANCEL)",
                        c.command
                    ))),
                },
                None => Err(WireError::validation(
                    "an empty StreamRequest (no init, audio_chunk or control)",
                )),
            };
            match step {
                Ok(true) => {}
                Ok(false) => break Ending::Gone,
                Err(e) => break Ending::Fail(e),
            }
        };
        let failure = match ending {
            Ending::Gone => None,
            Ending::Fail(e) => Some(e),
            Ending::Drop(reason) => {
                self.closed(reason, Some(wire_metrics(&run.metrics()).0)).await;
                None
            }
            Ending::Close(reason) => match self.finish(&mut run, &mut pending, limits, &mut counters).await {
                Err(e) => Some(e),
                Ok(()) => {
                    self.closed(reason.into(), Some(wire_metrics(&run.metrics()).0)).await;
                    None
                }
            },
        };
        live.close_run(&run, counters.live());
        if let Some(e) = failure {
            self.fail(e).await;
        }
    }

    /// Builds the run and feeds the init's `data_inputs`.
    async fn start(&self, init: &StreamInit) -> Result<(GraphRun, Vec<SinkOutput>), WireError> {
        let pipeline = self.state.pipeline_for(init.manifest.as_ref())?;
        let mut run = GraphRun::with_options(pipeline, RunOptions::default())?;
        let mut pending = Vec::new();
        let mut data: Vec<_> = init.data_inputs.iter().collect();
        data.sort_by(|a, b| a.0.cmp(b.0));
        for (node_id, text) in data {
            let v = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()));
            run.push_to(node_id, RuntimeData::Json(v), &mut pending).await?;
        }
        Ok((run, pending))
    }

    /// Processes one chunk and sends its result; false if nobody listens.
    async fn chunk(
        &mut self,
        run: &mut GraphRun,
        pending: &mut Vec<SinkOutput>,
        chunk: AudioChunk,
        limits: Limits,
        counters: &mut Counters,
    ) -> Result<bool, WireError> {
        let seq = chunk.sequence;
        let where_ = format!("audio_chunk (sequence {seq})");
        let buffer = chunk
            .buffer
            .ok_or_else(|| WireError::validation(format!("{where_}: buffer is missing")))?;
        if buffer.samples.len() as u64 > limits.max_memory_bytes {
            return Err(WireError::resource_limit(format!(
                "{where_}: {} bytes exceed the memory limit of {} bytes",
                buffer.samples.len(),
                limits.max_memory_bytes
            )));
        }
        let audio = audio_codec::decode(&buffer, &where_, limits.max_audio_samples)?;
        let samples = audio.frames() as u64 * audio.channels() as u64;
        let started = Instant::now();
        let push = async {
            if chunk.node_id.is_empty() {
                run.push(RuntimeData::Audio(audio), pending).await
            } else {
                run.push_to(&chunk.node_id, RuntimeData::Audio(audio), pending).await
            }
        };
        match tokio::time::timeout(limits.timeout, push).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(WireError::timeout(format!(
                    "{where_}: not processed within the time limit of {} ms",
                    limits.timeout.as_millis()
                )));
            }
        }
        let busy = started.elapsed();
        counters.chunks += 1;
        counters.samples += samples;
        counters.busy += busy;
        counters.last_sequence = seq;
        counters.outputs += pending.len() as u64;
        let maps = outputs::collect(pending)?;
        let result = ChunkResult {
            sequence: seq,
            audio_outputs: maps.audio,
            data_outputs: maps.data,
            processing_time_ms: busy.as_secs_f64() * 1e3,
            total_samples_processed: counters.samples,
        };
        Ok(self.send(Out::Result(result)).await)
    }

    /// Flushes the run and sends the tail (if any) and the metrics.
    async fn finish(
        &mut self,
        run: &mut GraphRun,
        pending: &mut Vec<SinkOutput>,
        limits: Limits,
        counters: &mut Counters,
    ) -> Result<(), WireError> {
        match tokio::time::timeout(limits.timeout, run.flush(pending)).await {
            Ok(r) => r?,
            Err(_) => return Err(WireError::timeout("flush: not finished within the time limit")),
        }
        if !pending.is_empty() {
            counters.outputs += pending.len() as u64;
            let maps = outputs::collect(pending)?;
            let tail = ChunkResult {
                sequence: counters.last_sequence,
                audio_outputs: maps.audio,
                data_outputs: maps.data,
                processing_time_ms: 0.0,
                total_samples_processed: counters.samples,
            };
            if !self.send(Out::Result(tail)).await {
                return Ok(());
            }
        }
        let metrics = run.metrics();
        let average = if counters.chunks == 0 {
            0.0
        } else {
            counters.busy.as_secs_f64() * 1e3 / counters.chunks as f64
        };
        self.send(Out::Metrics(StreamMetrics {
            session_id: self.session_id.clone(),
            chunks_processed: counters.chunks,
            average_latency_ms: average,
            total_samples: counters.samples,
            buffer_samples: 0,
            chunks_dropped: 0,
            peak_memory_bytes: metrics.pipeline.peak_memory_bytes,
        }))
        .await;
        Ok(())
    }

    /// Sends `closed`, waiting at most [`CLOSED_WAIT`] for a client that is
    /// not reading (it is sent after a forced close too).
    async fn closed(&mut self, reason: String, final_metrics: Option<ExecutionMetrics>) {
        let closed = Out::Closed(StreamClosed {
            session_id: self.session_id.clone(),
            final_metrics,
            reason,
        });
        let message = Ok(StreamResponse { response: Some(closed) });
        let _ = tokio::time::timeout(CLOSED_WAIT, self.tx.send(message)).await;
    }

    /// Sends an `error` message, then ends the call with the gRPC status.
    async fn fail(mut self, e: WireError) {
        if self.send(Out::Error(e.to_response())).await {
            let _ = self.tx.send(Err(e.to_status())).await;
        }
    }

    /// Queues a response, waiting while the client is not reading (unless
    /// the drain timeout passes); false if nobody is listening any more.
    async fn send(&mut self, response: Out) -> bool {
        let message = Ok(StreamResponse {
            response: Some(response),
        });
        tokio::select! {
            sent = self.tx.send(message) => sent.is_ok(),
            _ = self.force_close.wait_for(|&f| f) => false,
        }
    }

    async fn next(&mut self, inbound: &mut Streaming<StreamRequest>) -> Next {
        tokio::select! {
            biased;
            _ = self.force_close.wait_for(|&f| f) => Next::ForceClose,
            m = inbound.message() => match m {
                Ok(Some(m)) => Next::Message(Box::new(m)),
                Ok(None) => Next::End,
                Err(_) => Next::Gone,
            },
        }
    }
}

fn kind(r: &StreamRequest) -> &'static str {
    match r.request {
        Some(In::Init(_)) => "init",
        Some(In::AudioChunk(_)) => "audio_chunk",
        Some(In::Control(_)) => "control",
        None => "an empty message",
    }
}
