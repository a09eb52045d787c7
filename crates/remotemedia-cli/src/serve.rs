//! `remotemedia serve`: the gRPC server (remotemedia.v1, health,
//! reflection) on one engine.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use remotemedia_core::Engine;
use remotemedia_remote::{Server, ServerConfig};

/// Arguments of `remotemedia serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address bound is
    /// logged on stderr).
    #[arg(long, default_value = "127.0.0.1:50051")]
    bind: SocketAddr,
    /// A bearer token clients must send (repeat for several); without any,
    /// every client is accepted.
    #[arg(long = "auth-token", value_name = "T")]
    auth_tokens: Vec<String>,
    /// Most streams open at once; more are refused with RESOURCE_EXHAUSTED.
    #[arg(long, default_value_t = 256)]
    max_sessions: usize,
    /// Run only the manifests in this directory (requests name one by
    /// metadata.name with no nodes, or send it verbatim).
    #[arg(long, value_name = "DIR")]
    pipelines: Option<PathBuf>,
    /// On SIGTERM / Ctrl-C, how long open streams may go on, in ms.
    #[arg(long, default_value_t = 30_000)]
    drain_timeout_ms: u64,
    /// Serve the live metrics of the open streams (Prometheus text) on
    /// http://ADDR/metrics (port 0 picks a free port; the address is logged
    /// on stderr).
    #[arg(long, value_name = "ADDR")]
    metrics_bind: Option<String>,
}

/// Runs the server until SIGTERM or Ctrl-C, then drains.
pub fn serve(engine: &Engine, args: ServeArgs) -> ExitCode {
    let _metrics = match args
        .metrics_bind
        .as_deref()
        .map(crate::metrics_server::MetricsServer::start)
    {
        None => None,
        Some(Ok(server)) => {
            eprintln!("metrics: http://{}/metrics", server.addr());
            Some(server)
        }
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    let config = ServerConfig {
        auth_tokens: args.auth_tokens,
        max_sessions: args.max_sessions,
        pipelines: args.pipelines,
        drain_timeout: Duration::from_millis(args.drain_timeout_ms),
        ..ServerConfig::default()
    };
    let result = runtime.block_on(async {
        let server = Server::bind(args.bind, engine.clone(), config).await?;
        let shutdown = shutdown_signal();
        if !server.requires_auth() {
            eprintln!("warning: no --auth-token given: every client is accepted");
        }
        if let Some(names) = server.pipeline_names() {
            eprintln!("serving only the pipelines: {}", names.join(", "));
        }
        eprintln!("listening on {}", server.local_addr());
        server.serve(shutdown).await
    });
    match result {
        Ok(()) => {
            eprintln!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on Ctrl-C or (on Unix) SIGTERM. The handlers are installed
/// at once (within the runtime), so a signal sent as soon as the address is
/// logged already drains.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).expect("SIGTERM handler installs"),
            signal(SignalKind::interrupt()).expect("SIGINT handler installs"),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut term, mut int) = signals;
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        eprintln!("shutting down: draining open streams");
    }
}
