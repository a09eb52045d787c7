//! [`Client`]: calls a `remotemedia serve` server (or any `remotemedia.v1`
//! server) from Rust: a whole pipeline on whole inputs
//! ([`Client::execute`]), or a live stream ([`Client::open_stream`]).
//!
//! Audio goes out and comes back as the engine's [`AudioData`], data as
//! JSON. Every failure is a [`ClientError`] naming the server and saying
//! whether it is worth retrying (the same classes as
//! [`crate::RemotePipelineNode`]: `UNAVAILABLE`, `DEADLINE_EXCEEDED`,
//! `RESOURCE_EXHAUSTED`, a lost connection and a timeout are transient;
//! refusals and failed nodes are fatal).
//!
//! The connection is plain HTTP/2 (`h2c`), as `remotemedia serve` speaks:
//! TLS, where wanted, is terminated in front of the servers (a proxy or a
//! service mesh).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use remotemedia_core::{AudioData, Manifest};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status, Streaming};

use crate::audio_codec;
use crate::manifest_codec;
use crate::proto::execute_response::Outcome;
use crate::proto::pipeline_execution_service_client::PipelineExecutionServiceClient;
use crate::proto::stream_control::Command;
use crate::proto::stream_request::Request as In;
use crate::proto::stream_response::Response as Out;
use crate::proto::streaming_pipeline_service_client::StreamingPipelineServiceClient;
use crate::proto::{
    AudioBuffer, AudioChunk, ErrorResponse, ErrorType, ExecuteRequest, PipelineManifest, StreamControl, StreamInit,
    StreamRequest, StreamResponse,
};

/// Requests a stream may have queued for sending before
/// [`StreamSender::send`] waits (the rest is HTTP/2 flow control).
const SEND_QUEUE: usize = 16;

/// The version this client reports to servers.
const CLIENT_VERSION: &str = concat!("remotemedia-client ", env!("CARGO_PKG_VERSION"));

/// How to reach a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Sent as `authorization: Bearer <token>`.
    pub auth_token: Option<String>,
    /// Longest connecting, one `execute`, or waiting for a stream's `ready`
    /// or its next message may take.
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            auth_token: None,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Whether a failed call is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The server was unreachable, busy, too slow or went away.
    Transient,
    /// The request was refused or a node failed: retrying gives the same.
    Fatal,
}

/// A failed call: the server, what went wrong, and its class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{endpoint}: {message}")]
pub struct ClientError {
    /// The server (`host:port`).
    pub endpoint: String,
    /// What went wrong (the server's own message where it sent one).
    pub message: String,
    /// Transient or fatal.
    pub class: ErrorClass,
    /// The gRPC status code, when the call ended with one.
    pub code: Option<Code>,
    /// The node at fault, when the server named one.
    pub node_id: Option<String>,
}

impl ClientError {
    fn new(endpoint: &str, class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            message: message.into(),
            class,
            code: None,
            node_id: None,
        }
    }

    fn from_status(endpoint: &str, status: &Status) -> Self {
        let class = match status.code() {
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Unknown
            | Code::Internal
            | Code::Cancelled => ErrorClass::Transient,
            _ => ErrorClass::Fatal,
        };
        Self {
            code: Some(status.code()),
            ..Self::new(endpoint, class, format!("{:?}: {}", status.code(), status.message()))
        }
    }

    fn from_response(endpoint: &str, e: &ErrorResponse) -> Self {
        let kind = ErrorType::try_from(e.error_type).unwrap_or(ErrorType::Unspecified);
        let class = match kind {
            ErrorType::ResourceLimit | ErrorType::Internal => ErrorClass::Transient,
            _ => ErrorClass::Fatal,
        };
        Self {
            node_id: (!e.failing_node_id.is_empty()).then(|| e.failing_node_id.clone()),
            ..Self::new(endpoint, class, format!("{}: {}", kind.as_str_name(), e.message))
        }
    }

    /// True when retrying (on this or another server) may succeed.
    pub fn is_transient(&self) -> bool {
        self.class == ErrorClass::Transient
    }
}

