//! A real server on an ephemeral loopback port, and a tonic client for it.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use remotemedia_core::{Engine, Registry};
use remotemedia_remote::proto::pipeline_execution_service_client::PipelineExecutionServiceClient;
use remotemedia_remote::proto::stream_request::Request as In;
use remotemedia_remote::proto::stream_response::Response as Out;
use remotemedia_remote::proto::streaming_pipeline_service_client::StreamingPipelineServiceClient;
use remotemedia_remote::proto::{
    AudioBuffer, AudioChunk, AudioFormat, ManifestMetadata, NodeManifest, PipelineManifest, StreamControl, StreamInit,
    StreamRequest, StreamResponse,
};
use remotemedia_remote::{Server, ServerConfig};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Request, Status, Streaming};

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<()>,
}

impl TestServer {
    /// Starts a server on 127.0.0.1:0 with the built-in and audio nodes.
    pub async fn start(config: ServerConfig) -> Self {
        let mut registry = Registry::with_builtins();
        remotemedia_audio::register(&mut registry);
        let server = Server::bind("127.0.0.1:0".parse().unwrap(), Engine::new(registry), config)
            .await
            .expect("server binds");
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .serve(async {
                    let _ = stopped.await;
                })
                .await
                .expect("server runs");
        });
        Self {
            addr,
            stop: Some(stop),
            task,
        }
    }

    /// Begins the drain (as SIGTERM does).
    pub fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }

    /// Kills the server at once: every connection drops.
    pub fn kill(&self) {
        self.task.abort();
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn streaming(&self) -> StreamingPipelineServiceClient<Channel> {
        StreamingPipelineServiceClient::connect(self.endpoint())
            .await
            .expect("connects")
    }

    pub async fn execution(&self) -> PipelineExecutionServiceClient<Channel> {
        PipelineExecutionServiceClient::connect(self.endpoint())
            .await
            .expect("connects")
    }
}

/// A one-node manifest as an older client writes it.
pub fn manifest(node_type: &str, params: &str) -> PipelineManifest {
    PipelineManifest {
        version: "v1".into(),
        metadata: Some(ManifestMetadata {
            name: "test".into(),
            description: String::new(),
            created_at: "2024-01-01T00:00:00Z".into(),
        }),
        nodes: vec![NodeManifest {
            id: "n".into(),
            node_type: node_type.into(),
            params: params.into(),
            is_streaming: true,
            capabilities: None,
            host: String::new(),
            runtime_hint: 0,
        }],
        connections: vec![],
    }
}

pub fn init(manifest: PipelineManifest) -> StreamRequest {
    StreamRequest {
        request: Some(In::Init(StreamInit {
            manifest: Some(manifest),
            data_inputs: Default::default(),
            resource_limits: None,
            client_version: "test".into(),
            expected_chunk_size: 0,
        })),
    }
}

/// Mono f32 samples as a wire buffer.
pub fn f32_buffer(samples: &[f32], sample_rate: u32) -> AudioBuffer {
    AudioBuffer {
        samples: samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
        sample_rate,
        channels: 1,
        format: AudioFormat::F32 as i32,
        num_samples: samples.len() as u64,
    }
}

pub fn chunk(buffer: AudioBuffer, sequence: u64) -> StreamRequest {
    StreamRequest {
        request: Some(In::AudioChunk(AudioChunk {
            node_id: String::new(),
            buffer: Some(buffer),
            sequence,
            timestamp_ms: sequence * 20,
        })),
    }
}

pub fn control(command: remotemedia_remote::proto::stream_control::Command) -> StreamRequest {
    StreamRequest {
        request: Some(In::Control(StreamControl {
            command: command as i32,
        })),
    }
}

/// An open stream: requests go in through `tx`.
pub struct Stream {
    pub tx: mpsc::Sender<StreamRequest>,
    pub rx: Streaming<StreamResponse>,
}

impl Stream {
    /// Opens a stream (with `token` as bearer, if any); the requests queue
    /// holds `capacity` messages.
    pub async fn open(
        client: &mut StreamingPipelineServiceClient<Channel>,
        token: Option<&str>,
        capacity: usize,
    ) -> Result<Self, Status> {
        let (tx, rx) = mpsc::channel(capacity);
        let mut request = Request::new(ReceiverStream::new(rx));
        if let Some(t) = token {
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        let response = client.stream_pipeline(request).await?;
        Ok(Self {
            tx,
            rx: response.into_inner(),
        })
    }

    pub async fn send(&self, r: StreamRequest) {
        self.tx.send(r).await.expect("request stream open");
    }

    /// The next response, or the status that ended the call (`Ok(None)` at
    /// a clean end). Fails the test after 30 s.
    pub async fn next(&mut self) -> Result<Option<Out>, Status> {
        let m = tokio::time::timeout(Duration::from_secs(30), self.rx.message())
            .await
            .expect("a response within 30 s")?;
        Ok(m.map(|m| m.response.expect("a response has a body")))
    }
}

/// A server on a runtime of its own, so that killing it ends every task it
/// started (connections included), as a crashed process would.
pub struct IsolatedServer {
    pub addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl IsolatedServer {
    pub fn start(config: ServerConfig) -> Self {
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let mut registry = Registry::with_builtins();
            remotemedia_audio::register(&mut registry);
            let server = runtime
                .block_on(Server::bind(
                    "127.0.0.1:0".parse().unwrap(),
                    Engine::new(registry),
                    config,
                ))
                .expect("server binds");
            let addr = server.local_addr();
            runtime.spawn(server.serve(std::future::pending()));
            Self {
                addr,
                runtime: Some(runtime),
            }
        })
        .join()
        .unwrap()
    }

    /// Ends the server and all its connections at once.
    pub fn kill(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for IsolatedServer {
    fn drop(&mut self) {
        self.kill();
    }
}
