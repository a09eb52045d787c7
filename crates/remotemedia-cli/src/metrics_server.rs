//! `--metrics-bind ADDR`: the process's live metrics in the Prometheus text
//! format on `http://ADDR/metrics`, served by `tiny_http` on a thread of its
//! own (a scrape waits for the sessions to publish, off their runtime).

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use remotemedia_core::executor::live_view;
use remotemedia_core::metrics::prometheus;
use tiny_http::{Header, Response, Server};

/// How long one scrape waits for the running sessions' figures.
const SCRAPE_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// A running metrics endpoint; stopped when dropped.
pub struct MetricsServer {
    server: Arc<Server>,
    thread: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

impl MetricsServer {
    /// Listens on `addr` (port 0: any free port; see [`Self::addr`]).
    pub fn start(addr: &str) -> Result<Self, String> {
        let server = Arc::new(Server::http(addr).map_err(|e| format!("--metrics-bind {addr}: {e}"))?);
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| format!("--metrics-bind {addr}: not an IP address"))?;
        let serving = Arc::clone(&server);
        let thread = std::thread::Builder::new()
            .name("remotemedia-metrics".into())
            .spawn(move || serve(&serving))
            .map_err(|e| format!("cannot start the metrics thread: {e}"))?;
        Ok(Self {
            server,
            thread: Some(thread),
            addr,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(server: &Server) {
    for request in server.incoming_requests() {
        let response = if request.url() == "/metrics" {
            let text = prometheus::encode(live_view(SCRAPE_WAIT));
            let header = Header::from_bytes("Content-Type", prometheus::CONTENT_TYPE).expect("a valid header");
            Response::from_string(text).with_header(header)
        } else {
            Response::from_string("not found; the metrics are at /metrics\n").with_status_code(404)
        };
        tracing::debug!(url = request.url(), method = %request.method(), "metrics request");
        // A client that hung up is no concern of ours.
        let _ = request.respond(response);
    }
}