/// Inputs of [`Client::execute`], by the node they enter.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Audio by node id.
    pub audio: HashMap<String, AudioData>,
    /// Data (sent as JSON text) by node id.
    pub data: HashMap<String, Value>,
}

/// Outputs of a run or of one stream chunk, by the sink that produced them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs {
    /// Audio by sink id.
    pub audio: BTreeMap<String, AudioData>,
    /// Data by sink id (JSON; a text that is not JSON is a string).
    pub data: BTreeMap<String, Value>,
}

/// The outputs of one input chunk of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkOutputs {
    /// The sequence number of the input chunk (as [`StreamSender::send`]
    /// returned it).
    pub sequence: u64,
    /// What the pipeline's sinks produced for it.
    pub outputs: Outputs,
}

/// A connection to one server.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: String,
    channel: Channel,
    auth: Option<MetadataValue<Ascii>>,
    timeout: Duration,
}

impl Client {
    /// Connects to `endpoint` (`host:port`, or `http://host:port`).
    pub async fn connect(endpoint: &str, options: ClientOptions) -> Result<Self, ClientError> {
        let address = endpoint.strip_prefix("http://").unwrap_or(endpoint);
        let valid = address
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
        if !valid {
            return Err(ClientError::new(
                endpoint,
                ErrorClass::Fatal,
                "the endpoint must be host:port with a port in 1..=65535",
            ));
        }
        if options.timeout.is_zero() {
            return Err(ClientError::new(
                endpoint,
                ErrorClass::Fatal,
                "the timeout must be positive",
            ));
        }
        let auth = options
            .auth_token
            .as_deref()
            .map(|t| {
                format!("Bearer {t}").parse().map_err(|_| {
                    ClientError::new(
                        endpoint,
                        ErrorClass::Fatal,
                        "auth_token: not a valid header value (printable ASCII only)",
                    )
                })
            })
            .transpose()?;
        let channel = Endpoint::from_shared(format!("http://{address}"))
            .map_err(|e| ClientError::new(endpoint, ErrorClass::Fatal, format!("not a valid address: {e}")))?
            .connect_timeout(options.timeout)
            .connect()
            .await
            .map_err(|e| ClientError::new(address, ErrorClass::Transient, format!("cannot connect: {e}")))?;
        Ok(Self {
            endpoint: address.to_owned(),
            channel,
            auth,
            timeout: options.timeout,
        })
    }

