//! Live metrics: what the running sessions of this process have measured so
//! far, for a snapshot of one session at any time and for scraping them all
//! (see [`crate::metrics::prometheus`]).
//!
//! A session's figures live in its own task, so a snapshot is a request: the
//! session publishes them at its next step (at once when it is idle, after
//! the node call in progress when it is busy) and the caller waits for that.
//! Nothing is published unless asked for, so an unobserved session pays one
//! check per step.
//!
//! Figures of ended sessions are folded into process totals, so that the
//! counters a scrape reports only ever grow.
//!
//! A run driven outside a [`super::Session`] (a server stream that answers
//! each chunk itself) joins the same figures through the same handle:
//! [`LiveSession::open`], then [`LiveSession::publish_run`] whenever
//! [`LiveSession::requested`] fires, and [`LiveSession::close_run`] at its
//! end.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::Notify;

use super::GraphRun;
use crate::metrics::{NodeMetrics, PipelineMetrics};
use crate::pipeline::Pipeline;
use crate::resilience::BreakerState;

/// How long a snapshot waits for a session to publish before it gives the
/// last figures it has (a node call that runs longer holds the session).
pub const SNAPSHOT_WAIT: Duration = Duration::from_secs(2);

/// What one session published.
#[derive(Debug, Clone, Default)]
pub(crate) struct Publication {
    /// The report, as [`crate::GraphRun::metrics`] gives it.
    pub(crate) report: Option<PipelineMetrics>,
    /// Per node, the counters behind it (with the call-time histograms).
    pub(crate) nodes: Vec<NodeMetrics>,
    pub(crate) chunks_in: u64,
    pub(crate) chunks_out: u64,
    pub(crate) dropped: u64,
}

impl Publication {
    /// What `run` measured, with the stream's counts.
    pub(crate) fn of(run: &GraphRun, counts: RunCounts) -> Self {
        Self {
            report: Some(run.metrics()),
            nodes: run.node_metrics(),
            chunks_in: counts.chunks_in,
            chunks_out: counts.chunks_out,
            dropped: counts.dropped,
        }
    }
}

/// The live side of one session: requests for its figures, and the last
/// figures it published. Cloned handles ([`LiveSession`]) share it.
#[derive(Debug)]
pub(crate) struct LiveState {
    pipeline: Arc<Pipeline>,
    requested: Notify,
    /// Set once the session has ended (its last publication is final).
    ended: AtomicBool,
    published: Mutex<(u64, Publication)>,
    changed: Condvar,
}

/// A handle on a session's live figures; see [`LiveSession::snapshot`].
#[derive(Debug, Clone)]
pub struct LiveSession(Arc<LiveState>);

/// The stream-level counts of a run driven outside a session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Chunks pushed into the run.
    pub chunks_in: u64,
    /// Sink outputs it produced.
    pub chunks_out: u64,
    /// Chunks dropped before they reached it.
    pub dropped: u64,
}

impl LiveSession {
    /// Registers a new session of `pipeline` with the process: it counts as
    /// open in every [`live_view`] until it is closed (for a run driven
    /// outside a session, [`Self::close_run`]). Dropping its last handle
    /// unclosed also takes it out of the view, figures and all, so the
    /// totals would miss them: close it on every way out.
    pub fn open(pipeline: Arc<Pipeline>) -> Self {
        let state = Arc::new(LiveState {
            pipeline,
            requested: Notify::new(),
            ended: AtomicBool::new(false),
            published: Mutex::new((0, Publication::default())),
            changed: Condvar::new(),
        });
        let mut registry = registry();
        registry.sessions.retain(|s| s.strong_count() > 0);
        registry.sessions.push(Arc::downgrade(&state));
        Self(state)
    }

    /// Resolves when a snapshot was requested (the session's task awaits it
    /// beside its next input, then publishes).
    pub async fn requested(&self) {
        self.0.requested.notified().await;
    }

    /// Stores what the session measured so far and wakes who waits for it.
    pub(crate) fn publish(&self, publication: Publication) {
        let mut published = lock(&self.0.published);
        published.0 += 1;
        published.1 = publication;
        drop(published);
        self.0.changed.notify_all();
    }

    /// The session ended with `last`: its figures join the process totals
    /// and it leaves the registry, in one step so that no scrape counts it
    /// twice or not at all.
    pub(crate) fn close(&self, last: Publication) {
        let mut registry = registry();
        let name = self.0.pipeline.manifest().metadata.name.clone().unwrap_or_default();
        registry.closed.chunks_in += last.chunks_in;
        registry.closed.chunks_out += last.chunks_out;
        registry.closed.dropped += last.dropped;
        for (i, m) in last.nodes.iter().enumerate() {
            let key = (name.clone(), self.0.pipeline.node_id(i).to_owned());
            registry.closed.nodes.entry(key).or_default().merge(m);
        }
        let me = Arc::as_ptr(&self.0);
        registry.sessions.retain(|s| s.as_ptr() != me && s.strong_count() > 0);
        drop(registry);
        self.0.ended.store(true, Ordering::Release);
        self.publish(last);
    }

