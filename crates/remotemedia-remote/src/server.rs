//! The server: the two `remotemedia.v1` services, `grpc.health.v1` and
//! reflection on one listener, with bearer-token auth and a graceful drain.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use remotemedia_core::Engine;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::interceptor::InterceptedService;
use tonic_health::ServingStatus;

use crate::auth::BearerAuth;
use crate::catalog::{Catalog, CatalogError};
use crate::execution_service::ExecutionService;
use crate::limits::Limits;
use crate::proto::FILE_DESCRIPTOR_SET;
use crate::proto::pipeline_execution_service_server::PipelineExecutionServiceServer;
use crate::proto::streaming_pipeline_service_server::StreamingPipelineServiceServer;
use crate::state::ServerState;
use crate::streaming_service::StreamingService;

/// How a server is set up.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Accepted bearer tokens; empty accepts every client.
    pub auth_tokens: Vec<String>,
    /// Most streams open at once; one more is refused with
    /// `RESOURCE_EXHAUSTED`.
    pub max_sessions: usize,
    /// The server's per-request ceilings.
    pub limits: Limits,
    /// With a directory: run only the manifests in it.
    pub pipelines: Option<PathBuf>,
    /// On shutdown, how long open streams may go on before they are closed.
    pub drain_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            auth_tokens: Vec::new(),
            max_sessions: 256,
            limits: Limits::default(),
            pipelines: None,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Why a server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `--pipelines` could not be loaded.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {message}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's message.
        message: String,
    },
    /// The reflection service could not be built.
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A server bound to its address, ready to serve.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    state: Arc<ServerState>,
    auth: BearerAuth,
    drain_timeout: Duration,
}

impl Server {
    /// Loads the pipelines (if any) and binds `addr` (port 0 picks a free
    /// port; see [`Self::local_addr`]).
    pub async fn bind(addr: SocketAddr, engine: Engine, config: ServerConfig) -> Result<Self, ServeError> {
        let catalog = match &config.pipelines {
            Some(dir) => Some(Catalog::load(dir, &engine)?),
            None => None,
        };
        let listener = TcpListener::bind(addr).await.map_err(|e| ServeError::Bind {
            addr,
            message: e.to_string(),
        })?;
        Ok(Self {
            listener,
            state: Arc::new(ServerState::new(
                engine,
                config.limits,
                catalog,
                config.max_sessions.max(1),
            )),
            auth: BearerAuth::new(config.auth_tokens),
            drain_timeout: config.drain_timeout,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// True when clients must send a bearer token.
    pub fn requires_auth(&self) -> bool {
        self.auth.is_enabled()
    }

    /// The names of the only pipelines served, with `--pipelines`.
    pub fn pipeline_names(&self) -> Option<Vec<String>> {
        self.state
            .catalog
            .as_ref()
            .map(|c| c.names().map(str::to_owned).collect())
    }

    /// Serves until `shutdown` completes, then drains: new streams and
    /// requests are refused (`UNAVAILABLE`) and health turns NOT_SERVING;
    /// open streams go on for up to the drain timeout, then are sent
    /// `closed` with the reason; then the server stops.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<PipelineExecutionServiceServer<ExecutionService>>()
            .await;
        health
            .set_serving::<StreamingPipelineServiceServer<StreamingService>>()
            .await;
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let max_message = self.state.limits.max_message_bytes();
        let execution = PipelineExecutionServiceServer::new(ExecutionService::new(Arc::clone(&self.state)))
            .max_decoding_message_size(max_message);
        let streaming = StreamingPipelineServiceServer::new(StreamingService::new(Arc::clone(&self.state)))
            .max_decoding_message_size(max_message);
        let auth = self.auth.clone();
        let check = move |r| auth.check(r);
        let state = Arc::clone(&self.state);
        let drain_timeout = self.drain_timeout;
        let drained = async move {
            shutdown.await;
            drain(&state, &health, drain_timeout).await;
        };
        // Small messages must leave at once: without TCP_NODELAY a result
        // waits for the client's delayed ACK (a 40 ms p99 on loopback).
        let incoming = TcpListenerStream::new(self.listener).map(|conn| {
            if let Ok(c) = &conn {
                let _ = c.set_nodelay(true);
            }
            conn
        });
        tonic::transport::Server::builder()
            .add_service(health_service)
            .add_service(reflection)
            .add_service(InterceptedService::new(execution, check.clone()))
            .add_service(InterceptedService::new(streaming, check))
            .serve_with_incoming_shutdown(incoming, drained)
            .await?;
        Ok(())
    }
}

/// How long forcibly closed streams get to end before the server stops.
const FORCE_CLOSE_GRACE: Duration = Duration::from_secs(2);

async fn drain(state: &ServerState, health: &tonic_health::server::HealthReporter, timeout: Duration) {
    state.draining.send_replace(true);
    for service in [
        "",
        "remotemedia.v1.PipelineExecutionService",
        "remotemedia.v1.StreamingPipelineService",
    ] {
        health.set_service_status(service, ServingStatus::NotServing).await;
    }
    eprintln!(
        "draining: {} open streams, up to {} ms",
        state.open_sessions(),
        timeout.as_millis()
    );
    if !wait_for_streams(state, timeout).await {
        eprintln!("drain timeout: closing {} open streams", state.open_sessions());
        state.force_close.send_replace(true);
        wait_for_streams(state, FORCE_CLOSE_GRACE).await;
    }
}

/// Waits until no stream is open (true) or `timeout` passes (false).
async fn wait_for_streams(state: &ServerState, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while state.open_sessions() > 0 {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}