    /// The server's `host:port`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        if let Some(auth) = &self.auth {
            request.metadata_mut().insert("authorization", auth.clone());
        }
        request
    }

    fn error(&self, class: ErrorClass, message: impl Into<String>) -> ClientError {
        ClientError::new(&self.endpoint, class, message)
    }

    /// Runs `manifest` on the server over `inputs` (each fed to the node it
    /// is keyed by) and returns what its sinks produced.
    pub async fn execute(&self, manifest: &Manifest, inputs: &Inputs) -> Result<Outputs, ClientError> {
        let request = ExecuteRequest {
            manifest: Some(manifest_codec::to_wire(manifest)),
            audio_inputs: inputs
                .audio
                .iter()
                .map(|(id, a)| (id.clone(), audio_codec::encode(a)))
                .collect(),
            data_inputs: inputs.data.iter().map(|(id, v)| (id.clone(), v.to_string())).collect(),
            resource_limits: None,
            client_version: CLIENT_VERSION.into(),
        };
        let mut client = PipelineExecutionServiceClient::new(self.channel.clone());
        let call = client.execute_pipeline(self.request(request));
        let response = tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|s| ClientError::from_status(&self.endpoint, &s))?
            .into_inner();
        match response.outcome {
            Some(Outcome::Result(r)) => self.outputs(r.audio_outputs, r.data_outputs),
            Some(Outcome::Error(e)) => Err(ClientError::from_response(&self.endpoint, &e)),
            None => Err(self.error(ErrorClass::Fatal, "the server sent an empty response")),
        }
    }

    /// Opens a live stream of `manifest` on the server and waits for it to
    /// be ready.
    pub async fn open_stream(&self, manifest: &Manifest) -> Result<(StreamSender, StreamReceiver), ClientError> {
        self.open_wire_stream(manifest_codec::to_wire(manifest)).await
    }

    /// Opens a live stream of one of the server's `--pipelines`, by name.
    pub async fn open_named_stream(&self, name: &str) -> Result<(StreamSender, StreamReceiver), ClientError> {
        let manifest = PipelineManifest {
            version: "v1".into(),
            metadata: Some(crate::proto::ManifestMetadata {
                name: name.to_owned(),
                ..Default::default()
            }),
            nodes: Vec::new(),
            connections: Vec::new(),
        };
        self.open_wire_stream(manifest).await
    }

    async fn open_wire_stream(
        &self,
        manifest: PipelineManifest,
    ) -> Result<(StreamSender, StreamReceiver), ClientError> {
        let (tx, rx) = mpsc::channel(SEND_QUEUE);
        let init = StreamRequest {
            request: Some(In::Init(StreamInit {
                manifest: Some(manifest),
                data_inputs: HashMap::new(),
                resource_limits: None,
                client_version: CLIENT_VERSION.into(),
                expected_chunk_size: 0,
            })),
        };
        tx.send(init).await.expect("a new queue has room for init");
        let mut client = StreamingPipelineServiceClient::new(self.channel.clone());
        let mut receiver = StreamReceiver {
            endpoint: self.endpoint.clone(),
            timeout: self.timeout,
            rx: None,
            closed: false,
        };
        let call = client.stream_pipeline(self.request(ReceiverStream::new(rx)));
        let inbound = tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|s| ClientError::from_status(&self.endpoint, &s))?
            .into_inner();
        receiver.rx = Some(inbound);
        let session_id = match receiver.message().await? {
            Some(Out::Ready(ready)) => ready.session_id,
            Some(other) => {
                return Err(self.error(ErrorClass::Fatal, format!("expected ready, got {other:?}")));
            }
            None => return Err(self.error(ErrorClass::Transient, "the server ended the stream before ready")),
        };
        let sender = StreamSender {
            endpoint: self.endpoint.clone(),
            session_id,
            tx: Some(tx),
            sequence: 0,
        };
        Ok((sender, receiver))
    }

    fn timed_out(&self) -> ClientError {
        self.error(
            ErrorClass::Transient,
            format!("no answer within {} ms", self.timeout.as_millis()),
        )
    }

    fn outputs(
        &self,
        audio: HashMap<String, AudioBuffer>,
        data: HashMap<String, String>,
    ) -> Result<Outputs, ClientError> {
        outputs(&self.endpoint, audio, data)
    }
}