    /// Publishes what `run` (driven outside a session) has measured so far.
    pub fn publish_run(&self, run: &GraphRun, counts: RunCounts) {
        self.publish(Publication::of(run, counts));
    }

    /// Ends a run driven outside a session: its figures join the process
    /// totals in the same step as it leaves the open ones, so no scrape
    /// counts it twice or not at all.
    pub fn close_run(&self, run: &GraphRun, counts: RunCounts) {
        self.close(Publication::of(run, counts));
    }

    /// The session's metrics now: asks its task to publish and waits for it
    /// (at most [`SNAPSHOT_WAIT`]; then the last figures it published).
    /// `None` before it has published anything. Blocks the calling thread:
    /// call it off the session's own runtime thread.
    pub fn snapshot(&self) -> Option<PipelineMetrics> {
        self.request_and_wait(SNAPSHOT_WAIT).report
    }

    fn request(&self) -> u64 {
        let generation = lock(&self.0.published).0;
        self.0.requested.notify_one();
        generation
    }

    fn wait_after(&self, generation: u64, limit: Duration) -> Publication {
        let published = lock(&self.0.published);
        if self.0.ended.load(Ordering::Acquire) {
            return published.1.clone();
        }
        let (published, _) = self
            .0
            .changed
            .wait_timeout_while(published, limit, |p| p.0 == generation)
            .unwrap_or_else(PoisonError::into_inner);
        published.1.clone()
    }

    fn request_and_wait(&self, limit: Duration) -> Publication {
        let generation = self.request();
        self.wait_after(generation, limit)
    }
}

/// Every session of the process, and what ended ones measured.
#[derive(Default)]
struct Registry {
    sessions: Vec<Weak<LiveState>>,
    closed: Totals,
}

/// Figures summed over sessions.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Chunks pushed into sessions.
    pub chunks_in: u64,
    /// Outputs sessions delivered.
    pub chunks_out: u64,
    /// Chunks dropped by drop-oldest sends.
    pub dropped: u64,
    /// Per (pipeline name, node id).
    pub nodes: BTreeMap<(String, String), NodeMetrics>,
}

/// What a scrape sees: totals over every session of the process, ended or
/// running, and the state of the running ones' breakers.
#[derive(Debug, Clone, Default)]
pub struct LiveView {
    /// Sessions running now.
    pub sessions_open: u64,
    /// Totals since the process started.
    pub totals: Totals,
    /// Circuit breaker state per (pipeline name, node id) of the pipelines
    /// that have running sessions.
    pub breakers: BTreeMap<(String, String), BreakerState>,
}

/// Asks every running session for its figures, waits for them (at most
/// `limit` in all), and adds them to those of ended sessions.
pub fn live_view(limit: Duration) -> LiveView {
    let sessions: Vec<LiveSession> = registry()
        .sessions
        .iter()
        .filter_map(Weak::upgrade)
        .map(LiveSession)
        .collect();
    let generations: Vec<u64> = sessions.iter().map(LiveSession::request).collect();
    let deadline = std::time::Instant::now() + limit;
    let publications: Vec<Publication> = sessions
        .iter()
        .zip(generations)
        .map(|(s, g)| s.wait_after(g, deadline.saturating_duration_since(std::time::Instant::now())))
        .collect();
    let registry = registry();
    let mut view = LiveView {
        sessions_open: 0,
        totals: registry.closed.clone(),
        breakers: BTreeMap::new(),
    };
    for (session, p) in sessions.iter().zip(publications) {
        // Closed since we asked: its figures are in the totals already.
        if !registry.sessions.iter().any(|s| s.as_ptr() == Arc::as_ptr(&session.0)) {
            continue;
        }
        view.sessions_open += 1;
        view.totals.chunks_in += p.chunks_in;
        view.totals.chunks_out += p.chunks_out;
        view.totals.dropped += p.dropped;
        let pipeline = &session.0.pipeline;
        let name = pipeline.manifest().metadata.name.clone().unwrap_or_default();
        for i in 0..pipeline.graph().len() {
            let key = (name.clone(), pipeline.node_id(i).to_owned());
            if let Some(m) = p.nodes.get(i) {
                view.totals.nodes.entry(key.clone()).or_default().merge(m);
            }
            view.breakers.insert(key, pipeline.policy(i).breaker.state());
        }
    }
    view
}

fn registry() -> MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    lock(REGISTRY.get_or_init(Mutex::default))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every writer leaves the figures consistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