/// Decodes the two output maps of a result.
fn outputs(
    endpoint: &str,
    audio: HashMap<String, AudioBuffer>,
    data: HashMap<String, String>,
) -> Result<Outputs, ClientError> {
    let audio = audio
        .into_iter()
        .map(|(sink, buffer)| {
            audio_codec::decode(&buffer, &format!("audio_outputs[\"{sink}\"]"), u64::MAX)
                .map(|a| (sink, a))
                .map_err(|e| {
                    ClientError::new(
                        endpoint,
                        ErrorClass::Fatal,
                        format!("the server sent bad audio: {}", e.message),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    let data = data
        .into_iter()
        .map(|(sink, text)| {
            let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
            (sink, v)
        })
        .collect();
    Ok(Outputs { audio, data })
}

/// The sending half of a stream: audio chunks in, then [`close`](Self::close).
#[derive(Debug)]
pub struct StreamSender {
    endpoint: String,
    session_id: String,
    tx: Option<mpsc::Sender<StreamRequest>>,
    sequence: u64,
}

impl StreamSender {
    /// The server's id of this session.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Sends one chunk into the node `node_id` (`""`: the pipeline's
    /// source); returns its sequence number. Waits while the server is
    /// behind (flow control).
    pub async fn send(&mut self, node_id: &str, audio: &AudioData) -> Result<u64, ClientError> {
        let sequence = self.sequence;
        let chunk = StreamRequest {
            request: Some(In::AudioChunk(AudioChunk {
                node_id: node_id.to_owned(),
                buffer: Some(audio_codec::encode(audio)),
                sequence,
                timestamp_ms: 0,
            })),
        };
        self.push(chunk).await?;
        self.sequence += 1;
        Ok(sequence)
    }

    /// Asks the server to flush and close the stream (`COMMAND_CLOSE`): the
    /// receiver gets the remaining results, then its end. Sending after
    /// this is an error.
    pub async fn close(&mut self) -> Result<(), ClientError> {
        self.control(Command::Close).await
    }

    /// Asks the server to drop everything (`COMMAND_CANCEL`).
    pub async fn cancel(&mut self) -> Result<(), ClientError> {
        self.control(Command::Cancel).await
    }

    async fn control(&mut self, command: Command) -> Result<(), ClientError> {
        let request = StreamRequest {
            request: Some(In::Control(StreamControl {
                command: command as i32,
            })),
        };
        self.push(request).await?;
        self.tx = None;
        Ok(())
    }

    async fn push(&mut self, request: StreamRequest) -> Result<(), ClientError> {
        let tx = self.tx.as_ref().ok_or_else(|| {
            ClientError::new(
                &self.endpoint,
                ErrorClass::Fatal,
                "the stream was already closed by this client",
            )
        })?;
        tx.send(request).await.map_err(|_| {
            ClientError::new(
                &self.endpoint,
                ErrorClass::Transient,
                "the stream has ended (the receiver reports why)",
            )
        })
    }
}

/// The receiving half of a stream: one [`ChunkOutputs`] per input chunk,
/// in order, then `None` once the server closed the stream.
#[derive(Debug)]
pub struct StreamReceiver {
    endpoint: String,
    timeout: Duration,
    rx: Option<Streaming<StreamResponse>>,
    closed: bool,
}

impl StreamReceiver {
    /// The next chunk's outputs; `None` after the server's `closed`. Waits
    /// at most the client's timeout for each message.
    pub async fn next(&mut self) -> Result<Option<ChunkOutputs>, ClientError> {
        loop {
            match self.message().await? {
                Some(Out::Result(r)) => {
                    let outputs = outputs(&self.endpoint, r.audio_outputs, r.data_outputs)?;
                    return Ok(Some(ChunkOutputs {
                        sequence: r.sequence,
                        outputs,
                    }));
                }
                Some(Out::Closed(_)) => {
                    self.closed = true;
                    return Ok(None);
                }
                Some(Out::Ready(_) | Out::Metrics(_)) => {}
                Some(Out::Error(_)) => unreachable!("message() turns errors into Err"),
                None => return Ok(None),
            }
        }
    }

    /// The next message; `None` once the stream has ended after `closed`.
    async fn message(&mut self) -> Result<Option<Out>, ClientError> {
        if self.closed {
            return Ok(None);
        }
        let Some(rx) = self.rx.as_mut() else {
            return Ok(None);
        };
        let endpoint = self.endpoint.as_str();
        let next = tokio::time::timeout(self.timeout, rx.message()).await.map_err(|_| {
            ClientError::new(
                endpoint,
                ErrorClass::Transient,
                format!("no message from the server within {} ms", self.timeout.as_millis()),
            )
        })?;
        match next {
            Ok(Some(StreamResponse {
                response: Some(Out::Error(e)),
            })) => {
                let mut error = ClientError::from_response(endpoint, &e);
                // The status that ends the call carries the class.
                if let Ok(Err(status)) = tokio::time::timeout(self.timeout, rx.message()).await {
                    let by_status = ClientError::from_status(endpoint, &status);
                    error.class = by_status.class;
                    error.code = by_status.code;
                }
                self.closed = true;
                Err(error)
            }
            Ok(Some(StreamResponse { response: Some(r) })) => Ok(Some(r)),
            Ok(Some(StreamResponse { response: None })) => Err(ClientError::new(
                endpoint,
                ErrorClass::Fatal,
                "the server sent an empty response",
            )),
            Ok(None) => {
                self.closed = true;
                Err(ClientError::new(
                    endpoint,
                    ErrorClass::Transient,
                    "the server ended the stream without closing it",
                ))
            }
            Err(status) => {
                self.closed = true;
                Err(ClientError::from_status(endpoint, &status))
            }
        }
    }
}
